// PgStore beyond the shared contract (store_contract_test.cc runs that): the versioned schema,
// and a database that goes away and comes back (a failover, a restart) while the store is open.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "pushsvc/store/pg_conn.h"
#include "pushsvc/store/pg_schema.h"
#include "pushsvc/store/pg_store.h"
#include "tests/support/pg_instance.h"
#include "tests/unit/store/store_test_support.h"

namespace pushsvc::store {
namespace {

using testing::make_message;
using testing::must;

// A fresh schema in the shared server; returns the DSN that uses it.
std::string fresh_schema(const std::string& name) {
    auto& pg = pushsvc::testing::shared_pg_instance();
    std::string error;
    auto admin = pg::PgConn::connect(pg.dsn(), 10'000, 10'000, error);
    pg::PgError err;
    EXPECT_TRUE(admin && admin->exec_script("CREATE SCHEMA " + name, err)) << error << err.message;
    return pg.dsn() + " options='-c search_path=" + name + "'";
}

// A fresh schema with a store open on it (which creates the tables) and a connection of the
// test's own to look at them; a member is null (and the test failed) when it could not open.
struct OpenSchema {
    std::unique_ptr<PgStore> store;
    std::unique_ptr<pg::PgConn> conn;
};
OpenSchema open_schema(const std::string& name) {
    const std::string dsn = fresh_schema(name);
    std::string error;
    OpenSchema out;
    out.store = PgStore::open({.dsn = dsn}, error);
    EXPECT_TRUE(out.store) << error;
    if (out.store) out.conn = pg::PgConn::connect(dsn, 10'000, 10'000, error);
    EXPECT_TRUE(out.conn) << error;
    return out;
}

TEST(PgStore, CreatesTheSchemaOnceAndRecordsItsVersion) {
    const std::string dsn = fresh_schema("versioned");
    std::string error;
    {
        auto store = PgStore::open({.dsn = dsn}, error);
        ASSERT_TRUE(store) << error;
        EXPECT_EQ(store->schema_found(), 0);  // created now
        // The store reads expiry against the system clock: a message received now.
        MessageRecord m = make_message("m1", "ua1", "s1", 600, "", base::SystemClock().now_ms());
        must(store->enqueue(m));
    }
    auto again = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(again) << error;
    EXPECT_EQ(again->schema_found(), PgStore::schema_version());  // nothing to migrate
    EXPECT_TRUE(must(again->get_message("m1")).has_value());      // and nothing lost
}

// A database an earlier pushsvc created (schema version 1, before cluster routes) is upgraded
// in place on open: its records stay, and routes work afterwards.
TEST(PgStore, UpgradesADatabaseOfSchemaVersion1) {
    const std::string dsn = fresh_schema("from_version_1");
    std::string error;
    auto conn = pg::PgConn::connect(dsn, 10'000, 10'000, error);
    ASSERT_TRUE(conn) << error;
    int found = -1;
    pg::PgError err;
    ASSERT_TRUE(pg::ensure_schema(*conn, found, err, 1)) << err.message;
    EXPECT_EQ(found, 0);
    // What version 1 held: a user agent and a queued message, written as it wrote them.
    ASSERT_TRUE(
        conn->exec_script("INSERT INTO user_agents VALUES ('\\x7561', 1, 2, 0);"
                          "SELECT out_status FROM pushsvc_enqueue('\\x6d31', "
                          "'\\x7561', '\\x7331', 1, 9223372036854775807, 600, "
                          "2::int2, '', '', '', '', '', 0, false, '\\x6869', 10)",
                          err))
        << err.message;
    ASSERT_TRUE(conn->exec_script("SELECT 1 FROM user_agents", err));  // no routes table yet
    EXPECT_FALSE(conn->exec_script("SELECT 1 FROM routes", err));

    auto store = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(store->schema_found(), 1);
    EXPECT_GE(PgStore::schema_version(), 2);
    // Version 4 starts each queue's chain of seqs at its highest queued message.
    MessageRecord m0 = make_message("m0", "ua", "s1", 600, "", 1);
    must(store->enqueue(m0));
    EXPECT_EQ(m0.prev_seq, must(store->get_message("m1"))->seq);
    must(store->delete_message("m0"));
    auto ua = must(store->get_user_agent("ua"));
    ASSERT_TRUE(ua.has_value());
    EXPECT_EQ(ua->last_seen_ms, 2);
    auto m = must(store->get_message("m1"));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->body, "hi");
    // The queue's length, kept by version 1's triggers, is carried on by the functions of
    // version 3; a node of an earlier version appending during a rolling upgrade counts too.
    EXPECT_EQ(must(store->queued("ua", 100)), 1u);
    ASSERT_TRUE(
        conn->exec_script("SELECT out_status FROM pushsvc_enqueue('\\x6d32', "
                          "'\\x7561', '\\x7331', 1, 9223372036854775807, 600, "
                          "2::int2, '', '', '', '', '', 0, false, '\\x6869', 10)",
                          err))
        << err.message;
    EXPECT_EQ(must(store->queued("ua", 100)), 2u);
    ASSERT_TRUE(must(store->delete_message("m1")).has_value());
    EXPECT_EQ(must(store->queued("ua", 100)), 1u);
    const auto v = must(store->set_route("ua", {.node_id = "n1", .address = "http://a:1"}));
    EXPECT_GT(v, 0u);
    EXPECT_EQ(must(store->get_route("ua"))->node_id, "n1");
    EXPECT_TRUE(must(store->clear_route("ua", v)));
    // Opening again finds the latest version: nothing runs twice.
    auto again = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(again) << error;
    EXPECT_EQ(again->schema_found(), PgStore::schema_version());
}

TEST(PgStore, RefusesADatabaseWithANewerSchema) {
    const std::string dsn = fresh_schema("from_the_future");
    std::string error;
    ASSERT_TRUE(PgStore::open({.dsn = dsn}, error)) << error;
    auto conn = pg::PgConn::connect(dsn, 10'000, 10'000, error);
    pg::PgError err;
    ASSERT_TRUE(conn && conn->exec_script("INSERT INTO schema_version VALUES (999, 0)", err));
    EXPECT_FALSE(PgStore::open({.dsn = dsn}, error));
    EXPECT_NE(error.find("schema version 999"), std::string::npos) << error;
}

TEST(PgStore, WrongDsnFailsOpenWithLibpqsReason) {
    std::string error;
    auto& pg = pushsvc::testing::shared_pg_instance();
    EXPECT_FALSE(PgStore::open({.dsn = pg.dsn("missing_db"), .connect_timeout_ms = 2000}, error));
    EXPECT_NE(error.find("missing_db"), std::string::npos) << error;
}

// The server stops under an open store: calls fail with store_failure (HTTP 503), promptly;
// once it is back, the next calls reconnect by themselves.
TEST(PgStore, FailsCallsWhileTheDatabaseIsDownAndReconnectsAfter) {
    pushsvc::testing::PgInstance own;  // its own server: stopping it disturbs no other test
    std::string error;
    auto store =
        PgStore::open({.dsn = own.dsn(), .pool_size = 2, .connect_timeout_ms = 2000}, error);
    ASSERT_TRUE(store) << error;
    MessageRecord before = make_message("before", "ua1", "s1");
    must(store->enqueue(before));

    own.stop();
    MessageRecord during = make_message("during", "ua1", "s1");
    auto refused = store->enqueue(during);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::store_failure);
    auto read = store->get_message("before");
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error(), errc::store_failure);

    own.restart();
    MessageRecord after = make_message("after", "ua1", "s1");
    must(store->enqueue(after));
    std::vector<std::string> ids;
    for (const auto& m : must(store->pending("ua1", testing::kT0, 0, 10))) ids.push_back(m.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"before", "after"}));
}

