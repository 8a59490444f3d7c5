// pushsvc-loadgen: the load generator of tools/bench (see BENCHMARKS.md). Commands:
//   setup    subscriptions + an h2load-ready workload (uris.txt, body.bin, headers.txt)
//   ingest   POSTs from this process (HTTP/2), optionally every request freshly VAPID-signed
//   latency  WebSocket UAs + paced senders: POST -> UA receipt percentiles per rate
//            (--trace FILE: every receipt as "sent_ns latency_ms", to see bursts)
//   idle     many idle WebSocket UAs: server RSS per UA, then a reconnect storm
//   drain    reconnect stored UAs (setup --ws) and receive + ack their backlog
//   cluster-idle  idle browsers over the nodes of a cluster, then one node's browsers move
// Every loop is bounded by a count and a deadline; results are JSON lines on stdout.

#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include "tools/bench/loadgen/commands.h"
#include "tools/bench/loadgen/common.h"
#include "tools/bench/loadgen/ws_swarm.h"
#include "tools/client/http1_client.h"
#include "tools/client/http2_client.h"
#include "tools/client/push_request.h"
#include "tools/client/push_service.h"
#include "tools/client/user_agent_keys.h"

namespace wc = webpush_client;
using namespace loadgen;
using std::chrono::duration;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Raises the soft open-files limit to the hard one (tens of thousands of sockets).
void raise_nofile() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct Workload {
    std::vector<std::string> uris;
    std::string body;
    wc::Headers headers;
};

Workload load_workload(const std::string& dir) {
    Workload w;
    w.uris = read_lines(dir + "/uris.txt");
    w.body = read_file(dir + "/body.bin");
    for (const auto& line : read_lines(dir + "/headers.txt")) {
        auto colon = line.find(": ");
        if (colon != std::string::npos)
            w.headers.add(line.substr(0, colon), line.substr(colon + 2));
    }
    if (w.uris.empty()) die("no uris in " + dir);
    return w;
}

// An aes128gcm body of about `bytes` octets with VAPID headers for `endpoint`: what
// web-push sends. Written for h2load (-d body.bin, -H per headers.txt line).
wc::HttpRequest make_push(const std::string& endpoint, const wc::Subscription& sub,
                          const wc::P256Key& vapid, std::size_t bytes, std::int64_t ttl) {
    wc::PushOptions opt;
    opt.ttl = ttl;
    opt.vapid = wc::VapidOptions{vapid, "mailto:bench@example.com"};
    opt.extra_headers.add("content-type", "application/octet-stream");
    std::size_t plain = bytes > 120 ? bytes - 120 : 16;
    wc::Subscription s = sub;
    s.endpoint = endpoint;
    return need(wc::build_push_request(s, wc::Bytes(plain, 'x'), opt), "build_push_request");
}

void write_workload(const std::string& dir, const wc::HttpRequest& req,
                    const std::vector<std::string>& uris) {
    std::string headers, list;
    for (const auto& [name, value] : req.headers) {
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "host" || lower == "content-length") continue;
        headers += lower + ": " + value + "\n";
    }
    for (const auto& u : uris) list += u + "\n";
    write_file(dir + "/headers.txt", headers);
    write_file(dir + "/body.bin", req.body);
    write_file(dir + "/uris.txt", list);
}

// ---- setup ---------------------------------------------------------------------------------
int cmd_setup(const Args& a) {
    std::string target = a.str("target"), dir = a.str("out");
    if (target.empty() || dir.empty()) die("setup needs --target URL --out DIR");
    auto vapid = wc::P256Key::generate();
    write_file(dir + "/vapid.pem", vapid.private_pem());
    auto ua = wc::UserAgentKeys::generate();
    std::size_t bytes = static_cast<std::size_t>(a.num("body-bytes", 3000));
    long long n = a.num("subs", 100);
    std::vector<std::string> uris;
    wc::Subscription sub = ua.subscription(target);
    auto t0 = Clock::now();
    if (a.flag("wpt")) {
        // web-push-testing makes the UA keys itself and decrypts every push with them.
        wc::Http1Client http;
        wc::HttpRequest req{"POST", target + "/subscribe", {}, ""};
        req.headers.add("content-type", "application/json");
        req.body =
            "{\"applicationServerKey\":\"" + wc::base64url_encode(vapid.public_bytes()) + "\"}";
        auto res = need(http.request(req), "web-push-testing subscribe");
        auto pos = res.body.find("\"data\":");
        if (res.status != 200 || pos == std::string::npos) die("subscribe: " + res.body);
        auto end = res.body.rfind('}');
        sub = need(wc::Subscription::from_json(res.body.substr(pos + 7, end - pos - 7)), "wpt sub");
        uris.push_back(sub.endpoint);
    } else if (a.flag("ws")) {
        // Firefox-style: one WebSocket UA per subscription, then disconnected (offline UAs).
        std::vector<UaRecord> records(static_cast<std::size_t>(n));
        SwarmOptions so;
        so.url = target;
        so.sources = static_cast<int>(a.num("sources", 4));
        so.application_server_key = vapid.public_bytes();
        Swarm swarm(so);
        std::size_t ok = swarm.connect(records, Clock::now() + seconds(a.num("timeout-s", 120)));
        if (ok != records.size()) die("only " + std::to_string(ok) + " UAs registered");
        std::string state;
        for (const auto& r : records) {
            uris.push_back(r.endpoint);
            state += r.uaid + " " + r.channel + " " + r.endpoint + "\n";
        }
        write_file(dir + "/state.txt", state);
    } else {
        wc::Http1Client http;
        wc::SubscribeOptions so;
        so.application_server_key = vapid;
        for (long long i = 0; i < n; ++i) {
            auto req = wc::make_subscribe_request(target + "/subscribe", so);
            auto res = need(http.request(req), "subscribe");
            auto s = need(wc::parse_subscribe_response(target + "/subscribe", res), "subscribe");
            uris.push_back(s.push_url);
        }
    }
    // A backlog must outlive its own fill and drain: scripts pass a long --ttl there.
    write_workload(dir, make_push(uris.front(), sub, vapid, bytes, a.num("ttl", 60)), uris);
    // The VAPID aud of the advertised endpoints: scripts may rewrite uris.txt to another
    // listener of the same server, the audience stays the public origin.
    write_file(dir + "/aud.txt", need(wc::vapid_audience(uris.front()), "aud"));
    JsonLine("setup")
        .add("subs", static_cast<double>(uris.size()))
        .add("seconds", duration<double>(Clock::now() - t0).count())
        .print();
    return 0;
}

