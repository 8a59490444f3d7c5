// The WebSocket-side benchmarks of pushsvc-loadgen: delivery latency, idle UAs + reconnect
// storm, backlog drain. See BENCHMARKS.md for what each number means.

#include <atomic>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <mutex>
#include <thread>

#include "tools/bench/loadgen/commands.h"
#include "tools/bench/loadgen/ws_swarm.h"
#include "tools/client/http1_client.h"
#include "tools/client/http2_client.h"
#include "tools/client/push_request.h"
#include "tools/client/user_agent_keys.h"

namespace loadgen {

namespace wc = webpush_client;
using std::chrono::duration;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// http:// -> ws://, https:// -> wss://
std::string ws_url(const std::string& url) {
    auto hp = parse_origin(url);
    const bool tls = url.rfind("https://", 0) == 0 || url.rfind("wss://", 0) == 0;
    return (tls ? "wss://" : "ws://") + hp.host + ":" + std::to_string(hp.port) + "/";
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

// The first 8 octets of an aes128gcm body are salt; a benchmark may put its send time there
// (the server never reads the salt; the UA here does not decrypt).
std::int64_t stamp_of(const wc::Notification& n) {
    if (!n.data || n.data->size() < 12) return 0;
    auto bytes = wc::base64url_decode(std::string_view(*n.data).substr(0, 12));
    if (!bytes || bytes->size() < 8) return 0;
    std::int64_t ns = 0;
    std::memcpy(&ns, bytes->data(), sizeof ns);
    return ns;
}

struct RateResult {
    double rate = 0, achieved = 0, p50 = 0, p99 = 0, p999 = 0, max = 0;
    long long sent = 0, received = 0, non_201 = 0;
};

}  // namespace

// N UAs connected; `senders` HTTP/2 connections POST at a fixed total rate, round-robin over
// (--trigger-url/--trigger-body: POSTed right before every rate after the first, e.g. a
// test-double clock move that starts a mass expiry, so both rounds see the same UAs)
// the UAs' endpoints; latency = UA receipt time - time the POST was submitted.
// --push-origin URL: the senders push to another node of a cluster (tools/cluster.sh) than the
// one the UAs are connected to (--url), with VAPID signed for that node: cross-node delivery.
// --warmup S: each rate first pushes for S seconds whose receipts are not measured (the UAs'
// first messages, read from their queues, and whatever their connecting left to do), then
// for --duration seconds that are; --trace still has every receipt.
int cmd_latency(const Args& a) {
    std::string url = a.str("url");
    auto n = static_cast<std::size_t>(a.num("uas", 500));
    int senders = static_cast<int>(a.num("senders", 2));
    double secs = a.real("duration", 5);
    auto rates = a.list("rates");
    if (rates.empty()) rates = {1000, 2000, 5000};
    auto vapid = wc::P256Key::generate();

    std::mutex mu;
    std::vector<double> lat_ms;
    const double warmup = a.real("warmup", 0);
    std::atomic<std::int64_t> measured_from{0};  // send time (now_ns) of the first measured push
    // --trace FILE: every receipt as "sent_ns latency_ms", to see whether a tail comes in
    // bursts (a periodic task somewhere) or spread evenly (contention for the cores).
    std::vector<std::pair<std::int64_t, double>> trace;
    const std::string trace_path = a.str("trace", "");
    SwarmOptions so;
    so.url = ws_url(url);
    so.sources = static_cast<int>(a.num("sources", 2));
    so.application_server_key = vapid.public_bytes();
    Swarm swarm(so, [&](const wc::Notification& note, Clock::time_point at) {
        std::int64_t sent = stamp_of(note);
        if (sent == 0) return;
        double ms = static_cast<double>(at.time_since_epoch().count() - sent) / 1e6;
        std::lock_guard lock(mu);
        if (sent >= measured_from.load()) lat_ms.push_back(ms);
        if (!trace_path.empty()) trace.emplace_back(sent, ms);
    });
    std::vector<UaRecord> records(n);
    if (swarm.connect(records, Clock::now() + seconds(60)) != n) die("UAs failed to connect");

    wc::PushOptions opt;
    opt.ttl = 60;
    opt.vapid = wc::VapidOptions{vapid, "mailto:bench@example.com"};
    const std::string push_origin = a.str("push-origin", "");
    auto endpoint_of = [&](const UaRecord& r) {
        return push_origin.empty() ? r.endpoint
                                   : push_origin + r.endpoint.substr(origin_of(r.endpoint).size());
    };
    auto sub = wc::UserAgentKeys::generate().subscription(endpoint_of(records[0]));
    auto tmpl =
        need(wc::build_push_request(sub, wc::Bytes(a.num("body-bytes", 3000) - 120, 'x'), opt),
             "build_push_request");

    RateResult best;
    bool any_pass = false;
    const std::string trigger_url = a.str("trigger-url", "");
    for (std::size_t round = 0; round < rates.size(); ++round) {
        const long long rate = rates[round];
        measured_from = std::numeric_limits<std::int64_t>::max();  // the last round's stragglers
        {
            std::lock_guard lock(mu);
            lat_ms.clear();
        }
        if (round > 0 && !trigger_url.empty()) {
            wc::Http1Client http;
            wc::HttpRequest req;
            req.method = "POST";
            req.url = trigger_url;
            req.headers.add("Content-Type", "application/json");
            req.body = a.str("trigger-body", "");
            auto res = http.request(req);
            if (!res || res->status / 100 != 2) die("trigger POST " + trigger_url + " failed");
        }
        std::uint64_t received0 = swarm.notifications();
        std::atomic<long long> sent{0}, non_201{0};
        auto t0 = Clock::now();
        const auto warm = std::chrono::duration_cast<Clock::duration>(duration<double>(warmup));
        measured_from =
            now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(warm).count();
        auto end = t0 + warm + std::chrono::duration_cast<Clock::duration>(duration<double>(secs));
        auto interval = std::chrono::duration_cast<Clock::duration>(
            duration<double>(static_cast<double>(senders) / static_cast<double>(rate)));
        std::vector<std::thread> pool;
        for (int s = 0; s < senders; ++s) {
            pool.emplace_back([&, s] {
                wc::Http2Client h2;
                if (!h2.connect(origin_of(endpoint_of(records[0])) + "/")) die("sender connect");
                std::deque<std::int32_t> open;
                auto next = t0 + interval * s / senders;
                std::size_t i = static_cast<std::size_t>(s);
                while (Clock::now() < end || !open.empty()) {
                    auto now = Clock::now();
                    while (next <= now && now < end && open.size() < 120) {
                        wc::HttpRequest req = tmpl;
                        req.url = endpoint_of(records[i % n]);
                        i += static_cast<std::size_t>(senders);  // the senders interleave
                        std::int64_t ns = now_ns();
                        std::memcpy(req.body.data(), &ns, sizeof ns);
                        auto id = h2.submit(req);
                        if (!id) die("submit: " + id.error().message);
                        open.push_back(*id);
                        ++sent;
                        next += interval;
                    }
                    h2.poll(milliseconds(1));
                    while (!open.empty() && !h2.stream_open(open.front())) {
                        auto res = h2.wait_response(open.front(), milliseconds(0));
                        if (!res || res->status != 201) ++non_201;
                        open.pop_front();
                    }
                    if (Clock::now() > end + seconds(10)) break;
                }
            });
        }
        for (auto& th : pool) th.join();
        double elapsed = duration<double>(Clock::now() - t0).count();
        auto wait_end = Clock::now() + seconds(5);
        while (swarm.notifications() - received0 < static_cast<std::uint64_t>(sent) &&
               Clock::now() < wait_end)
            std::this_thread::sleep_for(milliseconds(10));
        RateResult r;
        r.rate = static_cast<double>(rate);
        r.sent = sent;
        r.non_201 = non_201;
        r.received = static_cast<long long>(swarm.notifications() - received0);
        r.achieved = static_cast<double>(sent) / std::min(elapsed, secs + warmup);
        {
            std::lock_guard lock(mu);
            r.max = percentile(lat_ms, 100);
            r.p50 = percentile(lat_ms, 50);
            r.p99 = percentile(lat_ms, 99);
            r.p999 = percentile(lat_ms, 99.9);
        }
        bool pass =
            r.p99 <= 5.0 && r.received >= r.sent && r.non_201 == 0 && r.achieved >= 0.95 * r.rate;
        if (pass) {
            any_pass = true;
            best = r;
        }
        JsonLine("latency")
            .add("uas", static_cast<double>(n))
            .add("rate", r.rate)
            .add("achieved_per_s", r.achieved)
            .add("sent", static_cast<double>(r.sent))
            .add("received", static_cast<double>(r.received))
            .add("non_201", static_cast<double>(r.non_201))
            .add("p50_ms", r.p50)
            .add("p99_ms", r.p99)
            .add("p999_ms", r.p999)
            .add("max_ms", r.max)
            .add("p99_under_5ms", pass ? 1.0 : 0.0)
            .add("warmup_s", warmup)
            .print();
    }
    if (!trace_path.empty()) {
        std::lock_guard lock(mu);
        std::ofstream out(trace_path);
        for (auto& [sent, ms] : trace) out << sent << ' ' << ms << '\n';
    }
    JsonLine("latency_summary")
        .add("max_rate_p99_under_5ms", any_pass ? best.rate : 0.0)
        .add("p99_ms_at_that_rate", best.p99)
        .print();
    return 0;
}

// Idle UAs: server RSS before and after N UAs did hello + register and went quiet; then every
// socket is dropped and all reconnect at once with their uaid (a reconnect storm).
int cmd_idle(const Args& a) {
    auto n = static_cast<std::size_t>(a.num("uas", 1000));
    int pid = static_cast<int>(a.num("pid", 0));
    SwarmOptions so;
    so.url = ws_url(a.str("url"));
    so.sources = static_cast<int>(a.num("sources", 8));
    so.connect_window = static_cast<int>(a.num("window", 512));
    Swarm swarm(so);
    long rss0 = rss_kib(pid);
    std::vector<UaRecord> records(n);
    auto t0 = Clock::now();
    std::size_t ok = swarm.connect(records, Clock::now() + seconds(a.num("timeout-s", 300)));
    double connect_s = duration<double>(Clock::now() - t0).count();
    std::this_thread::sleep_for(milliseconds(a.num("settle-ms", 2000)));
    long rss1 = rss_kib(pid);
    double per_ua = ok ? static_cast<double>(rss1 - rss0) * 1024.0 / static_cast<double>(ok) : 0;
    JsonLine("idle")
        .add("uas", static_cast<double>(n))
        .add("connected", static_cast<double>(ok))
        .add("connect_s", connect_s)
        .add("rss_before_kib", rss0)
        .add("rss_after_kib", rss1)
        .add("rss_bytes_per_ua", per_ua)
        .add("target_bytes_per_ua", 5120)
        .print();
    if (a.flag("storm") && ok > 0) {
        swarm.drop_all();
        std::this_thread::sleep_for(milliseconds(a.num("settle-ms", 2000)));
        std::vector<UaRecord> again;
        for (const auto& r : records)
            if (!r.uaid.empty() && !r.channel.empty()) again.push_back(r);
        auto t1 = Clock::now();
        std::size_t back = swarm.connect(again, Clock::now() + seconds(a.num("timeout-s", 300)));
        double storm_s = duration<double>(Clock::now() - t1).count();
        std::this_thread::sleep_for(milliseconds(a.num("settle-ms", 2000)));
        JsonLine("reconnect_storm")
            .add("uas", static_cast<double>(again.size()))
            .add("reconnected", static_cast<double>(back))
            .add("seconds", storm_s)
            .add("per_s", static_cast<double>(back) / storm_s)
            .add("rss_after_kib", rss_kib(pid))
            .print();
    }
    return ok == n ? 0 : 1;
}

// Backlog drain: the UAs of `setup --ws` (state.txt) reconnect and receive + ack everything.
int cmd_drain(const Args& a) {
    std::vector<UaRecord> records;
    for (const auto& line : read_lines(a.str("state"))) {
        UaRecord r;
        auto s1 = line.find(' '), s2 = line.find(' ', s1 + 1);
        r.uaid = line.substr(0, s1);
        r.channel = line.substr(s1 + 1, s2 - s1 - 1);
        r.endpoint = line.substr(s2 + 1);
        records.push_back(r);
    }
    auto expect = static_cast<std::uint64_t>(a.num("expect", 0));
    SwarmOptions so;
    so.url = ws_url(a.str("url"));
    so.sources = static_cast<int>(a.num("sources", 4));
    Swarm swarm(so);
    auto t0 = Clock::now();
    auto deadline = t0 + seconds(a.num("timeout-s", 300));
    std::size_t ok = swarm.connect(records, deadline);
    double connect_s = duration<double>(Clock::now() - t0).count();
    while (swarm.notifications() < expect && Clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(10));
    double secs = duration<double>(Clock::now() - t0).count();
    JsonLine("drain")
        .add("uas", static_cast<double>(ok))
        .add("connect_s", connect_s)
        .add("received", static_cast<double>(swarm.notifications()))
        .add("expected", static_cast<double>(expect))
        .add("seconds", secs)
        .add("msgs_per_s", static_cast<double>(swarm.notifications()) / secs)
        .print();
    return swarm.notifications() >= expect ? 0 : 1;
}

}  // namespace loadgen
