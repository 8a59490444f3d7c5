// Routing between cluster nodes (docs/cluster.md): two pushsvc processes in cluster mode
// (cluster.listen, one cluster.secret) on one real PostgreSQL 15 the test starts
// (tests/support/pg_instance.sh; no Patroni needed for routing), one endpoint token key.
//  (a) a push accepted by node A reaches a WebSocket browser connected to node B live, TTL-0
//      messages too;
//  (b) the browser moves to node A and gets what was queued meanwhile, in order; later pushes
//      made at B follow it to A, and its old connection's end does not take A's route away;
//  (c) an RFC 8030 monitor on A receives pushes made at B, and an application server
//      monitoring receipts on A gets the 204 of an acknowledgement made at B;
//  (d) the internal route refuses a missing or wrong signature with JSON errors, serves a
//      signed notification, and is not served by the public listener;
//  (e) node B killed: a push at A is still 201 at once, the route to B stays until the browser
//      connects to A (a cut-off node may still hold its browsers), and
//      the browser finds the message when it reconnects to A.
// Waits are bounded and driven by what they wait for (a notification, a server push), except
// for rows in PostgreSQL, which the test polls (5 s at most).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "pushsvc/store/pg_conn.h"
#include "tests/integration/pushsvc_process.h"
#include "tests/support/pg_instance.h"
#include "tools/client/base64url.h"
#include "tools/client/crypto.h"
#include "tools/client/http1_client.h"
#include "tools/client/http2_client.h"
#include "tools/client/push_request.h"
#include "tools/client/push_service.h"
#include "tools/client/user_agent.h"

namespace pushsvc::testing {
namespace {

namespace wc = webpush_client;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

const std::string kSecret = "cluster-routing-test-secret-0123456789abcdef";
constexpr std::string_view kNotify = "/_cluster/v1/notify";

std::string path_of(const std::string& url) {
    auto p = url.find('/', url.find("://") + 3);
    return p == std::string::npos ? "/" : url.substr(p);
}

// Polls `pred` every 10 ms, 5 s at most: for state with no event to wait on (database rows).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

// The Authorization of the internal route, computed here with the client library's HMAC
// (not the server's code): HMAC-SHA-256 over "pushsvc-cluster-v1\n<t>\n<method>\n<path>\n<body>".
std::string cluster_auth(const std::string& secret, const std::string& body) {
    const auto t = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    const std::string text = "pushsvc-cluster-v1\n" + std::to_string(t) + "\nPOST\n" +
                             std::string(kNotify) + "\n" + body;
    return "PushsvcCluster t=" + std::to_string(t) + ", mac=" +
           wc::base64url_encode(wc::hmac_sha256(wc::to_bytes(secret), wc::to_bytes(text)));
}

class ClusterRouting : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { pg_ = new PgInstance(); }
    static void TearDownTestSuite() {
        delete pg_;
        pg_ = nullptr;
    }

    void SetUp() override {
        static int counter = 0;
        const std::string schema = "routing_" + std::to_string(++counter);
        std::string error;
        db_ = store::pg::PgConn::connect(pg_->dsn(), 10'000, 10'000, error);
        ASSERT_TRUE(db_) << error;
        store::pg::PgError err;
        ASSERT_TRUE(db_->exec_script("CREATE SCHEMA " + schema, err)) << err.message;
        dsn_ = pg_->dsn() + " options='-c search_path=" + schema + "'";
        db_ = store::pg::PgConn::connect(dsn_, 10'000, 10'000, error);
        ASSERT_TRUE(db_) << error;
        token_key_ = wc::base64url_encode(wc::random_bytes(32));
        a_ = start_node();
        b_ = start_node();
        opts_.timeout = 10s;
    }

