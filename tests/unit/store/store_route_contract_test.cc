// The Store contract for routes (cluster mode, docs/cluster.md): set_route, get_route and the
// compare-and-delete clear_route, run against every backend like store_contract_test.cc
// (MemoryStore and RocksStore in unit_store, PgStore on a real PostgreSQL in
// unit_store_postgres).

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/store/store_contract.h"

namespace pushsvc::store {
namespace {

using contract::BackendName;
using contract::Backends;
using testing::kT0;
using testing::must;

template <class Backend>
class RouteContract : public contract::StoreContract<Backend> {};
TYPED_TEST_SUITE(RouteContract, Backends, BackendName);

RouteRecord route_at(const std::string& node, base::UnixMs since = kT0) {
    return {.node_id = node, .address = "http://" + node + ":7000", .connected_ms = since};
}

TYPED_TEST(RouteContract, SetsAndReadsARoute) {
    Store& s = this->store();
    EXPECT_FALSE(must(s.get_route("ua1")).has_value());
    const auto v = must(s.set_route("ua1", route_at("node-a", kT0 + 7)));
    EXPECT_GT(v, 0u);
    auto r = must(s.get_route("ua1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->node_id, "node-a");
    EXPECT_EQ(r->address, "http://node-a:7000");
    EXPECT_EQ(r->version, v);
    EXPECT_EQ(r->connected_ms, kT0 + 7);
    EXPECT_FALSE(must(s.get_route("ua2")).has_value());  // one route per user agent
}

TYPED_TEST(RouteContract, ALaterConnectionReplacesTheRouteWithALargerVersion) {
    Store& s = this->store();
    const auto v1 = must(s.set_route("ua1", route_at("node-a")));
    const auto v2 = must(s.set_route("ua1", route_at("node-b")));
    EXPECT_GT(v2, v1);
    auto r = must(s.get_route("ua1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->node_id, "node-b");
    EXPECT_EQ(r->version, v2);
    // Versions are unique across user agents too: they identify connections store-wide.
    const auto other = must(s.set_route("ua2", route_at("node-a")));
    EXPECT_GT(other, v2);
}

TYPED_TEST(RouteContract, ALateWriteForAnOlderConnectionOnAnotherNodeDoesNotWin) {
    Store& s = this->store();
    // node-b's connection attached at kT0 + 20 and its route is in; node-a's connection from
    // kT0 + 10 retries its write only now (it waited out a failover): it must not win.
    const auto newer = must(s.set_route("ua1", route_at("node-b", kT0 + 20)));
    EXPECT_EQ(must(s.set_route("ua1", route_at("node-a", kT0 + 10))), 0u);
    auto r = must(s.get_route("ua1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->node_id, "node-b");
    EXPECT_EQ(r->version, newer);
    // The same node may write again (a reconnect there), and a later attach elsewhere wins.
    EXPECT_GT(must(s.set_route("ua1", route_at("node-b", kT0 + 15))), newer);
    EXPECT_GT(must(s.set_route("ua1", route_at("node-a", kT0 + 30))), newer);
    EXPECT_EQ(must(s.get_route("ua1"))->node_id, "node-a");
}

TYPED_TEST(RouteContract, AnOlderConnectionsCleanupNeverRemovesANewerRoute) {
    Store& s = this->store();
    const auto old_version = must(s.set_route("ua1", route_at("node-a")));
    const auto new_version = must(s.set_route("ua1", route_at("node-b")));
    // node-a's connection ends after the browser moved to node-b.
    EXPECT_FALSE(must(s.clear_route("ua1", old_version)));
    auto r = must(s.get_route("ua1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->node_id, "node-b");
    // node-b's connection ends: its own version clears it, once.
    EXPECT_TRUE(must(s.clear_route("ua1", new_version)));
    EXPECT_FALSE(must(s.get_route("ua1")).has_value());
    EXPECT_FALSE(must(s.clear_route("ua1", new_version)));
    EXPECT_FALSE(must(s.clear_route("never-routed", 1)));
}

TYPED_TEST(RouteContract, RoutesAreIndependentOfTheUserAgentRecord) {
    Store& s = this->store();
    must(s.put_user_agent({.uaid = "ua1", .created_ms = kT0, .last_seen_ms = kT0}));
    const auto v = must(s.set_route("ua1", route_at("node-a")));
    // Deleting the user agent leaves the route to the router, which tells the node holding
    // the connection and then clears it by its version.
    must(s.delete_user_agent("ua1"));
    EXPECT_FALSE(must(s.get_user_agent("ua1")).has_value());
    ASSERT_TRUE(must(s.get_route("ua1")).has_value());
    EXPECT_TRUE(must(s.clear_route("ua1", v)));
    // And a route does not make a user agent exist.
    EXPECT_FALSE(must(s.get_user_agent("ua1")).has_value());
}

// Nodes set and clear routes of one user agent at once (a browser reconnecting while its old
// connection's cleanup runs): every version is distinct, the stored route is the one with the
// largest version that was written, and only that version can clear it.
TYPED_TEST(RouteContract, ConcurrentSetsKeepTheLargestVersion) {
    Store& s = this->store();
    constexpr int kThreads = 4, kRounds = 20;
    std::vector<std::vector<std::uint64_t>> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&s, &got, t] {
            for (int i = 0; i < kRounds; ++i) {
                auto v = s.set_route("ua1", route_at("node-" + std::to_string(t)));
                if (v) got[std::size_t(t)].push_back(*v);
            }
        });
    for (auto& th : threads) th.join();
    std::set<std::uint64_t> written;
    std::size_t calls = 0;
    for (const auto& vs : got) {
        calls += vs.size();
        for (auto v : vs) {
            if (v != 0) {
                EXPECT_TRUE(written.insert(v).second) << "version " << v << " twice";
            }
        }
    }
    EXPECT_EQ(calls, std::size_t(kThreads * kRounds));  // no call failed
    ASSERT_FALSE(written.empty());
    auto r = must(s.get_route("ua1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->version, *written.rbegin());
    for (auto v : written) {
        if (v != r->version) {
            EXPECT_FALSE(must(s.clear_route("ua1", v)));
        }
    }
    EXPECT_TRUE(must(s.clear_route("ua1", r->version)));
    EXPECT_FALSE(must(s.get_route("ua1")).has_value());
}

TYPED_TEST(RouteContract, OpaqueBytesRoundTrip) {
    Store& s = this->store();
    const std::string uaid("\x00\xff\x10ua", 5);
    RouteRecord r{.node_id = std::string("n\x00\xfe", 3), .address = "http://[::1]:7000"};
    const auto v = must(s.set_route(uaid, r));
    auto back = must(s.get_route(uaid));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->node_id, r.node_id);
    EXPECT_EQ(back->address, r.address);
    EXPECT_FALSE(must(s.get_route(std::string("\x00\xff\x10", 3))).has_value());
    EXPECT_TRUE(must(s.clear_route(uaid, v)));
}

}  // namespace
}  // namespace pushsvc::store
