// Two (or three) cluster nodes in one process, sharing one store as nodes share PostgreSQL:
// each has its hub, router, store executor, internal listener (net::Server with the HTTP/1.1
// handler, as app/ wires it) and peer client, talking over real loopback sockets. What a
// browser on one node sees of pushes made on another, and how routes are set and cleared.
#include "pushsvc/cluster/router.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "pushsvc/cluster/internal_api.h"
#include "pushsvc/http1/session.h"
#include "pushsvc/net/server.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/store/memory_store.h"
#include "tests/support/forwarding_store.h"

namespace pushsvc::cluster {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const std::string kSecret(48, 's');

// A session: counts what the hub hands it, and lets the test wait for it.
struct Session : delivery::Target {
    std::mutex mu;
    std::condition_variable cv;
    int wakes = 0;
    std::vector<std::string> directs, acks, removals;

    void wake(std::shared_ptr<const store::MessageRecord> direct) override {
        std::lock_guard lk(mu);
        ++wakes;
        if (direct) directs.push_back(direct->id);
        cv.notify_all();
    }
    void acked(std::string id) override {
        std::lock_guard lk(mu);
        acks.push_back(std::move(id));
        cv.notify_all();
    }
    void removed(std::string id) override {
        std::lock_guard lk(mu);
        removals.push_back(std::move(id));
        cv.notify_all();
    }
    void replaced() override {}
    // Waits (5 s at most) until `done` holds.
    template <class Pred>
    bool wait(Pred done) {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, 5s, [&] { return done(*this); });
    }
};

// For state that changes without an event the test can wait on (a route cleared after a
// round trip to another node): checked every 5 ms, 5 s at most.
template <class Pred>
bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

struct Node {
    Node(store::Store& store, std::string id, const std::string& secret = kSecret)
        : store_(store), node_id(std::move(id)) {
        router = std::make_unique<Router>(store, hub, pool.get_executor(), clock);
        config::Config cfg;
        cfg.server.listen = "127.0.0.1:0";
        cfg.limits.max_body_bytes = 8u << 20;
        server = std::make_unique<net::Server>(ioc, cfg);
        EXPECT_TRUE(server->start());
        address = "http://127.0.0.1:" + std::to_string(server->cleartext_endpoint()->port());
        server->set_handlers(
            {.http1 = http1::protocol_handler(internal_handler(
                 hub, {.secret = secret, .node_id = node_id, .profile = config::Profile::compat})),
             .http2 = {}});
        peers = std::make_unique<PeerClient>(
            ioc, PeerOptions{.secret = secret, .node_id = node_id},
            [this](const std::string& uaid, std::uint64_t v) { router->stale(uaid, v); });
        router->start({.node_id = node_id, .address = address}, *peers);
        hub.set_presence(router.get());
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { ioc.run(); });
    }
    ~Node() {
        work.reset();
        ioc.stop();
        for (auto& t : threads) t.join();
        router->cancel_retries();
        pool.join();
        router->stop();
        peers.reset();
        server.reset();
    }
    // Every store job posted so far has run (the pool has one thread: first in, first out).
    void settle() {
        std::promise<void> done;
        asio::post(pool, [&done] { done.set_value(); });
        EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    }
    std::shared_ptr<Session> connect(const std::string& uaid, bool exclusive = true) {
        auto s = std::make_shared<Session>();
        hub.attach(uaid, s, exclusive);
        // The router wakes the session once its route is written.
        EXPECT_TRUE(s->wait([](Session& x) { return x.wakes >= 1; }));
        return s;
    }
    std::optional<store::RouteRecord> route(const std::string& uaid) {
        auto r = store_.get_route(uaid);
        EXPECT_TRUE(r);
        return r ? *r : std::nullopt;
    }

    store::Store& store_;
    std::string node_id, address;
    delivery::Hub hub;
    base::SystemClock clock;
    asio::thread_pool pool{1};
    std::unique_ptr<Router> router;
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::unique_ptr<net::Server> server;
    std::unique_ptr<PeerClient> peers;
    std::vector<std::thread> threads;
};

