#pragma once
// The registry of online user agents: uaid -> weak handle of the session that currently
// serves it, and the fan-out of accepted messages to it. The hub never touches a socket: a
// Target's methods only post work to the session's own executor.
//
// One connection per uaid: attach() of a second session for the same uaid replaces the first,
// which is told to close (Firefox reconnects with the same uaid; the newest one wins).
//
// Thread-safe: any thread may call any method. Sessions hold their own lifetime; the hub holds
// weak_ptrs and forgets an entry on detach() or when it finds it expired.

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "pushsvc/store/records.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::delivery {

class Target {
  public:
    virtual ~Target() = default;
    // New stored messages may be waiting (direct == nullptr), or a TTL-0 message to deliver
    // now. Must only post to the session's executor.
    virtual void wake(std::shared_ptr<const store::MessageRecord> direct) = 0;
    // Another connection took over this uaid: close this one. Must only post.
    virtual void replaced() = 0;
};

class Hub final : public webpush::Notifier {
  public:
    void attach(const std::string& uaid, const std::shared_ptr<Target>& target);
    // Removes the entry only if it still names `target` (a newer session may have replaced it).
    void detach(const std::string& uaid, const Target* target);

    // webpush::Notifier: wakes the UA's session if it is online.
    bool notify(const store::MessageRecord& message, bool stored) override;

    std::size_t online() const;

  private:
    static constexpr std::size_t kShards = 16;
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<std::string, std::weak_ptr<Target>> sessions;
    };
    Shard& shard_of(const std::string& uaid);
    std::array<Shard, kShards> shards_;
};

}  // namespace pushsvc::delivery
