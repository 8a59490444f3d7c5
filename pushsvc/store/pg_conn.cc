#include "pushsvc/store/pg_conn.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pushsvc::store::pg {
namespace {

// Binary wire values are big-endian (PostgreSQL's send/recv functions).
template <class T>
std::string be(T v) {
    using U = std::make_unsigned_t<T>;
    U u = static_cast<U>(v);
    std::string out(sizeof(T), '\0');
    for (std::size_t i = 0; i < sizeof(T); ++i)
        out[sizeof(T) - 1 - i] = static_cast<char>((u >> (8 * i)) & 0xff);
    return out;
}

template <class T>
T from_be(const char* p, int len) {
    using U = std::make_unsigned_t<T>;
    if (len != int(sizeof(T))) return 0;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u = U((u << 8) | static_cast<unsigned char>(p[i]));
    return static_cast<T>(u);
}

// Type oids of the parameters (pg_type.h), so the server never has to guess.
constexpr Oid kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kBool = 16;

std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    for (auto& c : s)
        if (c == '\n') c = ' ';  // one line in the log
    return s;
}

}  // namespace

std::string PgResult::bytes(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), std::size_t(PQgetlength(r_, row, col)));
}
std::int64_t PgResult::i64(int row, int col) const {
    return from_be<std::int64_t>(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
std::int32_t PgResult::i32(int row, int col) const {
    return from_be<std::int32_t>(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
std::int16_t PgResult::i16(int row, int col) const {
    return from_be<std::int16_t>(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
bool PgResult::boolean(int row, int col) const {
    return PQgetlength(r_, row, col) == 1 && PQgetvalue(r_, row, col)[0] != 0;
}

PgParams& PgParams::bytes(std::string_view v) {
    values_.emplace_back(v);
    types_.push_back(kBytea);
    return *this;
}
PgParams& PgParams::i64(std::int64_t v) {
    values_.push_back(be(v));
    types_.push_back(kInt8);
    return *this;
}
PgParams& PgParams::i32(std::int32_t v) {
    values_.push_back(be(v));
    types_.push_back(kInt4);
    return *this;
}
PgParams& PgParams::i16(std::int16_t v) {
    values_.push_back(be(v));
    types_.push_back(kInt2);
    return *this;
}
PgParams& PgParams::boolean(bool v) {
    values_.push_back(std::string(1, v ? '\1' : '\0'));
    types_.push_back(kBool);
    return *this;
}

std::unique_ptr<PgConn> PgConn::connect(const std::string& dsn, int connect_timeout_ms,
                                        int statement_timeout_ms, std::string& error) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(connect_timeout_ms);
    PGconn* c = PQconnectStart(dsn.c_str());
    if (c == nullptr) {
        error = "out of memory";
        return nullptr;
    }
    auto give_up = [&](std::string why) -> std::unique_ptr<PgConn> {
        error = std::move(why);
        PQfinish(c);
        return nullptr;
    };
    if (PQstatus(c) == CONNECTION_BAD) return give_up(trimmed(PQerrorMessage(c)));
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) return give_up(trimmed(PQerrorMessage(c)));
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return give_up("no connection within " + std::to_string(connect_timeout_ms) + " ms");
        // The socket may change as libpq moves on to the next host: read it every time.
        pollfd p{PQsocket(c), short(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
        int n = ::poll(&p, 1, int(left.count()));
        if (n < 0 && errno != EINTR) return give_up(std::string("poll: ") + std::strerror(errno));
        if (n > 0) st = PQconnectPoll(c);
    }
    if (PQsetnonblocking(c, 1) != 0) return give_up(trimmed(PQerrorMessage(c)));
    // Notices ("relation ... already exists, skipping") would go to stderr by default; what
    // matters reaches the caller as an error instead.
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    std::unique_ptr<PgConn> conn(new PgConn(c, statement_timeout_ms));
    PgError err;
    // No sequential scans: every statement of the store has an index made for it, and the
    // tables are queues whose size swings from a page to a backlog within seconds. A plan made
    // while `messages` was a page or two (a scan of it, cached for the session) kept scanning
    // it as it grew: on a 3-node cluster at 1,000 messages/s a few thousand such scans per
    // 20 s took a quarter more database CPU per message from one run to the next.
    if (!conn->exec_script("SET statement_timeout = " + std::to_string(statement_timeout_ms) +
                               "; SET enable_seqscan = off",
                           err)) {
        error = err.message;
        return nullptr;
    }
    return conn;
}

PgConn::~PgConn() { PQfinish(c_); }

std::string PgConn::endpoint() const {
    const char* host = PQhost(c_);
    const char* port = PQport(c_);
    return std::string(host ? host : "?") + ":" + (port ? port : "?");
}

PgConn::Clock::time_point PgConn::deadline() const {
    // The server cancels a statement at statement_timeout; a second more is for the answer to
    // arrive. Past that the server (or the network) is gone.
    return Clock::now() + std::chrono::milliseconds(statement_timeout_ms_ + 1000);
}

bool PgConn::fail(std::string message, PgError& err) {
    broken_ = true;
    err.sqlstate.clear();
    err.message = std::move(message);
    return false;
}

bool PgConn::flush(Clock::time_point deadline, PgError& err) {
    for (;;) {
        int r = PQflush(c_);
        if (r == 0) return true;
        if (r < 0) return fail(trimmed(PQerrorMessage(c_)), err);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return fail("timed out sending to the database", err);
        pollfd p{PQsocket(c_), POLLOUT | POLLIN, 0};
        if (::poll(&p, 1, int(left.count())) < 0 && errno != EINTR)
            return fail(std::string("poll: ") + std::strerror(errno), err);
        // Reading what the server sent meanwhile keeps it from blocking on its own output.
        if ((p.revents & POLLIN) && PQconsumeInput(c_) == 0)
            return fail(trimmed(PQerrorMessage(c_)), err);
    }
}

bool PgConn::wait_readable(Clock::time_point deadline, PgError& err) {
    while (PQisBusy(c_)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return fail("no answer from the database within " +
                            std::to_string(statement_timeout_ms_ + 1000) + " ms",
                        err);
        pollfd p{PQsocket(c_), POLLIN, 0};
        int n = ::poll(&p, 1, int(left.count()));
        if (n < 0 && errno != EINTR) return fail(std::string("poll: ") + std::strerror(errno), err);
        if (n > 0 && PQconsumeInput(c_) == 0) return fail(trimmed(PQerrorMessage(c_)), err);
    }
    return true;
}

bool PgConn::next_result(Clock::time_point deadline, PgResult& out, bool& end, PgError& err) {
    if (!wait_readable(deadline, err)) return false;
    PGresult* r = PQgetResult(c_);
    end = r == nullptr;
    out = PgResult(r);
    return true;
}

bool PgConn::exec_script(const std::string& sql, PgError& err) {
    if (broken_) return fail("connection is broken", err);
    const auto until = deadline();
    if (PQsendQuery(c_, sql.c_str()) != 1) return fail(trimmed(PQerrorMessage(c_)), err);
    if (!flush(until, err)) return false;
    bool ok = true;
    for (;;) {
        PgResult r;
        bool end = false;
        if (!next_result(until, r, end, err)) return false;
        if (end) break;
        PGresult* raw = r.raw();
        auto st = PQresultStatus(raw);
        if (st == PGRES_FATAL_ERROR && ok) {
            ok = false;
            const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
            err.sqlstate = state ? state : "";
            err.message = trimmed(PQresultErrorMessage(raw));
        }
    }
    if (PQstatus(c_) == CONNECTION_BAD) broken_ = true;
    return ok;
}

bool PgConn::run(std::vector<Call>& calls, std::vector<PgResult>& out, PgError& err) {
    out.clear();
    if (broken_) return fail("connection is broken", err);
    const auto until = deadline();
    if (PQenterPipelineMode(c_) != 1) return fail(trimmed(PQerrorMessage(c_)), err);
    // What was sent, in order: a prepare (no result kept) or the i-th call.
    std::vector<int> sent;
    std::vector<const Statement*> preparing;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        const Statement* st = calls[i].statement;
        const PgParams& p = calls[i].params;
        if (!prepared_.count(st) &&
            std::find(preparing.begin(), preparing.end(), st) == preparing.end()) {
            if (PQsendPrepare(c_, st->name, st->sql, p.size(), p.types_.data()) != 1)
                return fail(trimmed(PQerrorMessage(c_)), err);
            preparing.push_back(st);
            sent.push_back(-1 - int(preparing.size() - 1));
        }
        std::vector<const char*> values;
        std::vector<int> lengths, formats;
        for (const auto& v : p.values_) {
            values.push_back(v.data());
            lengths.push_back(int(v.size()));
            formats.push_back(1);
        }
        if (PQsendQueryPrepared(c_, st->name, p.size(), values.data(), lengths.data(),
                                formats.data(), 1) != 1)
            return fail(trimmed(PQerrorMessage(c_)), err);
        sent.push_back(int(i));
    }
    if (PQpipelineSync(c_) != 1) return fail(trimmed(PQerrorMessage(c_)), err);
    if (!flush(until, err)) return false;

    out.resize(calls.size());
    bool ok = true;
    for (int what : sent) {
        PgResult kept;
        for (;;) {  // one statement's results, up to its terminating nullptr
            PgResult r;
            bool end = false;
            if (!next_result(until, r, end, err)) return false;
            if (end) break;
            kept = std::move(r);
        }
        PGresult* raw = kept.raw();
        auto st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
        if (st == PGRES_FATAL_ERROR) {
            if (ok) {
                ok = false;
                const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
                err.sqlstate = state ? state : "";
                err.message = trimmed(raw ? PQresultErrorMessage(raw) : PQerrorMessage(c_));
            }
        } else if (st == PGRES_COMMAND_OK && what < 0) {
            prepared_.insert(preparing[std::size_t(-1 - what)]);
        }
        if (what >= 0) out[std::size_t(what)] = std::move(kept);
    }
    // The Sync's own result ends the pipeline.
    for (;;) {
        if (Clock::now() > until) return fail("no end of pipeline from the database", err);
        PgResult r;
        bool end = false;
        if (!next_result(until, r, end, err)) return false;
        PGresult* raw = r.raw();
        if (!end && PQresultStatus(raw) == PGRES_PIPELINE_SYNC) break;
        if (end && PQstatus(c_) == CONNECTION_BAD) break;
    }
    if (PQstatus(c_) == CONNECTION_BAD) {
        broken_ = true;
        if (ok) return fail(trimmed(PQerrorMessage(c_)), err);
        err.sqlstate.clear();  // whatever the server said, the connection is gone
        return false;
    }
    if (PQexitPipelineMode(c_) != 1) return fail(trimmed(PQerrorMessage(c_)), err);
    return ok;
}

}  // namespace pushsvc::store::pg