// Two nodes on one database. A push reads its subscription and owner from the node's cache
// (store.postgres.cache_ms), so the append checks in the database that the subscription still
// exists, and reads the user agent's route in the same call (no second round trip).
TEST(PgStore, PushPathAppendChecksTheSubscriptionAndReturnsTheRoute) {
    const std::string dsn = fresh_schema("push_path");
    std::string error;
    auto a = PgStore::open({.dsn = dsn, .cache_ms = 60'000}, error);
    ASSERT_TRUE(a) << error;
    auto b = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(b) << error;
    const auto now = base::SystemClock().now_ms();
    must(b->put_user_agent({"ua", now, now, AgentKind::user_agent}));
    must(b->put_subscription({"s1", "ua", "ch", "", now}));
    auto target = must(a->push_target("s1"));
    ASSERT_TRUE(target && target->owner);
    EXPECT_EQ(target->subscription->uaid, "ua");
    EXPECT_EQ(target->owner->last_seen_ms, now);

    // Not connected anywhere: read, and none.
    RouteSeen seen;
    MessageRecord m1 = make_message("m1", "ua", "s1", 600, "", now);
    must(a->enqueue(m1, Store::kNoQueueCap, &seen));
    EXPECT_TRUE(seen.read);
    EXPECT_FALSE(seen.route.has_value());
    // Connected to node B: the append returns B's route.
    const auto v = must(b->set_route("ua", {.node_id = "nB", .address = "http://b:1"}));
    MessageRecord m2 = make_message("m2", "ua", "s1", 600, "", now);
    must(a->enqueue(m2, Store::kNoQueueCap, &seen));
    ASSERT_TRUE(seen.read && seen.route);
    EXPECT_EQ(seen.route->node_id, "nB");
    EXPECT_EQ(seen.route->address, "http://b:1");
    EXPECT_EQ(seen.route->version, v);

    // Removed on node B: node A's cache still has it, and its next append is refused (410),
    // not stored (R8030-7.3-d).
    ASSERT_TRUE(must(b->delete_subscription("s1")));
    EXPECT_TRUE(must(a->push_target("s1")).has_value());
    MessageRecord m3 = make_message("m3", "ua", "s1", 600, "", now);
    auto refused = a->enqueue(m3, Store::kNoQueueCap, &seen);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::subscription_gone);
    EXPECT_FALSE(must(b->get_message("m3")).has_value());
    EXPECT_EQ(must(b->queued("ua", 100)), 0u);
    // A node without the cache, and node B itself, see the removal at once.
    EXPECT_FALSE(must(b->push_target("s1")).has_value());
    auto uncached = PgStore::open({.dsn = dsn, .cache_ms = 0}, error);
    ASSERT_TRUE(uncached) << error;
    EXPECT_FALSE(must(uncached->push_target("s1")).has_value());

    // A record without a subscription (a receipt) is checked against its user agent.
    MessageRecord receipt = make_message("r1", "ua", "", 600, "", now);
    must(a->enqueue(receipt, Store::kNoQueueCap, &seen));
    must(b->delete_user_agent("ua"));
    MessageRecord receipt2 = make_message("r2", "ua", "", 600, "", now);
    refused = a->enqueue(receipt2, Store::kNoQueueCap, &seen);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::subscription_gone);
    // The store's own callers (no route asked for) are not checked: the contract suite's
    // appends name no records.
    MessageRecord plain = make_message("p1", "nobody", "none", 600, "", now);
    must(a->enqueue(plain));
}

