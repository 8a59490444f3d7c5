#pragma once
// The registry of online user agents: uaid -> weak handles of the sessions that currently
// serve it (a WebSocket session, RFC 8030 monitoring GETs), and the fan-out of accepted
// messages and acknowledgements to them. The hub never touches a socket: a Target's methods
// only post work to the session's own executor.
//
// A WebSocket session attaches exclusively: a second connection for the same uaid replaces
// every earlier session, which is told to close (Firefox reconnects with the same uaid; the
// newest one wins). Monitoring GETs attach alongside others: a user agent may monitor several
// subscriptions of one set, each on its own stream.
//
// Thread-safe: any thread may call any method. Sessions hold their own lifetime; the hub holds
// weak_ptrs and forgets an entry on detach() or when it finds it expired.

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pushsvc/store/records.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::delivery {

class Target {
  public:
    virtual ~Target() = default;
    // New stored messages may be waiting (direct == nullptr), or a TTL-0 message to deliver
    // now. Must only post to the session's executor.
    virtual void wake(std::shared_ptr<const store::MessageRecord> direct) = 0;
    // A message of this user agent was acknowledged elsewhere (DELETE on its resource): it
    // no longer counts as in flight. Must only post.
    virtual void acked(std::string message_id) = 0;
    // A subscription of this user agent (empty: all of them) was removed. Must only post.
    virtual void removed(std::string subscription_id) = 0;
    // Another connection took over this uaid: close this one. Must only post.
    virtual void replaced() = 0;
};

class Hub final : public webpush::Notifier {
  public:
    // `exclusive`: replace (and close) every session attached to this uaid so far.
    void attach(const std::string& uaid, const std::shared_ptr<Target>& target,
                bool exclusive = true);
    // Removes `target` from the uaid's sessions (a no-op if it was replaced already).
    void detach(const std::string& uaid, const Target* target);

    // webpush::Notifier: wakes the UA's sessions if it is online.
    bool notify(const store::MessageRecord& message, bool stored) override;
    void acknowledged(const std::string& uaid, const std::string& message_id) override;
    void removed(const std::string& uaid, const std::string& subscription_id) override;

    // User agents with at least one session.
    std::size_t online() const;
    // Their uaids (a snapshot): connected user agents are seen, however long ago their hello.
    std::vector<std::string> online_user_agents() const;

  private:
    static constexpr std::size_t kShards = 16;
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<std::string, std::vector<std::weak_ptr<Target>>> sessions;
    };
    Shard& shard_of(const std::string& uaid);
    // Live sessions of a uaid (expired ones are pruned on the way).
    std::vector<std::shared_ptr<Target>> live(const std::string& uaid);
    std::array<Shard, kShards> shards_;
};

}  // namespace pushsvc::delivery
