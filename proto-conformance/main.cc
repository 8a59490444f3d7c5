// webpush-conformance: runs one scenario per black-box-checkable requirement of the Web Push
// checklist (RFC 8030, 8292, 8291, 8188 and the aesgcm / VAPID drafts) against any push
// service and prints the verdicts. Exit status: 0 when no MUST / MUST NOT of a claimed feature
// failed, 1 when one did, 2 on usage errors. Built on tools/client only.

#include <fnmatch.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "proto-conformance/context.h"
#include "proto-conformance/report.h"
#include "proto-conformance/suite.h"

using namespace conformance;

namespace {

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    return bool(out.flush());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "webpush-conformance: Web Push (RFC 8030/8291/8292/8188) conformance suite "
        "for any push service"};
    Options opt;
    std::string profile = "compat", ua = "websocket", report, markdown, cacert, claims = "all";
    std::vector<std::string> only;
    bool insecure = false, list = false;
    double timeout_s = 10;
    app.add_option("--target", opt.target,
                   "push service base URL (or its subscribe resource), e.g. https://host:8443")
        ->required();
    app.add_option("--profile", profile,
                   "expectations where the RFC and deployed services "
                   "differ: strict (RFC letter) or compat")
        ->check(CLI::IsMember({"strict", "compat"}));
    app.add_option("--ua", ua, "user agent used to observe delivery: websocket or rfc8030")
        ->check(CLI::IsMember({"websocket", "rfc8030"}));
    std::string via = "rfc8030";
    app.add_option("--subscribe-via", via,
                   "how subscriptions are made: rfc8030 (RFC 8030 §4 / --ua) or web-push-testing "
                   "(npm web-push-testing's POST /subscribe and /get-notifications; rows that "
                   "need RFC 8030 subscribe or monitoring are then skipped)")
        ->check(CLI::IsMember({"rfc8030", "web-push-testing"}));
    app.add_option("--only", only, "run only IDs matching these globs (e.g. 'R8030-5.2*')")
        ->delimiter(',');
    app.add_option("--report", report, "write the results as JSON to FILE");
    app.add_option("--markdown", markdown, "write the conformance table as Markdown to FILE");
    app.add_option("--cacert", cacert, "trust this CA (PEM) for the target's TLS certificate");
    app.add_flag("--insecure", insecure, "do not verify the target's TLS certificate");
    app.add_option("--control", opt.control,
                   "control interface base URL (e.g. https://host:8443/_testdouble)");
    app.add_option("--timeout", timeout_s, "seconds per request (default 10)");
    app.add_option("--claim", claims,
                   "features the target claims (comma list of core, delivery, monitor, "
                   "urgency-filter, receipts, sets, control; default all): a failing MUST of an "
                   "unclaimed feature is reported but does not fail the run");
    app.add_flag("--list", list, "list the scenarios and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::cerr << "webpush-conformance: " << e.what() << " (see --help)\n";
        return 2;
    }
    opt.profile = profile == "strict" ? Profile::strict : Profile::compat;
    opt.ua = ua == "rfc8030" ? UaKind::rfc8030 : UaKind::websocket;
    if (via == "web-push-testing") opt.subscribe_via = SubscribeVia::web_push_testing;
    opt.net.tls.ca_file = cacert;
    opt.net.tls.insecure = insecure;
    opt.net.timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));

    std::set<std::string> claimed;
    for (auto& c : split(claims)) claimed.insert(c);
    auto is_claimed = [&](const std::string& f) {
        return claimed.count("all") > 0 || claimed.count(f) > 0;
    };

    Registry all = all_scenarios();
    std::vector<const Scenario*> selected;
    for (const auto& s : all) {
        bool match = only.empty();
        for (const auto& g : only)
            if (fnmatch(g.c_str(), s.id.c_str(), 0) == 0) match = true;
        if (match) selected.push_back(&s);
    }
    if (list) {
        for (const auto* s : selected)
            std::cout << s->id << "\t" << to_string(s->level) << "\t" << s->feature << "\t"
                      << s->title << "\n";
        return 0;
    }
    if (selected.empty()) {
        std::cerr << "webpush-conformance: --only matched no scenario\n";
        return 2;
    }

    std::unique_ptr<Context> ctx;
    try {
        ctx = std::make_unique<Context>(opt);
    } catch (const std::exception& e) {
        std::cerr << "webpush-conformance: " << e.what() << "\n";
        return 2;
    }
    std::vector<ResultRow> rows;
    for (const auto* s : selected) {
        ResultRow row{s->id, std::string(to_string(s->level)), s->feature, s->title, {}, true,
                      false};
        row.claimed = is_claimed(s->feature);
        row.mandatory = is_mandatory(s->level);
        ctx->take_transcript();
        ctx->take_missing();
        try {
            row.outcome = s->run(*ctx);
        } catch (const std::exception& e) {
            row.outcome = fail(std::string("scenario error: ") + e.what());
        }
        if (auto missing = ctx->take_missing();
            !missing.empty() && row.outcome.verdict != Verdict::pass)
            row.outcome = skipped(missing + " (scenario said: " + row.outcome.reason + ")");
        row.outcome.evidence = ctx->take_transcript();
        // A scenario that moved the target's clock must not skew the next ones.
        if (ctx->control() && ctx->control()->clock_moved()) (void)ctx->control()->reset_clock();
        std::cerr << s->id << " " << to_string(row.outcome.verdict) << "\n";
        rows.push_back(std::move(row));
    }
    RunInfo info{opt.target, profile, ua, opt.control, claims};
    std::cout << render_console(info, rows);
    if (!report.empty() && !write_file(report, render_json(info, rows))) {
        std::cerr << "webpush-conformance: cannot write " << report << "\n";
        return 2;
    }
    if (!markdown.empty() && !write_file(markdown, render_markdown(info, rows))) {
        std::cerr << "webpush-conformance: cannot write " << markdown << "\n";
        return 2;
    }
    for (const auto& r : rows)
        if (r.counts()) return 1;
    return 0;
}
