// pushsvc-loadgen cluster-idle: idle WebSocket browsers spread over the nodes of a cluster
// (tools/cluster.sh), then the failover of one node's browsers (bench-cluster-idle.sh, issue
// 12). One process holds a slice of the browsers (the open-files limit is per process): record
// i says hello + registers once at node i % nodes, from source address 127.0.0.2 + base + i %
// sources. After the ready line it waits for the browsers of --kill-node to lose their
// connection (the script SIGKILLs that node) and reconnects each, with its uaid and source
// address, to the other nodes in turn (a load balancer's choice: spread evenly, skip a node
// that refuses), trying the next node at once after a failure and backing off after a whole
// round of failures. Then a few moved browsers get a push made at yet another node: their
// registration survived the move and the new route is followed.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "tools/bench/loadgen/commands.h"
#include "tools/bench/loadgen/ws_swarm.h"
#include "tools/client/http1_client.h"
#include "tools/client/push_request.h"
#include "tools/client/user_agent_keys.h"

namespace loadgen {

namespace wc = webpush_client;
using std::chrono::duration;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Wall-clock ms since the epoch: the script compares it with the time of its kill.
double epoch_ms() {
    return static_cast<double>(std::chrono::duration_cast<milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::vector<std::string> split_urls(const std::string& list) {
    std::vector<std::string> out;
    std::stringstream ss(list);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(origin_of(item));
    return out;
}

std::string to_ws(const std::string& origin) {
    if (origin.rfind("https://", 0) == 0) return "wss://" + origin.substr(8) + "/";
    if (origin.rfind("http://", 0) == 0) return "ws://" + origin.substr(7) + "/";
    return origin + "/";
}

struct Moved {
    std::string uaid;  // before the drop: the reconnection must keep it
    Clock::time_point dropped;
    Clock::time_point due;
    std::size_t home = 0;  // the node it was on
    int attempts = 0;
    bool busy = false;  // a reconnection in flight
};

}  // namespace

int cmd_cluster_idle(const Args& a) {
    const auto urls = split_urls(a.str("urls"));
    if (urls.size() < 2) die("cluster-idle needs --urls URL,URL[,...] (two nodes or more)");
    const std::size_t nodes = urls.size();
    const auto n = static_cast<std::size_t>(a.num("uas", 1000));
    const long long kill = a.num("kill-node", 0);  // 0-based index into --urls
    if (kill < 0 || static_cast<std::size_t>(kill) >= nodes) die("--kill-node out of range");
    const int max_attempts = static_cast<int>(a.num("max-attempts", 40));
    const auto probes = static_cast<std::size_t>(a.num("probes", 5));
    auto vapid = wc::P256Key::generate();

    std::mutex mu;
    std::deque<UaRecord*> drops;
    std::deque<std::pair<UaRecord*, bool>> results;
    std::unordered_set<std::string> received;  // channels that got a notification
    SwarmOptions so;
    for (const auto& u : urls) so.urls.push_back(to_ws(u));
    so.sources = static_cast<int>(a.num("sources", 16));
    so.source_base = static_cast<int>(a.num("source-base", 0));
    so.connect_window = static_cast<int>(a.num("window", 256));
    so.application_server_key = vapid.public_bytes();
    so.on_drop = [&](UaRecord& r) {
        std::lock_guard lock(mu);
        drops.push_back(&r);
    };
    Swarm swarm(so, [&](const wc::Notification& note, Clock::time_point) {
        std::lock_guard lock(mu);
        received.insert(note.channel_id);
    });

    std::vector<UaRecord> records(n);
    std::vector<std::size_t> per_node(nodes, 0);
    for (std::size_t i = 0; i < n; ++i) {
        records[i].node = i % nodes;
        ++per_node[i % nodes];
    }
    auto t0 = Clock::now();
    std::size_t ok = swarm.connect(records, t0 + seconds(a.num("timeout-s", 300)));
    JsonLine("cluster_idle_ready")
        .add("uas", static_cast<double>(n))
        .add("connected", static_cast<double>(ok))
        .add("failed", static_cast<double>(swarm.failed()))
        .add("connect_s", duration<double>(Clock::now() - t0).count())
        .add("on_kill_node", static_cast<double>(per_node[static_cast<std::size_t>(kill)]))
        .print();
    if (ok != n) return 1;

    // ---- failover: wait for the drops, move each browser to another node -------------------
    const std::size_t expected = per_node[static_cast<std::size_t>(kill)];
    std::unordered_map<UaRecord*, Moved> moving;
    std::vector<double> reconnect_ms;
    std::size_t dropped = 0, unexpected = 0, reconnected = 0, uaid_changed = 0, gave_up = 0;
    long long attempts_total = 0;
    double first_drop_ms = 0, last_reconnect_ms = 0;
    Clock::time_point first_drop{}, last_reconnect{};
    const auto deadline = Clock::now() + seconds(a.num("wait-s", 600));
    const auto* base = records.data();
    std::vector<char> back(n, 0);  // moved and connected again
    while (Clock::now() < deadline) {
        std::deque<UaRecord*> new_drops;
        std::deque<std::pair<UaRecord*, bool>> done;
        {
            std::lock_guard lock(mu);
            new_drops.swap(drops);
            done.swap(results);
        }
        auto now = Clock::now();
        for (UaRecord* r : new_drops) {
            if (dropped == 0 && unexpected == 0) {
                first_drop = now;
                first_drop_ms = epoch_ms();
            }
            if (r->node == static_cast<std::size_t>(kill)) {
                ++dropped;
            } else {
                ++unexpected;  // a browser of a live node, or one moved already: move it too
            }
            Moved& m = moving[r];
            m = Moved{r->uaid, now, now, r->node, 0, false};
        }
        for (auto& [r, good] : done) {
            Moved& m = moving[r];
            m.busy = false;
            if (good) {
                if (r->uaid != m.uaid) ++uaid_changed;
                ++reconnected;
                back[static_cast<std::size_t>(r - base)] = 1;
                reconnect_ms.push_back(duration<double>(now - m.dropped).count() * 1000);
                last_reconnect = now;
                last_reconnect_ms = epoch_ms();
                moving.erase(r);
                continue;
            }
            if (++m.attempts >= max_attempts) {
                ++gave_up;
                moving.erase(r);
                continue;
            }
            // The next node at once; after a whole round of refusals, back off (as Firefox
            // does, up to a few seconds).
            auto rounds = static_cast<std::size_t>(m.attempts) / (nodes - 1);
            m.due = static_cast<std::size_t>(m.attempts) % (nodes - 1) == 0
                        ? now + milliseconds(std::min<std::size_t>(250 * rounds, 2000))
                        : now;
        }
        for (auto& [rec, m] : moving) {
            UaRecord* r = rec;  // a structured binding cannot be captured below
            if (m.busy || m.due > now) continue;
            // Spread evenly over the other nodes: browser i starts at home + 1 + i % (nodes-1).
            auto idx = static_cast<std::size_t>(r - base);
            auto step = 1 + (idx + static_cast<std::size_t>(m.attempts)) % (nodes - 1);
            r->node = (m.home + step) % nodes;
            m.busy = true;
            ++attempts_total;
            swarm.reconnect(*r, [&mu, &results, r](bool good) {
                std::lock_guard lock(mu);
                results.emplace_back(r, good);
            });
        }
        if (dropped >= expected && moving.empty()) break;
        std::this_thread::sleep_for(milliseconds(2));
    }

    // ---- probes: a push at a third node reaches a moved browser ------------------------------
    std::size_t probed = 0, delivered = 0, push_failed = 0;
    for (std::size_t i = 0; i < n && probed < probes; ++i) {
        auto& r = records[i];
        if (back[i]) {
            auto at = (r.node + 1) % nodes;
            if (at == static_cast<std::size_t>(kill)) at = (at + 1) % nodes;
            const std::string endpoint = urls[at] + path_of(r.endpoint);
            wc::PushOptions opt;
            opt.ttl = 60;
            opt.vapid = wc::VapidOptions{vapid, "mailto:bench@example.com"};
            auto sub = wc::UserAgentKeys::generate().subscription(endpoint);
            auto req = need(wc::build_push_request(sub, wc::Bytes(64, 'x'), opt), "push");
            ++probed;
            wc::Http1Client http;
            auto res = http.request(req);
            if (!res || res->status != 201) {
                ++push_failed;  // no 201: refused (a full node) or an error
                continue;
            }
            auto until = Clock::now() + seconds(10);
            while (Clock::now() < until) {
                {
                    std::lock_guard lock(mu);
                    if (received.count(r.channel)) {
                        ++delivered;
                        break;
                    }
                }
                std::this_thread::sleep_for(milliseconds(5));
            }
        }
    }

    JsonLine("cluster_failover")
        .add("uas", static_cast<double>(n))
        .add("on_kill_node", static_cast<double>(expected))
        .add("dropped", static_cast<double>(dropped))
        .add("unexpected_drops", static_cast<double>(unexpected))
        .add("reconnected", static_cast<double>(reconnected))
        .add("uaid_changed", static_cast<double>(uaid_changed))
        .add("gave_up", static_cast<double>(gave_up))
        .add("still_moving", static_cast<double>(moving.size()))
        .add("attempts", static_cast<double>(attempts_total))
        .add("first_drop_ms", first_drop_ms)
        .add("last_reconnect_ms", last_reconnect_ms)
        .add("seconds", reconnected ? duration<double>(last_reconnect - first_drop).count() : 0.0)
        .add("p50_ms", percentile(reconnect_ms, 50))
        .add("p99_ms", percentile(reconnect_ms, 99))
        .add("max_ms", percentile(reconnect_ms, 100))
        .add("probes", static_cast<double>(probed))
        .add("probes_delivered", static_cast<double>(delivered))
        .add("probe_pushes_failed", static_cast<double>(push_failed))
        .print();
    // The browsers stay connected until the script has looked at the nodes (open files, RSS):
    // until --release-file exists, within the same deadline.
    const std::string release = a.str("release-file", "");
    while (!release.empty() && Clock::now() < deadline && ::access(release.c_str(), F_OK) != 0)
        std::this_thread::sleep_for(milliseconds(50));
    const bool all = dropped == expected && reconnected == expected && uaid_changed == 0 &&
                     unexpected == 0 && delivered == probed &&
                     probed == std::min(probes, reconnected);
    return all ? 0 : 1;
}

}  // namespace loadgen