// Every append names the seq appended to its queue just before it (schema version 4): what a
// session that has read its queue up to that seq needs to take the message from its wake-up
// without reading the queue. A refused append gives its seq back, so the next message follows
// the last one really queued; another queue's appends do not count.
TEST(PgStore, AnAppendNamesTheSeqAppendedToItsQueueBeforeIt) {
    const std::string dsn = fresh_schema("prev_seq");
    std::string error;
    auto store = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(store) << error;
    const auto now = base::SystemClock().now_ms();
    must(store->put_user_agent({"ua", now, now, AgentKind::user_agent}));
    must(store->put_subscription({"s1", "ua", "ch", "", now}));
    auto append = [&](const std::string& id, const std::string& uaid, std::size_t cap,
                      const std::string& topic = "", RouteSeen* seen = nullptr) {
        MessageRecord m = make_message(id, uaid, uaid == "ua" ? "s1" : "s2", 600, topic, now);
        auto r = store->enqueue(m, cap, seen);
        return std::make_pair(m, r.has_value());
    };
    auto [a, a_ok] = append("a", "ua", 10);
    ASSERT_TRUE(a_ok);
    EXPECT_EQ(a.prev_seq, 0u);  // the queue's first: nothing to follow
    auto [other, other_ok] = append("o", "other", 10);
    ASSERT_TRUE(other_ok);
    auto [b, b_ok] = append("b", "ua", 10);
    ASSERT_TRUE(b_ok);
    EXPECT_EQ(b.prev_seq, a.seq);
    EXPECT_GT(b.seq, other.seq);
    auto [full, full_ok] = append("full", "ua", 2);  // two queued: 429
    EXPECT_FALSE(full_ok);
    must(store->delete_message("a"));  // an ack does not move it either
    auto [c, c_ok] = append("c", "ua", 10, "t");
    ASSERT_TRUE(c_ok);
    EXPECT_EQ(c.prev_seq, b.seq);
    auto [d, d_ok] = append("d", "ua", 10, "t");  // replaces c
    ASSERT_TRUE(d_ok);
    EXPECT_EQ(d.prev_seq, c.seq);
    // Refused for a subscription gone since the node read it: the seq is given back too.
    ASSERT_TRUE(must(store->delete_subscription("s1")));
    RouteSeen seen;
    auto [gone, gone_ok] = append("gone", "ua", 10, "", &seen);
    EXPECT_FALSE(gone_ok);
    must(store->put_subscription({"s1", "ua", "ch", "", now}));
    auto [e, e_ok] = append("e", "ua", 10, "", &seen);
    ASSERT_TRUE(e_ok);
    EXPECT_EQ(e.prev_seq, d.seq);
    // A reader that had looked up to d (gone with its subscription) finds only e after it.
    auto pending = must(store->pending("ua", now, d.seq - 1, 10));
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].id, "e");
}