    std::unique_ptr<PushsvcProcess> start_node() {
        ProcessOptions po;
        po.env["PUSHSVC__STORE__BACKEND"] = "postgres";
        po.env["PUSHSVC__STORE__POSTGRES__DSN"] = dsn_;
        po.env["PUSHSVC__STORE__POSTGRES__CONNECT_TIMEOUT_MS"] = "2000";
        po.env["PUSHSVC__PUSH__TOKEN_KEYS"] = token_key_;  // any node decodes any endpoint
        po.env["PUSHSVC__CLUSTER__LISTEN"] = "127.0.0.1:0";
        po.env["PUSHSVC__CLUSTER__SECRET"] = kSecret;
        auto p = std::make_unique<PushsvcProcess>(po);
        p->start();
        EXPECT_FALSE(p->ready_field("cluster").empty());
        EXPECT_FALSE(p->ready_field("node_id").empty());
        return p;
    }

    static std::string ws(const PushsvcProcess& p) { return "ws://" + p.cleartext() + "/"; }
    static std::string base(const PushsvcProcess& p) { return "http://" + p.cleartext(); }

    // Routes in the database naming `node` (its cluster.node_id).
    int routes_to(const PushsvcProcess& node) {
        static const store::pg::Statement count{
            "count_routes", "SELECT count(*)::int4 FROM routes WHERE node_id = $1"};
        std::vector<store::pg::Call> calls;
        calls.push_back(
            {&count, std::move(store::pg::PgParams().bytes(node.ready_field("node_id")))});
        std::vector<store::pg::PgResult> out;
        store::pg::PgError err;
        if (!db_->run(calls, out, err)) {
            ADD_FAILURE() << err.message;
            return -1;
        }
        return out.at(0).i32(0, 0);
    }

    // An encrypted push for `ch` sent to `node` (its endpoint names the node that made it).
    wc::HttpResponse push_to(const PushsvcProcess& node, const wc::UaChannel& ch,
                             const std::string& text, std::int64_t ttl = 600) {
        wc::PushOptions po;
        po.ttl = ttl;
        auto req = wc::build_push_request(ch.subscription(), wc::to_bytes(text), po);
        EXPECT_TRUE(req);
        req->url = base(node) + path_of(req->url);
        return call(*req);
    }

    wc::HttpResponse call(const wc::HttpRequest& req) {
        wc::Http1Client client(opts_);
        auto r = client.request(req);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : wc::HttpResponse{};
    }

    wc::HttpResponse post(const std::string& url, wc::Headers headers, std::string body = {}) {
        wc::HttpRequest req;
        req.method = "POST";
        req.url = url;
        req.headers = std::move(headers);
        req.body = std::move(body);
        return call(req);
    }

    std::string receive_text(wc::UserAgent& ua, milliseconds timeout = 5000ms) {
        auto m = ua.receive(timeout, true);
        if (!m) return "<nothing: " + m.error().message + ">";
        return m->plaintext ? wc::to_string(*m->plaintext) : "";
    }

    // A counter of `node`'s /metrics (loopback: no token needed).
    double metric(const PushsvcProcess& node, const std::string& series) {
        wc::HttpRequest req;
        req.url = base(node) + "/metrics";
        auto r = call(req);
        auto at = r.body.find("\n" + series + " ");
        if (at == std::string::npos) return -1;
        return std::stod(r.body.substr(at + series.size() + 2));
    }