// The store of a database failing over: route writes fail while `down` is set.
struct MemoryHolder {
    store::MemoryStore inner;
};
class FailoverStore final : private MemoryHolder, public pushsvc::testing::ForwardingStore {
  public:
    FailoverStore() : ForwardingStore(inner) {}
    std::atomic<bool> down{false};
    std::atomic<int> route_writes{0};  // attempts, failed ones included

    result<std::uint64_t> set_route(std::string_view uaid, const store::RouteRecord& r) override {
        ++route_writes;
        if (down) return errc::store_failure;
        return ForwardingStore::set_route(uaid, r);
    }
};

// A node whose store is down while a browser connects: the first route write failed.
class RoutingFailover : public ::testing::Test {
  protected:
    RoutingFailover() {
        store.down = true;
        a.hub.attach("ua", s);
        a.settle();
    }
    FailoverStore store;
    Node a{store, "node-a"};
    std::shared_ptr<Session> s = std::make_shared<Session>();
};

// A connection made while the database fails over gets its route once it is back: without
// it, pushes on other nodes would not reach the browser until it reconnected.
TEST_F(RoutingFailover, ARouteThatCouldNotBeWrittenIsWrittenOnceTheStoreIsBack) {
    EXPECT_FALSE(a.route("ua").has_value());
    store.down = false;
    // The retry (after about a second) writes it and wakes the session to read its queue.
    EXPECT_TRUE(s->wait([](Session& x) { return x.wakes >= 1; }));
    auto r = a.route("ua");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->node_id, "node-a");
}

TEST_F(RoutingFailover, NoRetryForAUserAgentThatLeftMeanwhile) {
    a.hub.detach("ua", s.get());
    store.down = false;
    EXPECT_EQ(store.route_writes, 1);
    EXPECT_EQ(a.router->retries_pending(), 1u);
    // The retry's timer fires (after about a second; bounded wait) and writes nothing.
    for (int i = 0; i < 500 && a.router->retries_pending() > 0; ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(a.router->retries_pending(), 0u);
    a.settle();
    EXPECT_EQ(store.route_writes, 1);
    EXPECT_FALSE(a.route("ua").has_value());
}

// Shutting a node down does not wait for a retry's timer.
TEST_F(RoutingFailover, ShutdownCancelsPendingRetries) {
    EXPECT_EQ(a.router->retries_pending(), 1u);
    const auto start = std::chrono::steady_clock::now();
    a.router->cancel_retries();
    EXPECT_EQ(a.router->retries_pending(), 0u);
    a.settle();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(store.route_writes, 1);
}

class Routing : public ::testing::Test {
  protected:
    store::MemoryStore store_;
    Node a_{store_, "node-a"};
    Node b_{store_, "node-b"};
};

TEST_F(Routing, AConnectionSetsTheRouteAndItsEndClearsIt) {
    auto s = a_.connect("ua");
    auto r = a_.route("ua");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->node_id, "node-a");
    EXPECT_EQ(r->address, a_.address);
    EXPECT_GT(r->version, 0u);
    a_.hub.detach("ua", s.get());
    a_.settle();
    EXPECT_FALSE(a_.route("ua").has_value());
}

TEST_F(Routing, AnOlderConnectionsEndLeavesTheNewerRoute) {
    auto old_session = a_.connect("ua");
    auto new_session = b_.connect("ua");  // the browser moved to node b
    const auto newer = b_.route("ua");
    ASSERT_TRUE(newer.has_value());
    EXPECT_EQ(newer->node_id, "node-b");
    a_.hub.detach("ua", old_session.get());  // node a notices its old connection is gone
    a_.settle();
    auto r = a_.route("ua");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->version, newer->version);
}

