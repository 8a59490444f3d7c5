#include "pushsvc/store/memory_store.h"

#include <vector>

namespace pushsvc::store {

MemoryStore::MemoryStore(const base::Clock* clock)
    : clock_(clock != nullptr ? *clock : system_clock_) {}

result<void> MemoryStore::put_user_agent(const UserAgentRecord& ua) {
    std::lock_guard lk(mu_);
    uas_.insert_or_assign(ua.uaid, ua);
    return {};
}

result<std::optional<UserAgentRecord>> MemoryStore::get_user_agent(std::string_view uaid) {
    std::lock_guard lk(mu_);
    auto it = uas_.find(uaid);
    if (it == uas_.end()) return std::nullopt;
    return std::optional<UserAgentRecord>(it->second);
}

result<std::vector<std::string>> MemoryStore::idle_user_agents(AgentKind kind,
                                                               base::UnixMs seen_before,
                                                               std::size_t limit) {
    std::lock_guard lk(mu_);
    std::multimap<base::UnixMs, std::string> idle;
    for (const auto& [uaid, ua] : uas_)
        if (ua.kind == kind && ua.last_seen_ms < seen_before) idle.emplace(ua.last_seen_ms, uaid);
    std::vector<std::string> out;
    for (auto it = idle.begin(); it != idle.end() && out.size() < limit; ++it)
        out.push_back(it->second);
    return out;
}

result<bool> MemoryStore::touch_user_agent(std::string_view uaid, base::UnixMs last_seen_ms) {
    std::lock_guard lk(mu_);
    auto it = uas_.find(uaid);
    if (it == uas_.end()) return false;
    it->second.last_seen_ms = last_seen_ms;
    return true;
}

result<void> MemoryStore::delete_user_agent(std::string_view uaid) {
    std::lock_guard lk(mu_);
    if (auto it = uas_.find(uaid); it != uas_.end()) uas_.erase(it);
    for (auto it = subs_.begin(); it != subs_.end();) {
        it = it->second.uaid == uaid ? subs_.erase(it) : std::next(it);
    }
    if (auto q = queues_.find(uaid); q != queues_.end()) {
        const std::string owner = q->first;
        std::vector<std::uint64_t> seqs;
        for (const auto& entry : q->second) seqs.push_back(entry.first);
        for (auto seq : seqs) erase_locked(owner, seq);
    }
    return {};
}

result<void> MemoryStore::put_subscription(const SubscriptionRecord& sub) {
    std::lock_guard lk(mu_);
    subs_.insert_or_assign(sub.id, sub);
    return {};
}

result<std::optional<SubscriptionRecord>> MemoryStore::get_subscription(std::string_view id) {
    std::lock_guard lk(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return std::nullopt;
    return std::optional<SubscriptionRecord>(it->second);
}

result<std::vector<SubscriptionRecord>> MemoryStore::subscriptions_of(std::string_view uaid) {
    std::lock_guard lk(mu_);
    std::vector<SubscriptionRecord> out;
    for (const auto& [id, sub] : subs_) {
        if (sub.uaid == uaid) out.push_back(sub);
    }
    return out;
}

result<bool> MemoryStore::delete_subscription(std::string_view id) {
    std::lock_guard lk(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return false;
    const SubscriptionRecord sub = it->second;
    subs_.erase(it);
    auto q = queues_.find(sub.uaid);
    if (q == queues_.end()) return true;
    std::vector<std::uint64_t> doomed;
    for (const auto& [seq, msg] : q->second) {
        if (msg.subscription_id == sub.id) doomed.push_back(seq);
    }
    for (auto seq : doomed) erase_locked(sub.uaid, seq);
    return true;
}

result<std::optional<std::string>> MemoryStore::enqueue(MessageRecord& msg, std::size_t max_queued,
                                                        RouteSeen* /*route: not read*/) {
    std::lock_guard lk(mu_);
    if (queued_locked(msg.uaid) >= max_queued) return errc::too_many_requests;
    std::optional<std::string> replaced;
    if (!msg.topic.empty()) {
        auto t = topics_.find({msg.subscription_id, msg.topic});
        if (t != topics_.end()) {
            replaced = t->second;
            auto loc = by_id_.find(*replaced);
            if (loc != by_id_.end()) {
                const auto [uaid, seq] = loc->second;
                erase_locked(uaid, seq);
            }
            topics_.erase({msg.subscription_id, msg.topic});
        }
    }
    msg.seq = ++last_seq_;
    queues_[msg.uaid].emplace(msg.seq, msg);
    by_id_.insert_or_assign(msg.id, std::pair{msg.uaid, msg.seq});
    if (!msg.topic.empty()) topics_[{msg.subscription_id, msg.topic}] = msg.id;
    return replaced;
}

result<std::vector<MessageRecord>> MemoryStore::pending(std::string_view uaid, base::UnixMs now,
                                                        std::uint64_t after_seq,
                                                        std::size_t limit) {
    std::lock_guard lk(mu_);
    std::vector<MessageRecord> out;
    auto q = queues_.find(uaid);
    if (q == queues_.end()) return out;
    for (auto it = q->second.upper_bound(after_seq); it != q->second.end() && out.size() < limit;
         ++it) {
        if (now < it->second.expires_ms) out.push_back(it->second);  // R8030-5.2-h
    }
    return out;
}

result<std::size_t> MemoryStore::queued(std::string_view uaid, std::size_t limit) {
    std::lock_guard lk(mu_);
    return std::min(queued_locked(uaid), limit);
}

std::size_t MemoryStore::queued_locked(std::string_view uaid) const {
    auto q = queues_.find(uaid);
    return q == queues_.end() ? 0 : q->second.size();
}

result<std::optional<MessageRecord>> MemoryStore::get_message(std::string_view id) {
    std::lock_guard lk(mu_);
    auto loc = by_id_.find(id);
    if (loc == by_id_.end()) return std::nullopt;
    const auto& msg = queues_.at(loc->second.first).at(loc->second.second);
    if (clock_.now_ms() >= msg.expires_ms) return std::nullopt;
    return std::optional<MessageRecord>(msg);
}

result<void> MemoryStore::mark_delivered(std::string_view id) {
    std::lock_guard lk(mu_);
    auto loc = by_id_.find(id);
    if (loc != by_id_.end()) queues_.at(loc->second.first).at(loc->second.second).delivered = true;
    return {};
}

result<std::optional<MessageRecord>> MemoryStore::delete_message(std::string_view id) {
    std::lock_guard lk(mu_);
    auto loc = by_id_.find(id);
    if (loc == by_id_.end()) return std::nullopt;
    const auto [uaid, seq] = loc->second;
    std::optional<MessageRecord> removed;
    if (const auto& msg = queues_.at(uaid).at(seq); clock_.now_ms() < msg.expires_ms) {
        removed = msg;
        removed->body.clear();
    }
    erase_locked(uaid, seq);
    return removed;
}

result<std::optional<base::UnixMs>> MemoryStore::next_expiry() {
    std::lock_guard lk(mu_);
    std::optional<base::UnixMs> next;
    for (const auto& [uaid, queue] : queues_)
        for (const auto& [seq, msg] : queue)
            if (!next || msg.expires_ms < *next) next = msg.expires_ms;
    return next;
}

result<std::size_t> MemoryStore::sweep_expired(base::UnixMs now, std::size_t limit,
                                               std::vector<MessageRecord>* with_receipt) {
    std::lock_guard lk(mu_);
    // (expires, seq) -> owner: earliest first, as RocksStore sweeps.
    std::map<std::pair<base::UnixMs, std::uint64_t>, std::string> doomed;
    for (const auto& [uaid, queue] : queues_)
        for (const auto& [seq, msg] : queue)
            if (msg.expires_ms <= now) doomed.emplace(std::pair{msg.expires_ms, seq}, uaid);
    std::size_t swept = 0;
    for (const auto& [when, uaid] : doomed) {
        if (swept == limit) break;
        const MessageRecord& msg = queues_.at(uaid).at(when.second);
        if (with_receipt && !msg.receipt_id.empty() && msg.receipt_status == 0) {
            with_receipt->push_back(msg);
            with_receipt->back().body.clear();
        }
        erase_locked(uaid, when.second);
        ++swept;
    }
    return swept;
}

result<StoreStats> MemoryStore::stats() {
    std::lock_guard lk(mu_);
    StoreStats out;
    for (const auto& [uaid, ua] : uas_)
        ++(ua.kind == AgentKind::receipts ? out.receipt_subscriptions : out.user_agents);
    for (const auto& [uaid, queue] : queues_) {
        out.queued_messages += queue.size();
        for (const auto& [seq, msg] : queue)
            if (!out.oldest_received_ms || msg.received_ms < *out.oldest_received_ms)
                out.oldest_received_ms = msg.received_ms;
    }
    return out;
}

void MemoryStore::erase_locked(const std::string& uaid, std::uint64_t seq) {
    auto q = queues_.find(uaid);
    if (q == queues_.end()) return;
    auto m = q->second.find(seq);
    if (m == q->second.end()) return;
    const MessageRecord& msg = m->second;
    if (!msg.topic.empty()) {
        auto t = topics_.find({msg.subscription_id, msg.topic});
        if (t != topics_.end() && t->second == msg.id) topics_.erase(t);
    }
    by_id_.erase(msg.id);
    q->second.erase(m);
    if (q->second.empty()) queues_.erase(q);
}

}  // namespace pushsvc::store