    static PgInstance* pg_;
    std::string dsn_, token_key_;
    std::unique_ptr<store::pg::PgConn> db_;
    std::unique_ptr<PushsvcProcess> a_, b_;
    wc::ClientOptions opts_;
};
PgInstance* ClusterRouting::pg_ = nullptr;

TEST_F(ClusterRouting, APushAtOneNodeReachesTheBrowserOnTheOtherLive) {
    wc::UserAgent ua({}, opts_);
    ASSERT_TRUE(ua.connect(ws(*b_)));
    auto ch = ua.subscribe();
    ASSERT_TRUE(ch) << ch.error().message;
    ASSERT_TRUE(eventually([&] { return routes_to(*b_) == 1; }));  // node b holds it

    EXPECT_EQ(push_to(*a_, *ch, "from a").status, 201);
    EXPECT_EQ(receive_text(ua), "from a");
    // TTL 0 is never stored: it crosses inside the notification, delivered now or never.
    EXPECT_EQ(push_to(*a_, *ch, "right now", 0).status, 201);
    EXPECT_EQ(receive_text(ua), "right now");
    // It came through the internal route, not through a reconnect.
    EXPECT_TRUE(
        eventually([&] { return metric(*a_, "pushsvc_cluster_notifications_sent_total") >= 2; }));
    EXPECT_GE(metric(*b_, "pushsvc_cluster_notifications_received_total"), 2);
    // The first push was read from the queue; each later one follows the one before it, so
    // node b sends it from the notification that carried it, without reading the queue.
    EXPECT_EQ(metric(*b_, "pushsvc_sent_from_wake_total"), 0);
    for (const char* text : {"carried-1", "carried-2"}) {
        EXPECT_EQ(push_to(*a_, *ch, text).status, 201);
        EXPECT_EQ(receive_text(ua), text);
    }
    EXPECT_EQ(metric(*b_, "pushsvc_sent_from_wake_total"), 2);
}

TEST_F(ClusterRouting, TheBrowserMovesAndGetsItsQueueInOrderAndLaterPushesFollowIt) {
    wc::UaState state;
    {
        wc::UserAgent on_b({}, opts_);
        ASSERT_TRUE(on_b.connect(ws(*b_)));
        ASSERT_TRUE(on_b.subscribe());
        state = on_b.state();
        ASSERT_TRUE(eventually([&] { return routes_to(*b_) == 1; }));
    }
    // Node b notices the connection is gone and clears its route (by its version).
    ASSERT_TRUE(eventually([&] { return routes_to(*b_) == 0; }));

    // Offline: queued in PostgreSQL, pushed at both nodes.
    for (int i = 1; i <= 3; ++i)
        EXPECT_EQ(
            push_to(i % 2 ? *a_ : *b_, state.channels[0], "queued-" + std::to_string(i)).status,
            201);

    wc::UserAgent on_a(state, opts_);
    ASSERT_TRUE(on_a.connect(ws(*a_)));
    EXPECT_FALSE(on_a.subscriptions_dropped());
    EXPECT_EQ(receive_text(on_a), "queued-1");
    EXPECT_EQ(receive_text(on_a), "queued-2");
    EXPECT_EQ(receive_text(on_a), "queued-3");
    ASSERT_TRUE(eventually([&] { return routes_to(*a_) == 1; }));

    // Later pushes made at node b follow it to node a, live.
    const double sent = metric(*b_, "pushsvc_cluster_notifications_sent_total");
    EXPECT_EQ(push_to(*b_, state.channels[0], "follows-1").status, 201);
    EXPECT_EQ(push_to(*b_, state.channels[0], "follows-2").status, 201);
    EXPECT_EQ(receive_text(on_a), "follows-1");
    EXPECT_EQ(receive_text(on_a), "follows-2");
    EXPECT_TRUE(eventually(
        [&] { return metric(*b_, "pushsvc_cluster_notifications_sent_total") >= sent + 2; }));
}

TEST_F(ClusterRouting, AnOlderConnectionsEndNeverTakesTheNewerRouteAway) {
    wc::UserAgent old_conn({}, opts_);
    ASSERT_TRUE(old_conn.connect(ws(*b_)));
    ASSERT_TRUE(old_conn.subscribe());
    const wc::UaState state = old_conn.state();
    ASSERT_TRUE(eventually([&] { return routes_to(*b_) == 1; }));
    // The browser reconnects to node a while node b still holds its old connection.
    wc::UserAgent new_conn(state, opts_);
    ASSERT_TRUE(new_conn.connect(ws(*a_)));
    ASSERT_TRUE(eventually([&] { return routes_to(*a_) == 1 && routes_to(*b_) == 0; }));
    old_conn.close();  // node b's cleanup runs now, with its older version
    ASSERT_TRUE(eventually([&] {
        return metric(*b_, "pushsvc_cluster_routes_released_total{result=\"superseded\"}") >= 1;
    }));
    // Still node a's route: a push at b finds it there.
    EXPECT_EQ(routes_to(*a_), 1);
    EXPECT_EQ(push_to(*b_, state.channels[0], "to the newer one").status, 201);
    EXPECT_EQ(receive_text(new_conn), "to the newer one");
    EXPECT_EQ(routes_to(*a_), 1);
}

TEST_F(ClusterRouting, AnRfc8030MonitorOnOneNodeReceivesPushesAndReceiptsMadeAtTheOther) {
    wc::HttpRequest subscribe_req = wc::make_subscribe_request(base(*a_) + "/subscribe");
    auto sub = wc::parse_subscribe_response(subscribe_req.url, call(subscribe_req));
    ASSERT_TRUE(sub) << sub.error().message;

    wc::Http2Client monitor(opts_);
    ASSERT_TRUE(monitor.connect(base(*a_) + "/"));
    auto stream =
        monitor.submit(wc::make_monitor_request(base(*a_) + path_of(sub->subscription_url)));
    ASSERT_TRUE(stream);
    // The client sends as it polls; the monitor's route appears once node a serves the GET.
    ASSERT_TRUE(eventually([&] {
        monitor.poll(10ms);
        return routes_to(*a_) == 1;
    }));

    // The application server asks node b for a receipt (RFC 8030 §5.1) and monitors the
    // receipt subscription on node a.
    // An aes128gcm-shaped body (salt, rs 4096, a 65-byte key id, then filler): pushsvc checks
    // the header, not the ciphertext.
    std::string body(16, 's');
    body += std::string("\0\0\x10\0", 4);
    body += "\x41\x04" + std::string(64, 'k') + std::string(100, 'x');
    wc::Headers tickle;  // a push without payload first, no receipt
    tickle.add("TTL", "600");
    EXPECT_EQ(post(base(*b_) + path_of(sub->push_url), tickle).status, 201);
    wc::Headers h;
    h.add("TTL", "600");
    h.add("Prefer", "respond-async");
    h.add("Content-Encoding", "aes128gcm");
    auto with_receipt = post(base(*b_) + path_of(sub->push_url), h, body);
    ASSERT_EQ(with_receipt.status, 202) << with_receipt.body;
    std::string receipt_url;
    for (const auto& link : with_receipt.headers.get_all("link"))
        if (link.find("urn:ietf:params:push:receipt") != std::string::npos)
            receipt_url = link.substr(link.find('<') + 1, link.find('>') - link.find('<') - 1);
    ASSERT_FALSE(receipt_url.empty());

    auto first = monitor.wait_push(5000ms);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->response.status, 200);
    EXPECT_EQ(first->response.body, "");
    auto second = monitor.wait_push(5000ms);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->response.body, body);  // byte-exact, made at node b

    wc::Http2Client app_server(opts_);
    ASSERT_TRUE(app_server.connect(base(*a_) + "/"));
    wc::HttpRequest receipts;
    receipts.url = base(*a_) + path_of(receipt_url);
    ASSERT_TRUE(app_server.submit(receipts));
    ASSERT_TRUE(eventually([&] {
        app_server.poll(10ms);
        return routes_to(*a_) == 2;
    }));
    // The user agent acknowledges at node b (any node serves DELETE): the 204 receipt is
    // queued by node b and pushed by node a.
    wc::HttpRequest ack = wc::make_ack_request(base(*b_) + second->path());
    EXPECT_EQ(call(ack).status, 204);
    auto receipt = app_server.wait_push(5000ms);
    ASSERT_TRUE(receipt) << receipt.error().message;
    EXPECT_EQ(receipt->response.status, 204);
    EXPECT_EQ(receipt->path(), second->path());
}