// Schema version 5: an ack counts out on a row of its own, so it does not wait for an append
// in flight on its queue (which holds the queue's row lock until its commit, a wait for the
// synchronous standby in a cluster). The length stays exact.
TEST(PgStore, AnAckDoesNotWaitForAnAppendInFlightOnItsQueue) {
    const std::string dsn = fresh_schema("ack_no_lock");
    std::string error;
    auto store = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(store) << error;
    const auto now = base::SystemClock().now_ms();
    MessageRecord m1 = make_message("m1", "ua", "s1", 600, "", now);
    MessageRecord m2 = make_message("m2", "ua", "s1", 600, "", now);
    must(store->enqueue(m1));
    must(store->enqueue(m2));
    auto holder = pg::PgConn::connect(dsn, 10'000, 10'000, error);
    ASSERT_TRUE(holder) << error;
    pg::PgError err;
    ASSERT_TRUE(holder->exec_script("BEGIN; SELECT pushsvc_lock_queue('\\x7561')", err))
        << err.message;
    // Bounded either way: a delete that waited would fail at the statement timeout (5 s).
    auto ack = std::async(std::launch::async, [&] { return store->delete_message("m1"); });
    ASSERT_EQ(ack.wait_for(std::chrono::seconds(3)), std::future_status::ready);
    auto gone = ack.get();
    ASSERT_TRUE(gone.has_value());
    EXPECT_TRUE(gone->has_value());
    ASSERT_TRUE(holder->exec_script("COMMIT", err)) << err.message;
    EXPECT_EQ(must(store->queued("ua", 100)), 1u);
    EXPECT_EQ(must(store->stats()).queued_messages, 1u);
    // A second delete of the same message counts nothing out.
    EXPECT_FALSE(must(store->delete_message("m1")).has_value());
    EXPECT_EQ(must(store->queued("ua", 100)), 1u);
    // The cap counts what the acks took out: two more fit under a cap of 3, a third does not.
    MessageRecord m3 = make_message("m3", "ua", "s1", 600, "", now);
    MessageRecord m4 = make_message("m4", "ua", "s1", 600, "", now);
    MessageRecord m5 = make_message("m5", "ua", "s1", 600, "", now);
    EXPECT_TRUE(store->enqueue(m3, 3, nullptr).has_value());
    EXPECT_TRUE(store->enqueue(m4, 3, nullptr).has_value());
    auto full = store->enqueue(m5, 3, nullptr);
    ASSERT_FALSE(full.has_value());
    EXPECT_EQ(full.error(), errc::too_many_requests);
    // Deleting the user agent takes its counts along: a queue of that uaid starts empty.
    must(store->delete_user_agent("ua"));
    EXPECT_EQ(must(store->queued("ua", 100)), 0u);
    must(store->enqueue(m5, 1, nullptr));
    EXPECT_EQ(must(store->queued("ua", 100)), 1u);
}

