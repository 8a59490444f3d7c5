#pragma once
// PgStore's connection pool (pg_store.cc only): connections opened on demand up to
// PgOptions::pool_size; a broken one is dropped, not returned, and the idle ones with it.
//
// Thread-safety: every method may be called from any thread (one mutex).

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pushsvc/store/pg_conn.h"
#include "pushsvc/store/pg_store.h"

namespace pushsvc::store::pg {

// Connections, opened on demand up to `size`; a broken one is dropped, not returned.
class Pool {
  public:
    explicit Pool(const PgOptions& o) : opts_(o) {}

    void add(std::unique_ptr<PgConn> c) {
        std::lock_guard lk(mu_);
        ++open_;
        idle_.push_back(std::move(c));
    }

    std::unique_ptr<PgConn> acquire(PgError& err) {
        std::unique_lock lk(mu_);
        // Every holder gives its connection back within statement_timeout + 1 s, so waiting
        // longer than that (plus a connection attempt) means something is wrong.
        const auto deadline =
            std::chrono::steady_clock::now() +
            std::chrono::milliseconds(opts_.connect_timeout_ms + opts_.statement_timeout_ms + 1000);
        while (idle_.empty() && open_ >= opts_.pool_size) {
            if (cv_.wait_until(lk, deadline) == std::cv_status::timeout && idle_.empty() &&
                open_ >= opts_.pool_size) {
                err = {"", "no database connection free within the timeout"};
                return nullptr;
            }
        }
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return c;
        }
        ++open_;
        lk.unlock();
        std::string why;
        auto c =
            PgConn::connect(opts_.dsn, opts_.connect_timeout_ms, opts_.statement_timeout_ms, why);
        if (!c) {
            lk.lock();
            --open_;
            cv_.notify_one();
            err = {"", "cannot connect to PostgreSQL: " + why};
            return nullptr;
        }
        if (down_.exchange(false))
            spdlog::info("store: connected to PostgreSQL at {}", c->endpoint());
        return c;
    }

    void release(std::unique_ptr<PgConn> c) {
        std::lock_guard lk(mu_);
        if (c->broken()) {
            --open_;
            // A connection breaks when the server went away (failover, restart): the idle ones
            // point at the same server, so drop them too rather than fail one call each.
            open_ -= int(idle_.size());
            idle_.clear();
            cv_.notify_all();  // room for as many new connections as were dropped
        } else {
            idle_.push_back(std::move(c));
            cv_.notify_one();  // one connection for one waiter (not a herd for it)
        }
    }

    // Logs the first failure of an outage, then at most every 10 s.
    void report(const PgError& err) {
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        auto last = last_report_.load();
        if (err.sqlstate.empty()) down_ = true;
        if (now - last < std::chrono::nanoseconds(std::chrono::seconds(10)).count() && last != 0)
            return;
        if (last_report_.compare_exchange_strong(last, now))
            spdlog::error("store: PostgreSQL call failed{}: {}",
                          err.sqlstate.empty() ? "" : " (SQLSTATE " + err.sqlstate + ")",
                          err.message);
    }

  private:
    const PgOptions opts_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<PgConn>> idle_;
    int open_ = 0;  // idle plus lent out (plus being connected)
    std::atomic<std::int64_t> last_report_{0};
    std::atomic<bool> down_{false};
};

}  // namespace pushsvc::store::pg