TEST_F(Routing, EverythingAcceptedOnOneNodeReachesTheSessionOnTheOther) {
    auto s = b_.connect("ua");
    const auto sent = obs::catalog().cluster_sent.value();
    a_.router->forward({Event::Kind::wake, "ua", "", nullptr});
    EXPECT_TRUE(s->wait([](Session& x) { return x.wakes >= 2; }));
    auto ttl0 = std::make_shared<store::MessageRecord>();
    ttl0->uaid = "ua";
    ttl0->id = "now-or-never";
    a_.router->forward({Event::Kind::direct, "ua", "", ttl0});
    a_.router->forward({Event::Kind::acked, "ua", "m1", nullptr});
    a_.router->forward({Event::Kind::removed, "ua", "s1", nullptr});
    EXPECT_TRUE(s->wait([](Session& x) { return !x.removals.empty(); }));
    {
        std::lock_guard lk(s->mu);
        EXPECT_EQ(s->directs, (std::vector<std::string>{"now-or-never"}));
        EXPECT_EQ(s->acks, (std::vector<std::string>{"m1"}));  // in order, on one connection
        EXPECT_EQ(s->removals, (std::vector<std::string>{"s1"}));
    }
    // Counted when node b's answer arrives, just after it acted.
    EXPECT_TRUE(eventually([&] { return obs::catalog().cluster_sent.value() == sent + 4; }));
    EXPECT_TRUE(a_.route("ua").has_value());  // a subscription's removal keeps the route
}

// The route the append read goes along with a push: its node is told at once, without a job
// on the store executor (a thread hand-off per push, most of a node's CPU under load). Here
// that executor is busy throughout.
TEST_F(Routing, ARouteReadWithTheAppendIsUsedWithoutAStoreJob) {
    auto s = b_.connect("ua");
    auto route = a_.route("ua");
    ASSERT_TRUE(route.has_value());
    std::promise<void> release;
    asio::post(a_.pool, [f = release.get_future().share()] { f.wait(); });
    a_.router->forward({Event::Kind::wake, "ua", "", nullptr},
                       store::RouteSeen{.read = true, .route = route});
    EXPECT_TRUE(s->wait([](Session& x) { return x.wakes >= 2; }));
    release.set_value();
    a_.settle();
}

// Two processes configured with one node_id (an operator's mistake): a route naming that id
// with the other's address is not taken for a stale one of this node (clearing it would cut
// the other's browser off); the event goes to that address, and the conflict is counted.
TEST_F(Routing, TwoNodesSharingANodeIdStillReachEachOthersBrowsersAndSaySo) {
    Node twin{store_, "node-b"};
    auto s = twin.connect("ua");
    const auto conflicts = obs::catalog().cluster_node_id_conflicts.value();
    b_.router->forward({Event::Kind::wake, "ua", "", nullptr});
    EXPECT_TRUE(s->wait([](Session& x) { return x.wakes >= 2; }));
    b_.settle();
    EXPECT_EQ(obs::catalog().cluster_node_id_conflicts.value(), conflicts + 1);
    auto route = b_.route("ua");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->address, twin.address);
}

// A route of this node_id at another address written before this process started: this
// node's own, from a run at an earlier address (a restart with a new IP). Stale: cleared, and
// no conflict counted.
TEST_F(Routing, ARouteFromAnEarlierRunAtAnotherAddressIsStaleNotAConflict) {
    const auto before = base::SystemClock().now_ms() - 3'600'000;
    ASSERT_TRUE(store_.set_route(
        "ua", {.node_id = "node-b", .address = "http://127.0.0.1:1", .connected_ms = before}));
    const auto conflicts = obs::catalog().cluster_node_id_conflicts.value();
    b_.router->forward({Event::Kind::wake, "ua", "", nullptr});
    EXPECT_TRUE(eventually([&] { return !b_.route("ua").has_value(); }));
    EXPECT_EQ(obs::catalog().cluster_node_id_conflicts.value(), conflicts);
}