// Schema version 6: vacuum keeps the pages a drained queue leaves empty at the end of
// `messages` (giving them back takes a lock that stops every append; see pg_migrations.cc).
TEST(PgStore, VacuumKeepsTheEmptyEndOfTheMessagesTable) {
    const std::string dsn = fresh_schema("vacuum_keeps_pages");
    std::string error;
    auto store = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(store) << error;
    const auto now = base::SystemClock().now_ms();
    constexpr int kMessages = 200;  // two 3 KB bodies per 8 KB page: ~100 pages
    for (int i = 0; i < kMessages; ++i) {
        MessageRecord m = make_message("m" + std::to_string(i), "ua", "s", 600, "", now);
        m.body.assign(3000, char('a' + i % 26));
        must(store->enqueue(m));
    }
    for (int i = 0; i < kMessages; ++i) must(store->delete_message("m" + std::to_string(i)));
    auto conn = pg::PgConn::connect(dsn, 10'000, 10'000, error);
    ASSERT_TRUE(conn) << error;
    pg::PgError err;
    ASSERT_TRUE(conn->exec_script("VACUUM messages", err)) << err.message;
    // An empty table afterwards, every page of it free: without the setting vacuum truncates
    // it to 0 pages.
    std::vector<pg::Call> calls;
    const pg::Statement size{"test_messages_pages",
                             "SELECT (pg_relation_size('messages') / 8192)::int8"};
    calls.push_back({&size, {}});
    std::vector<pg::PgResult> out;
    ASSERT_TRUE(conn->run(calls, out, err)) << err.message;
    EXPECT_GE(out.at(0).i64(0, 0), 50);
    EXPECT_EQ(must(store->queued("ua", 10)), 0u);
}

