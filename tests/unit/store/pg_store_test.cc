// PgStore beyond the shared contract (store_contract_test.cc runs that): the versioned schema,
// and a database that goes away and comes back (a failover, a restart) while the store is open.
#include <gtest/gtest.h>

#include <string>

#include "pushsvc/store/pg_conn.h"
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
    EXPECT_TRUE(admin && admin->exec_script("CREATE SCHEMA " + name, err))
        << error << err.message;
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
    EXPECT_TRUE(must(again->get_message("m1")).has_value());     // and nothing lost
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
    auto store = PgStore::open(
        {.dsn = own.dsn(), .pool_size = 2, .connect_timeout_ms = 2000}, error);
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