TEST_F(Routing, AUserAgentsRemovalIsToldToItsNodeAndItsRouteGoes) {
    auto s = b_.connect("ua");
    a_.router->forward({Event::Kind::removed, "ua", "", nullptr});
    EXPECT_TRUE(s->wait([](Session& x) { return !x.removals.empty(); }));
    EXPECT_TRUE(eventually([&] { return !a_.route("ua").has_value(); }));
}

TEST_F(Routing, AnEventForAUserAgentConnectedNowhereGoesNowhere) {
    const auto sent = obs::catalog().cluster_sent.value();
    a_.router->forward({Event::Kind::wake, "offline", "", nullptr});
    a_.settle();
    EXPECT_EQ(obs::catalog().cluster_sent.value(), sent);
}

TEST_F(Routing, ARouteToANodeThatNoLongerHoldsTheUserAgentIsCleared) {
    // Left behind: node b holds no session for it (a cleanup that failed, say).
    const auto v = store_.set_route("ua", {.node_id = "node-b", .address = b_.address});
    ASSERT_TRUE(v);
    const auto stale = obs::catalog().cluster_stale_routes.value();
    a_.router->forward({Event::Kind::wake, "ua", "", nullptr});
    EXPECT_TRUE(eventually([&] { return !a_.route("ua").has_value(); }));
    EXPECT_EQ(obs::catalog().cluster_stale_routes.value(), stale + 1);
}

TEST_F(Routing, ARouteOfThisNodeWithoutASessionHereIsCleared) {
    // Written by this node before a restart.
    ASSERT_TRUE(store_.set_route("ua", {.node_id = "node-a", .address = a_.address}));
    a_.router->forward({Event::Kind::wake, "ua", "", nullptr});
    EXPECT_TRUE(eventually([&] { return !a_.route("ua").has_value(); }));
}

TEST_F(Routing, AnUnreachableNodeIsGivenUpOnAfterBoundedRetriesAndItsRouteKept) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);  // nothing listens there now: a killed node
    const std::string dead = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    ASSERT_TRUE(store_.set_route("ua", {.node_id = "node-dead", .address = dead}));
    auto& unreachable = obs::catalog().cluster_failed(obs::ClusterFailure::unreachable);
    const auto failed = unreachable.value();
    const auto start = std::chrono::steady_clock::now();
    a_.router->forward({Event::Kind::wake, "ua", "", nullptr});
    EXPECT_TRUE(eventually([&] { return unreachable.value() == failed + 1; }));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);  // refused connects: no waiting
    // Kept: an unreachable node may be only cut off for a while, its browsers still connected.
    ASSERT_TRUE(a_.route("ua").has_value());
    EXPECT_EQ(a_.route("ua")->node_id, "node-dead");
}

TEST_F(Routing, ANodeWithAnotherSecretIsRefusedAndTheRouteKept) {
    Node intruder{store_, "node-x", std::string(48, 'x')};
    auto s = b_.connect("ua");
    auto& rejected = obs::catalog().cluster_failed(obs::ClusterFailure::rejected);
    const auto before = rejected.value();
    intruder.router->forward({Event::Kind::wake, "ua", "", nullptr});
    EXPECT_TRUE(eventually([&] { return rejected.value() == before + 1; }));
    EXPECT_TRUE(b_.route("ua").has_value());  // not stale: the node is right, the secret not
    std::lock_guard lk(s->mu);
    EXPECT_EQ(s->wakes, 1);  // the route's own wake only
}

TEST_F(Routing, MonitorsAlongsideEachOtherKeepTheRouteUntilTheLastGoes) {
    auto m1 = a_.connect("set", false);
    auto m2 = a_.connect("set", false);
    a_.hub.detach("set", m1.get());
    a_.settle();
    EXPECT_TRUE(a_.route("set").has_value());
    a_.router->forward({Event::Kind::wake, "set", "", nullptr});  // its own node: the hub did it
    a_.hub.detach("set", m2.get());
    a_.settle();
    EXPECT_FALSE(a_.route("set").has_value());
}

}  // namespace
}  // namespace pushsvc::cluster
