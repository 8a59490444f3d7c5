// PgStore beyond the shared contract (store_contract_test.cc runs that): the versioned schema,
// and a database that goes away and comes back (a failover, a restart) while the store is open.
#include <gtest/gtest.h>

#include <string>

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
    auto ua = must(store->get_user_agent("ua"));
    ASSERT_TRUE(ua.has_value());
    EXPECT_EQ(ua->last_seen_ms, 2);
    auto m = must(store->get_message("m1"));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->body, "hi");
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

}  // namespace
}  // namespace pushsvc::store
