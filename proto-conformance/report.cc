#include "proto-conformance/report.h"

#include <boost/json.hpp>

#include <map>

namespace conformance {
namespace {

std::string verdict_text(const ResultRow& r) {
    std::string v(to_string(r.outcome.verdict));
    if (r.outcome.verdict == Verdict::fail && !r.claimed) v += " (unclaimed: " + r.feature + ")";
    return v;
}

std::string one_line(std::string s) {
    for (auto& c : s)
        if (c == '\n') c = ' ';
    return s;
}

std::string md_cell(std::string s) {
    std::string out;
    for (char c : one_line(std::move(s))) {
        if (c == '|')
            out += "\\|";
        else
            out += c;
    }
    return out;
}

struct Counts {
    int pass = 0, fail = 0, na = 0, skip = 0, must_fail = 0, unclaimed_fail = 0;
};

Counts count(const std::vector<ResultRow>& rows) {
    Counts c;
    for (const auto& r : rows) {
        switch (r.outcome.verdict) {
            case Verdict::pass:
                ++c.pass;
                break;
            case Verdict::fail:
                ++c.fail;
                if (r.counts()) ++c.must_fail;
                if (!r.claimed) ++c.unclaimed_fail;
                break;
            case Verdict::not_applicable:
                ++c.na;
                break;
            case Verdict::skipped:
                ++c.skip;
                break;
        }
    }
    return c;
}

std::string summary(const std::vector<ResultRow>& rows) {
    Counts c = count(rows);
    return std::to_string(rows.size()) + " scenarios: " + std::to_string(c.pass) + " pass, " +
           std::to_string(c.fail) + " fail (" + std::to_string(c.must_fail) +
           " MUST-level in claimed features, " + std::to_string(c.unclaimed_fail) +
           " in unclaimed features), " + std::to_string(c.na) + " not applicable, " +
           std::to_string(c.skip) + " skipped";
}

}  // namespace

std::string_view to_string(Level level) {
    switch (level) {
        case Level::must:
            return "MUST";
        case Level::must_not:
            return "MUST NOT";
        case Level::should:
            return "SHOULD";
        case Level::may:
            return "MAY";
        case Level::impl:
            return "impl.";
        case Level::info:
            return "info";
    }
    return "?";
}

std::string_view to_string(Verdict verdict) {
    switch (verdict) {
        case Verdict::pass:
            return "pass";
        case Verdict::fail:
            return "fail";
        case Verdict::not_applicable:
            return "n/a";
        case Verdict::skipped:
            return "skipped";
    }
    return "?";
}

std::string render_console(const RunInfo& info, const std::vector<ResultRow>& rows) {
    std::string out = "webpush-conformance: " + info.target + " (profile " + info.profile +
                      ", ua " + info.ua + ")\n";
    char line[512];
    for (const auto& r : rows) {
        std::snprintf(line, sizeof line, "%-16s %-8s %-26s %s\n", r.id.c_str(), r.level.c_str(),
                      verdict_text(r).c_str(), one_line(r.outcome.reason).substr(0, 110).c_str());
        out += line;
    }
    for (const auto& r : rows) {
        if (r.outcome.verdict != Verdict::fail) continue;
        out += "\n--- " + r.id + " (" + r.level + "): " + r.outcome.reason + "\n";
        for (const auto& e : r.outcome.evidence)
            out += ">>> sent\n" + e.sent + "\n<<< received\n" + e.received + "\n";
    }
    out += "\n" + summary(rows) + "\n";
    return out;
}

std::string render_json(const RunInfo& info, const std::vector<ResultRow>& rows) {
    boost::json::array results;
    for (const auto& r : rows) {
        boost::json::array evidence;
        for (const auto& e : r.outcome.evidence)
            evidence.push_back(boost::json::object{{"sent", e.sent}, {"received", e.received}});
        results.push_back(boost::json::object{{"id", r.id},
                                              {"level", r.level},
                                              {"feature", r.feature},
                                              {"claimed", r.claimed},
                                              {"title", r.title},
                                              {"verdict", to_string(r.outcome.verdict)},
                                              {"reason", r.outcome.reason},
                                              {"evidence", std::move(evidence)}});
    }
    Counts c = count(rows);
    boost::json::object doc{{"target", info.target},
                            {"profile", info.profile},
                            {"ua", info.ua},
                            {"claims", info.claims},
                            {"summary", boost::json::object{{"pass", c.pass},
                                                            {"fail", c.fail},
                                                            {"must_fail_claimed", c.must_fail},
                                                            {"fail_unclaimed", c.unclaimed_fail},
                                                            {"not_applicable", c.na},
                                                            {"skipped", c.skip}}},
                            {"results", std::move(results)}};
    return boost::json::serialize(doc) + "\n";
}

std::string render_markdown(const RunInfo& info, const std::vector<ResultRow>& rows) {
    std::string out;
    out += "Target `" + info.target + "`, profile `" + info.profile + "`, user agent `" + info.ua +
           "`, claimed features `" + info.claims + "`" +
           (info.control.empty() ? std::string(", no control interface")
                                 : ", control interface `" + info.control + "`") +
           ".\n\n" + summary(rows) + ".\n\n";
    out += "| ID | Level | Feature | Requirement | Verdict | Notes |\n";
    out += "| --- | --- | --- | --- | --- | --- |\n";
    for (const auto& r : rows) {
        out +=
            "| " + r.id + " | " + r.level + " | " + r.feature + " | " + md_cell(r.title) + " | " +
            (r.outcome.verdict == Verdict::fail ? "**" + verdict_text(r) + "**" : verdict_text(r)) +
            " | " + md_cell(r.outcome.reason) + " |\n";
    }
    bool any = false;
    for (const auto& r : rows) {
        if (r.outcome.verdict != Verdict::fail) continue;
        if (!any) out += "\n#### Failures: what was sent and what came back\n";
        any = true;
        out += "\n**" + r.id + "** (" + r.level + ", " + verdict_text(r) +
               "): " + one_line(r.outcome.reason) + "\n";
        std::size_t n = r.outcome.evidence.size();
        std::size_t from = n > 4 ? n - 4 : 0;  // the last exchanges explain the failure
        for (std::size_t i = from; i < n; ++i) {
            out += "\n```\n>>> " + r.outcome.evidence[i].sent + "\n<<< " +
                   r.outcome.evidence[i].received + "\n```\n";
        }
    }
    return out;
}

}  // namespace conformance
