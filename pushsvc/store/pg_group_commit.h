#pragma once
// Group commit for PgStore: calls that each wait in their caller's thread (the store executor)
// share one transaction. A waiting caller that may lead takes everything queued (its own call
// included, unless the queue is longer than a batch) and commits it; the rest wait, each on its
// own condition (with one shared by all, every commit woke every waiter to fight for the
// mutex). Whoever changes what a leader could start (a batch taken with calls left over, a
// batch done) wakes the first caller still queued, so queued calls never wait while a batch
// could start.
//
// When may a caller lead: when no batch is in flight, or fewer than `max_leaders` are and at
// least `spare_queue` calls wait. Under a steady load one batch at a time gathers what arrived
// during the last commit; batches side by side, each a commit of one or two, cost PostgreSQL a
// quarter more CPU per message at 1,000 pushes/s on the dev cluster (BENCHMARKS.md). A backlog
// still runs `max_leaders` batches at once.

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <vector>

namespace pushsvc::store::pg {

struct GroupWaiter {
    bool done = false;           // under the group's mutex
    std::condition_variable cv;  // its caller waits here: woken alone, not with every waiter
};

template <class Item>  // derives from GroupWaiter
class GroupCommit {
  public:
    GroupCommit(const char* what, int max_leaders, std::size_t spare_queue, std::size_t max_batch)
        : what_(what),
          max_leaders_(max_leaders),
          spare_queue_(spare_queue),
          max_batch_(max_batch) {}

    // Queues `me` and returns once a batch holding it was committed (or failed): `commit` sets
    // every item's result, in this caller's thread when it leads. What `commit` throws (bad_alloc,
    // say) leaves the batch's items with the result they started with, a failure.
    template <class Commit>
    void submit(Item& me, Commit&& commit) {
        std::unique_lock lk(mu_);
        queue_.push_back(&me);
        while (!me.done) {
            if (!may_lead()) {
                me.cv.wait(lk);
                continue;
            }
            ++leaders_;
            std::vector<Item*> batch;
            while (!queue_.empty() && batch.size() < max_batch_) {
                batch.push_back(queue_.front());
                queue_.pop_front();
            }
            wake_next();
            lk.unlock();
            try {
                commit(batch);
            } catch (const std::exception& e) {
                spdlog::error("store: {} batch failed: {}", what_, e.what());
            } catch (...) {
                spdlog::error("store: {} batch failed", what_);
            }
            lk.lock();
            --leaders_;
            for (auto* item : batch) {
                item->done = true;
                item->cv.notify_one();
            }
            wake_next();
        }
    }

  private:
    bool may_lead() const {
        if (queue_.empty() || leaders_ >= max_leaders_) return false;
        return leaders_ == 0 || queue_.size() >= spare_queue_;
    }
    void wake_next() {
        if (may_lead()) queue_.front()->cv.notify_one();
    }

    const char* what_;
    const int max_leaders_;
    const std::size_t spare_queue_;
    const std::size_t max_batch_;
    std::mutex mu_;
    std::deque<Item*> queue_;
    int leaders_ = 0;  // batches being committed
};

}  // namespace pushsvc::store::pg
