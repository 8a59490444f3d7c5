#include "pushsvc/delivery/hub.h"

#include <algorithm>
#include <functional>

namespace pushsvc::delivery {
// A uaid counts once per channel however many monitoring requests it has open.
std::array<bool, 2> Hub::channels_of(const Entries& list) {
    std::array<bool, 2> on{};
    for (const auto& e : list) on[static_cast<std::size_t>(e.channel)] = true;
    return on;
}

Hub::Shard& Hub::shard_of(const std::string& uaid) {
    return shards_[std::hash<std::string>{}(uaid) % kShards];
}
const Hub::Shard& Hub::shard_of(const std::string& uaid) const {
    return shards_[std::hash<std::string>{}(uaid) % kShards];
}

template <class Change>
bool Hub::update(Shard& s, const std::string& uaid, bool create, Change change) {
    auto it = s.sessions.find(uaid);
    if (it == s.sessions.end()) {
        if (!create) return false;
        it = s.sessions.emplace(uaid, Entries{}).first;
    }
    auto& list = it->second;
    const auto before = channels_of(list);
    change(list);
    const auto after = channels_of(list);
    for (std::size_t c = 0; c < connected_.size(); ++c) {
        if (after[c] && !before[c]) connected_[c].fetch_add(1, std::memory_order_relaxed);
        if (before[c] && !after[c]) connected_[c].fetch_sub(1, std::memory_order_relaxed);
    }
    if (!list.empty()) return false;
    s.sessions.erase(it);
    return true;
}

void Hub::attach(const std::string& uaid, const std::shared_ptr<Target>& target, bool exclusive) {
    std::vector<std::shared_ptr<Target>> replaced;
    {
        auto& s = shard_of(uaid);
        std::lock_guard lock(s.mu);
        update(s, uaid, true, [&](Entries& list) {
            if (exclusive) {
                for (auto& e : list)
                    if (auto t = e.target.lock(); t && t != target)
                        replaced.push_back(std::move(t));
                list.clear();
            }
            list.push_back({target, exclusive ? Channel::websocket : Channel::http2});
        });
    }
    for (auto& t : replaced) t->replaced();  // outside the lock
    if (presence_) presence_->attached(uaid);
}

void Hub::detach(const std::string& uaid, const Target* target) {
    auto& s = shard_of(uaid);
    bool gone = false;
    {
        std::lock_guard lock(s.mu);
        gone = update(s, uaid, false, [target](Entries& list) {
            std::erase_if(list, [target](const Entry& e) {
                auto t = e.target.lock();
                return !t || t.get() == target;
            });
        });
    }
    if (gone && presence_) presence_->gone(uaid);
}

std::vector<std::shared_ptr<Target>> Hub::live(const std::string& uaid) {
    std::vector<std::shared_ptr<Target>> out;
    auto& s = shard_of(uaid);
    bool gone = false;
    {
        std::lock_guard lock(s.mu);
        gone = update(s, uaid, false, [&out](Entries& list) {
            std::erase_if(list, [&out](const Entry& e) {
                auto t = e.target.lock();
                if (!t) return true;
                out.push_back(std::move(t));
                return false;
            });
        });
    }
    if (gone && presence_) presence_->gone(uaid);
    return out;
}

std::size_t Hub::wake_user_agent(const std::string& uaid) {
    auto targets = live(uaid);
    for (auto& t : targets) t->wake(nullptr);
    return targets.size();
}

bool Hub::holds(const std::string& uaid) const {
    const auto& s = shard_of(uaid);
    std::lock_guard lock(s.mu);
    return s.sessions.contains(uaid);
}

std::size_t Hub::wake(const store::MessageRecord& message, bool stored) {
    return wake(live(message.uaid), message, nullptr, stored);
}

std::size_t Hub::wake(std::shared_ptr<const store::MessageRecord> message, bool stored) {
    const auto& m = *message;
    return wake(live(m.uaid), m, std::move(message), stored);
}

std::size_t Hub::wake(const std::vector<std::shared_ptr<Target>>& targets,
                      const store::MessageRecord& message,
                      std::shared_ptr<const store::MessageRecord> shared, bool stored) {
    if (targets.empty()) return 0;
    if (stored && message.prev_seq == 0) {
        for (const auto& t : targets) t->wake(nullptr);
        return targets.size();
    }
    if (!shared) shared = std::make_shared<const store::MessageRecord>(message);  // a copy
    for (const auto& t : targets) {
        if (stored)
            t->stored(shared);
        else
            t->wake(shared);
    }
    return targets.size();
}

void Hub::acknowledged(const std::string& uaid, const std::string& message_id) {
    for (auto& t : live(uaid)) t->acked(message_id);
}

void Hub::removed(const std::string& uaid, const std::string& subscription_id) {
    for (auto& t : live(uaid)) t->removed(subscription_id);
}

std::size_t Hub::online() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s.mu);
        n += s.sessions.size();
    }
    return n;
}

std::vector<std::string> Hub::online_user_agents() const {
    std::vector<std::string> out;
    for (const auto& s : shards_) {
        std::lock_guard lock(s.mu);
        for (const auto& [uaid, targets] : s.sessions) out.push_back(uaid);
    }
    return out;
}

}  // namespace pushsvc::delivery
