#include "pushsvc/delivery/hub.h"

#include <algorithm>
#include <functional>

namespace pushsvc::delivery {

Hub::Shard& Hub::shard_of(const std::string& uaid) {
    return shards_[std::hash<std::string>{}(uaid) % kShards];
}

void Hub::attach(const std::string& uaid, const std::shared_ptr<Target>& target, bool exclusive) {
    std::vector<std::shared_ptr<Target>> replaced;
    {
        auto& s = shard_of(uaid);
        std::lock_guard lock(s.mu);
        auto& list = s.sessions[uaid];
        if (exclusive) {
            for (auto& w : list)
                if (auto t = w.lock(); t && t != target) replaced.push_back(std::move(t));
            list.clear();
        }
        list.push_back(target);
    }
    for (auto& t : replaced) t->replaced();  // outside the lock
}

void Hub::detach(const std::string& uaid, const Target* target) {
    auto& s = shard_of(uaid);
    std::lock_guard lock(s.mu);
    auto it = s.sessions.find(uaid);
    if (it == s.sessions.end()) return;
    auto& list = it->second;
    std::erase_if(list, [target](const std::weak_ptr<Target>& w) {
        auto t = w.lock();
        return !t || t.get() == target;
    });
    if (list.empty()) s.sessions.erase(it);
}

std::vector<std::shared_ptr<Target>> Hub::live(const std::string& uaid) {
    std::vector<std::shared_ptr<Target>> out;
    auto& s = shard_of(uaid);
    std::lock_guard lock(s.mu);
    auto it = s.sessions.find(uaid);
    if (it == s.sessions.end()) return out;
    auto& list = it->second;
    std::erase_if(list, [&out](const std::weak_ptr<Target>& w) {
        auto t = w.lock();
        if (!t) return true;
        out.push_back(std::move(t));
        return false;
    });
    if (list.empty()) s.sessions.erase(it);
    return out;
}

bool Hub::notify(const store::MessageRecord& message, bool stored) {
    auto targets = live(message.uaid);
    if (targets.empty()) return false;
    auto direct = stored ? nullptr : std::make_shared<const store::MessageRecord>(message);
    for (auto& t : targets) t->wake(direct);
    return true;
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