// Schema version 7: ANALYZE of `messages` samples 3,000 rows, not 30,000 (each row carries a
// body). The sample follows the largest statistics target of the table's columns: every one
// is 10; and seen in the statistics, a column of distinct values gets 11 histogram bounds (10
// buckets), not 101.
TEST(PgStore, AnalyzeOfTheMessagesTableTakesASmallSample) {
    auto schema = open_schema("analyze_sample");
    ASSERT_TRUE(schema.store && schema.conn);
    auto& conn = schema.conn;
    pg::PgError err;
    ASSERT_TRUE(conn->exec_script(
        "INSERT INTO messages SELECT int8send(n), 'ua', 's', n, 0, 9000000000000, 60, 2, '', "
        "'aes128gcm', '', '', '', 0, false, '' FROM generate_series(1, 4000) n; "
        "ANALYZE messages",
        err))
        << err.message;
    std::vector<pg::Call> calls;
    const pg::Statement targets{"test_stat_targets",
                                "SELECT max(attstattarget)::int8 FROM pg_attribute WHERE "
                                "attrelid = 'messages'::regclass AND attnum > 0 AND NOT "
                                "attisdropped"};
    const pg::Statement bounds{"test_seq_bounds",
                               "SELECT coalesce(array_length(histogram_bounds::text::text[], 1), "
                               "0)::int8 FROM pg_stats WHERE schemaname = current_schema() AND "
                               "tablename = 'messages' AND attname = 'seq'"};
    calls.push_back({&targets, {}});
    calls.push_back({&bounds, {}});
    std::vector<pg::PgResult> out;
    ASSERT_TRUE(conn->run(calls, out, err)) << err.message;
    EXPECT_EQ(out.at(0).i64(0, 0), 10);
    ASSERT_EQ(out.at(1).rows(), 1);
    EXPECT_EQ(out.at(1).i64(0, 0), 11);
}