TEST_F(ClusterRouting, TheInternalRouteNeedsTheSecretAndIsNotOnThePublicListener) {
    const std::string internal = "http://" + a_->ready_field("cluster") + std::string(kNotify);
    const std::string body =
        "{\"to\":\"" + a_->ready_field("node_id") +
        "\",\"from\":\"test\",\"events\":[{\"kind\":\"wake\",\"uaid\":\"bm9ib2R5\"}]}";
    auto json_reason = [](const wc::HttpResponse& r) {
        boost::system::error_code ec;
        auto v = boost::json::parse(r.body, ec);
        if (ec || !v.is_object() || !v.as_object().contains("reason")) return std::string("?");
        EXPECT_EQ(v.at("code").as_int64(), r.status);
        return std::string(v.at("reason").as_string());
    };
    auto r = post(internal, {}, body);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(json_reason(r), "cluster_auth_missing");
    EXPECT_EQ(r.headers.get("www-authenticate"), "PushsvcCluster");

    wc::Headers wrong;
    wrong.add("Authorization", cluster_auth("another-secret-of-sufficient-length-0000", body));
    r = post(internal, wrong, body);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(json_reason(r), "cluster_auth_invalid");

    wc::Headers bearer;
    bearer.add("Authorization", "Bearer " + kSecret);  // the secret itself is no signature
    EXPECT_EQ(post(internal, bearer, body).status, 401);

    wc::Headers right;
    right.add("Authorization", cluster_auth(kSecret, body));
    r = post(internal, right, body);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "{\"absent\":[0]}");  // nobody called "nobody" is connected there

    // Only that route: the public ones are not on the internal listener.
    wc::HttpRequest health;
    health.url = "http://" + a_->ready_field("cluster") + "/health";
    r = call(health);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(json_reason(r), "not_found");
    EXPECT_EQ(post("http://" + a_->ready_field("cluster") + "/subscribe", {}).status, 404);

    // And the public listener does not serve the internal route, even correctly signed.
    wc::Headers signed_again;
    signed_again.add("Authorization", cluster_auth(kSecret, body));
    r = post(base(*a_) + std::string(kNotify), signed_again, body);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(json_reason(r), "not_found");
    wc::Http2Client h2(opts_);  // over h2c either
    ASSERT_TRUE(h2.connect(base(*a_) + "/"));
    wc::HttpRequest over_h2;
    over_h2.method = "POST";
    over_h2.url = base(*a_) + std::string(kNotify);
    over_h2.headers.add("authorization", cluster_auth(kSecret, body));
    over_h2.body = body;
    auto h2r = h2.request(over_h2);
    ASSERT_TRUE(h2r) << h2r.error().message;
    EXPECT_EQ(h2r->status, 404);
}

