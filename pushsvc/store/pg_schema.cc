#include "pushsvc/store/pg_schema.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "pushsvc/store/pg_migrations.h"

namespace pushsvc::store::pg {
namespace {

// Any constant: the advisory lock that serialises schema changes between nodes.
constexpr const char* kLockKey = "7427301885";

const Statement kReadVersion{"pushsvc_schema_version",
                             "SELECT coalesce(max(version), 0)::int4 FROM schema_version"};

}  // namespace

int schema_version() { return int(migrations().size()); }

bool ensure_schema(PgConn& conn, int& found, PgError& err, int target) {
    if (!conn.exec_script(std::string("SELECT pg_advisory_lock(") + kLockKey +
                              ");"
                              "CREATE TABLE IF NOT EXISTS schema_version ("
                              " version integer PRIMARY KEY, applied_ms bigint NOT NULL)",
                          err))
        return false;
    std::vector<Call> calls{{&kReadVersion, {}}};
    std::vector<PgResult> out;
    if (!conn.run(calls, out, err)) return false;
    found = out.at(0).i32(0, 0);
    if (found > schema_version()) {
        err.sqlstate.clear();
        err.message = "the database has schema version " + std::to_string(found) +
                      ", newer than this pushsvc knows (" + std::to_string(schema_version()) +
                      "): run a newer pushsvc";
        return false;
    }
    for (int v = found; v < std::min(target, schema_version()); ++v) {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        // One transaction per migration: a failure leaves the database at the last complete
        // version (the script stops at the first error; ROLLBACK ends the aborted block).
        std::string script = std::string("BEGIN;") + migrations()[std::size_t(v)] +
                             ";INSERT INTO schema_version VALUES (" + std::to_string(v + 1) + ", " +
                             std::to_string(now) + ");COMMIT";
        if (!conn.exec_script(script, err)) {
            PgError ignored;
            conn.exec_script("ROLLBACK", ignored);
            err.message =
                "schema migration to version " + std::to_string(v + 1) + " failed: " + err.message;
            return false;
        }
    }
    return conn.exec_script(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")", err);
}

}  // namespace pushsvc::store::pg
