#pragma once
// A small RAII layer over one libpq connection, for PgStore (pg_store.h). Everything is sent
// in pipeline mode with binary parameters and results, so a group of statements costs one
// round trip and, ended by one Sync, runs as one implicit transaction (one commit).
//
// Ownership: PgConn owns its PGconn (PQfinish on destruction); PgResult owns a PGresult.
// Thread-safety: none; one thread uses a connection at a time (the pool hands it out).
// Timeouts: connecting and every wait for an answer are bounded by poll() deadlines, never by
// blocking libpq calls, so a primary that vanishes mid-call (failover, partition) makes the
// call fail after the deadline instead of hanging; the connection is then marked broken and
// the pool replaces it.
// Errors: a PgError with the SQLSTATE (empty when the connection itself failed).

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace pushsvc::store::pg {

// Owns one PGresult.
class PgResult {
  public:
    PgResult() = default;
    explicit PgResult(PGresult* r) : r_(r) {}
    PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
    PgResult& operator=(PgResult&& o) noexcept {
        if (this != &o) {
            if (r_) PQclear(r_);
            r_ = o.r_;
            o.r_ = nullptr;
        }
        return *this;
    }
    PgResult(const PgResult&) = delete;
    PgResult& operator=(const PgResult&) = delete;
    ~PgResult() {
        if (r_) PQclear(r_);
    }

    PGresult* raw() const { return r_; }
    int rows() const { return r_ ? PQntuples(r_) : 0; }
    bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
    // Binary-format readers; the column types must match (bytea, int8, int4, int2, bool).
    std::string bytes(int row, int col) const;
    std::int64_t i64(int row, int col) const;
    std::int32_t i32(int row, int col) const;
    std::int16_t i16(int row, int col) const;
    bool boolean(int row, int col) const;

  private:
    PGresult* r_ = nullptr;
};

// Parameters of one statement, all sent in binary.
class PgParams {
  public:
    PgParams& bytes(std::string_view v);  // bytea
    PgParams& i64(std::int64_t v);        // int8
    PgParams& i32(std::int32_t v);        // int4
    PgParams& i16(std::int16_t v);        // int2
    PgParams& boolean(bool v);            // bool
    int size() const { return int(values_.size()); }

  private:
    friend class PgConn;
    std::vector<std::string> values_;
    std::vector<Oid> types_;
};

// A named statement, prepared on a connection the first time it is used there.
struct Statement {
    const char* name;
    const char* sql;
};

struct PgError {
    std::string sqlstate;  // "" = the connection failed or timed out: it is broken now
    std::string message;
    bool retryable() const { return sqlstate == "40P01" || sqlstate == "40001"; }
};

// One statement of a pipeline and, after run(), its outcome.
struct Call {
    const Statement* statement;
    PgParams params;
};

class PgConn {
  public:
    using Clock = std::chrono::steady_clock;

    // Connects within `connect_timeout_ms` (libpq tries every host of a multi-host string in
    // turn; the deadline covers them all) and sets the session's statement_timeout.
    static std::unique_ptr<PgConn> connect(const std::string& dsn, int connect_timeout_ms,
                                           int statement_timeout_ms, std::string& error);
    ~PgConn();
    PgConn(const PgConn&) = delete;
    PgConn& operator=(const PgConn&) = delete;

    // Sends `calls` in one pipeline ended by one Sync: they run in one transaction, committed
    // at the end unless one fails (then none takes effect). Fills `out` with one result per
    // call. Waits at most statement_timeout + 1 s for the answers.
    bool run(std::vector<Call>& calls, std::vector<PgResult>& out, PgError& err);
    // One statement, plain text protocol, no parameters (schema set-up, several statements).
    bool exec_script(const std::string& sql, PgError& err);

    bool broken() const { return broken_; }
    std::string endpoint() const;  // "host:port" of the server it is connected to

  private:
    explicit PgConn(PGconn* c, int statement_timeout_ms)
        : c_(c), statement_timeout_ms_(statement_timeout_ms) {}
    bool flush(Clock::time_point deadline, PgError& err);
    bool wait_readable(Clock::time_point deadline, PgError& err);
    // The next result, waiting for it; nullptr at the end of one statement's results.
    bool next_result(Clock::time_point deadline, PgResult& out, bool& end, PgError& err);
    bool fail(std::string message, PgError& err);
    Clock::time_point deadline() const;

    PGconn* c_;
    int statement_timeout_ms_;
    bool broken_ = false;
    std::unordered_set<const Statement*> prepared_;
};

}  // namespace pushsvc::store::pg