TEST_F(ClusterRouting, AKilledNodeDelaysNoPushAndItsBrowserGetsEverythingOnTheNextNode) {
    wc::UaState state;
    {
        wc::UserAgent on_b({}, opts_);
        ASSERT_TRUE(on_b.connect(ws(*b_)));
        ASSERT_TRUE(on_b.subscribe());
        state = on_b.state();
        ASSERT_TRUE(eventually([&] { return routes_to(*b_) == 1; }));
        b_->kill9();  // the route to node b stays behind in the database
    }
    EXPECT_EQ(routes_to(*b_), 1);

    const auto start = std::chrono::steady_clock::now();
    auto r = push_to(*a_, state.channels[0], "while b is dead");
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // the 201 never waits on node b
    // Node a finds node b unreachable and gives up on it; the route stays (a node only cut
    // off for a while still holds its browsers) until the browser connects elsewhere.
    EXPECT_TRUE(eventually(
        [&] {
            return metric(*a_,
                          "pushsvc_cluster_notifications_failed_total{reason=\"unreachable\"}") >=
                   1;
        },
        10s));
    EXPECT_EQ(push_to(*a_, state.channels[0], "while b is still dead").status, 201);

    // Nothing was lost: the browser reconnects to node a, whose route replaces b's, and gets
    // both in order; later pushes at a reach it live.
    wc::UserAgent on_a(state, opts_);
    ASSERT_TRUE(on_a.connect(ws(*a_)));
    EXPECT_EQ(receive_text(on_a), "while b is dead");
    EXPECT_EQ(receive_text(on_a), "while b is still dead");
    EXPECT_TRUE(eventually([&] { return routes_to(*b_) == 0; }));
    EXPECT_EQ(push_to(*a_, state.channels[0], "after the move").status, 201);
    EXPECT_EQ(receive_text(on_a), "after the move");
}

}  // namespace
}  // namespace pushsvc::testing
