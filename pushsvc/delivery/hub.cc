#include "pushsvc/delivery/hub.h"

#include <functional>

namespace pushsvc::delivery {

Hub::Shard& Hub::shard_of(const std::string& uaid) {
    return shards_[std::hash<std::string>{}(uaid) % kShards];
}

void Hub::attach(const std::string& uaid, const std::shared_ptr<Target>& target) {
    std::shared_ptr<Target> previous;
    {
        auto& s = shard_of(uaid);
        std::lock_guard lock(s.mu);
        auto& slot = s.sessions[uaid];
        previous = slot.lock();
        slot = target;
    }
    if (previous && previous != target) previous->replaced();  // outside the lock
}

void Hub::detach(const std::string& uaid, const Target* target) {
    auto& s = shard_of(uaid);
    std::lock_guard lock(s.mu);
    auto it = s.sessions.find(uaid);
    if (it == s.sessions.end()) return;
    auto current = it->second.lock();
    if (!current || current.get() == target) s.sessions.erase(it);
}

bool Hub::notify(const store::MessageRecord& message, bool stored) {
    std::shared_ptr<Target> target;
    {
        auto& s = shard_of(message.uaid);
        std::lock_guard lock(s.mu);
        auto it = s.sessions.find(message.uaid);
        if (it == s.sessions.end()) return false;
        target = it->second.lock();
        if (!target) {
            s.sessions.erase(it);
            return false;
        }
    }
    target->wake(stored ? nullptr : std::make_shared<const store::MessageRecord>(message));
    return true;
}

std::size_t Hub::online() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s.mu);
        n += s.sessions.size();
    }
    return n;
}

}  // namespace pushsvc::delivery