// ---- ingest --------------------------------------------------------------------------------
int cmd_ingest(const Args& a) {
    std::string dir = a.str("dir");
    Workload w = load_workload(dir);
    int threads = static_cast<int>(a.num("threads", 1));
    long long window = a.num("window", 64);
    long long max_requests = a.num("max", 10'000'000);
    auto run_for = duration<double>(a.real("duration", 5));
    bool fresh = a.flag("fresh");
    std::optional<wc::P256Key> key;
    std::string aud;
    if (fresh) {
        key = need(wc::P256Key::from_pem_file(dir + "/vapid.pem"), "vapid.pem");
        aud = read_file(dir + "/aud.txt");
    }
    std::atomic<long long> ok{0}, other{0}, errors{0};
    auto t0 = Clock::now();
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(run_for);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            wc::Http2Client h2;
            if (!h2.connect(origin_of(w.uris.front()) + "/")) {
                ++errors;
                return;
            }
            std::deque<std::int32_t> open;
            long long sent = 0, per_thread = max_requests / threads;
            std::size_t next = static_cast<std::size_t>(t);
            while (Clock::now() < deadline && (sent < per_thread || !open.empty())) {
                while (sent < per_thread && static_cast<long long>(open.size()) < window &&
                       Clock::now() < deadline) {
                    wc::HttpRequest req{"POST", w.uris[next++ % w.uris.size()], w.headers, w.body};
                    if (fresh) {
                        // A distinct exp makes every token new to the server's cache.
                        wc::VapidClaims c{aud,
                                          std::time(nullptr) + 36000 + (sent % 3600) * threads + t,
                                          "mailto:bench@example.com"};
                        auto vh =
                            need(wc::make_vapid_headers(*key, c, wc::VapidScheme::vapid), "sign");
                        req.headers.set("authorization", vh.authorization);
                    }
                    auto id = h2.submit(req);
                    if (!id) {
                        ++errors;
                        return;
                    }
                    open.push_back(*id);
                    ++sent;
                }
                h2.poll(milliseconds(1));
                while (!open.empty() && !h2.stream_open(open.front())) {
                    auto res = h2.wait_response(open.front(), milliseconds(0));
                    open.pop_front();
                    if (!res)
                        ++errors;
                    else if (res->status == 201)
                        ++ok;
                    else
                        ++other;
                }
                if (!h2.is_open()) {
                    ++errors;
                    return;
                }
            }
        });
    }
    for (auto& th : pool) th.join();
    double secs = duration<double>(Clock::now() - t0).count();
    JsonLine("ingest")
        .add("fresh_vapid", fresh ? 1.0 : 0.0)
        .add("threads", threads)
        .add("ok", static_cast<double>(ok))
        .add("non_201", static_cast<double>(other))
        .add("errors", static_cast<double>(errors))
        .add("seconds", secs)
        .add("req_per_s", static_cast<double>(ok) / secs)
        .print();
    return ok > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(
            stderr,
            "usage: pushsvc-loadgen setup|ingest|latency|idle|drain|cluster-idle --flags\n");
        return 2;
    }
    raise_nofile();
    std::string cmd = argv[1];
    try {
        Args args(argc, argv, 2);
        if (cmd == "setup") return cmd_setup(args);
        if (cmd == "ingest") return cmd_ingest(args);
        if (cmd == "latency") return cmd_latency(args);
        if (cmd == "idle") return cmd_idle(args);
        if (cmd == "drain") return cmd_drain(args);
        if (cmd == "cluster-idle") return cmd_cluster_idle(args);
    } catch (const std::exception& e) {
        die(e.what());
    }
    std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
    return 2;
}