// Acknowledgements share commits like appends (pg_group_commit.h). Concurrent ones, each
// message acked twice at once (two connections of a browser, say): each message is removed
// and returned exactly once, whichever batch or position its two deletes took, and the
// queue's length is exact afterwards.
TEST(PgStore, ConcurrentAcksEachRemoveTheirMessageOnce) {
    const std::string dsn = fresh_schema("acks_batched");
    std::string error;
    auto store = PgStore::open({.dsn = dsn, .pool_size = 2}, error);
    ASSERT_TRUE(store) << error;
    const auto now = base::SystemClock().now_ms();
    constexpr int kMessages = 24;
    for (int i = 0; i < kMessages; ++i) {
        MessageRecord m =
            make_message("m" + std::to_string(i), "ua" + std::to_string(i % 3), "s", 600, "", now);
        must(store->enqueue(m));
    }
    MessageRecord keep = make_message("keep", "ua0", "s", 600, "", now);
    must(store->enqueue(keep));
    std::atomic<int> removed{0}, absent{0}, failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2 * kMessages; ++t)
        threads.emplace_back([&, t] {
            auto r = store->delete_message("m" + std::to_string(t % kMessages));
            if (!r)
                ++failed;
            else if (r->has_value())
                ++removed;
            else
                ++absent;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(removed.load(), kMessages);
    EXPECT_EQ(absent.load(), kMessages);
    EXPECT_EQ(must(store->queued("ua0", 100)), 1u);
    EXPECT_EQ(must(store->queued("ua1", 100)), 0u);
    EXPECT_EQ(must(store->stats()).queued_messages, 1u);
    EXPECT_TRUE(must(store->get_message("keep")).has_value());
}

// The read of a queue uses the queue's index: on an empty table (the store's sessions run
// without sequential scans, which a plan cached while `messages` was a page kept doing as it
// grew), and whatever the statistics say. On a busy cluster they were often taken when the
// table held a handful of rows; the planner then estimated one row either way and sometimes
// preferred the expiry index, reading every unexpired entry to find one queue's. The expiry
// condition can no longer be an index condition: even with the queue index gone, it is not one.
TEST(PgStore, PendingReadsTheQueueIndexAndNeverScansByExpiry) {
    auto schema = open_schema("pending_plan");
    ASSERT_TRUE(schema.store && schema.conn);
    auto& conn = schema.conn;
    pg::PgError err;
    auto plan = [&](const char* mode) {
        std::string text;
        if (!conn->exec_script(std::string("SET plan_cache_mode = ") + mode, err)) return text;
        const pg::Statement explain{"explain", "EXPLAIN EXECUTE pending('\\x753130', 0, 1, 100)"};
        std::vector<pg::Call> calls{{&explain, {}}};
        std::vector<pg::PgResult> out;
        if (!conn->run(calls, out, err)) return text;
        for (int i = 0; i < out.at(0).rows(); ++i) text += out.at(0).bytes(i, 0) + "\n";
        return text;
    };
    ASSERT_TRUE(
        conn->exec_script(std::string("PREPARE pending AS ") + PgStore::pending_query(), err))
        << err.message;
    const std::string insert =
        "INSERT INTO messages SELECT convert_to('m' || i, 'UTF8'), convert_to('u' || (i % 300), "
        "'UTF8'), '\\x73', nextval('message_seq'), 0, 9000000000000 + i, 60, 2, '', '', '', '', "
        "'', 0, false, '\\x6869' FROM generate_series";
    // A table of one page, and statistics saying so: a scan of it would be the cheapest plan,
    // and would stay cached as the table grows.
    for (const std::string& sql : {insert + "(1, 5) i", std::string("VACUUM ANALYZE messages")})
        ASSERT_TRUE(conn->exec_script(sql, err)) << sql << ": " << err.message;
    const std::string small = plan("force_generic_plan");
    EXPECT_NE(small.find("messages_queue"), std::string::npos) << small;
    ASSERT_TRUE(conn->exec_script(insert + "(6, 6000) i; ANALYZE messages", err)) << err.message;
    for (const char* mode : {"force_generic_plan", "force_custom_plan"}) {
        const std::string p = plan(mode);
        EXPECT_NE(p.find("messages_queue"), std::string::npos) << mode << "\n" << p;
    }
    ASSERT_TRUE(conn->exec_script("BEGIN; DROP INDEX messages_queue", err)) << err.message;
    for (const char* mode : {"force_generic_plan", "force_custom_plan"}) {
        const std::string p = plan(mode);
        EXPECT_NE(p.find("messages"), std::string::npos) << mode << "\n" << p;
        EXPECT_EQ(p.find("Index Cond: ((expires_ms"), std::string::npos) << mode << "\n" << p;
    }
    ASSERT_TRUE(conn->exec_script("ROLLBACK", err)) << err.message;
}

// Why the route read inside the append is enough: set_route waits for the queue's lock, which
// an append holds until it commits. So a connection either wrote its route before the append
// read it, or writes it (and then reads its queue) only after the append is visible.
TEST(PgStore, SetRouteWaitsForTheQueueLockOfAnAppendInFlight) {
    const std::string dsn = fresh_schema("route_lock");
    std::string error;
    auto store = PgStore::open({.dsn = dsn}, error);
    ASSERT_TRUE(store) << error;
    auto holder = pg::PgConn::connect(dsn, 10'000, 10'000, error);
    ASSERT_TRUE(holder) << error;
    pg::PgError err;
    // What an append in flight holds: the queue's row lock, until its commit.
    ASSERT_TRUE(holder->exec_script("BEGIN; SELECT pushsvc_lock_queue('\\x7561')", err))
        << err.message;
    std::atomic<bool> written{false};
    std::thread connect([&] {
        must(store->set_route("ua", {.node_id = "n1", .address = "http://a:1"}));
        written = true;
    });
    // Wait (bounded) until the route write is seen waiting on a lock.
    auto watcher = pg::PgConn::connect(dsn, 10'000, 10'000, error);
    ASSERT_TRUE(watcher) << error;
    bool waiting = false;
    for (int i = 0; i < 200 && !waiting && !written; ++i) {
        std::vector<pg::PgResult> out;
        const pg::Statement st{"waiting",
                               "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                               "'Lock' AND query LIKE '%pushsvc_set_route%'"};
        std::vector<pg::Call> calls{{&st, {}}};
        ASSERT_TRUE(watcher->run(calls, out, err)) << err.message;
        waiting = out.at(0).i64(0, 0) > 0;
        if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(waiting);
    EXPECT_FALSE(written);
    ASSERT_TRUE(holder->exec_script("COMMIT", err)) << err.message;
    connect.join();
    EXPECT_TRUE(written);
    EXPECT_EQ(must(store->get_route("ua"))->node_id, "n1");
}

}  // namespace
}  // namespace pushsvc::store
