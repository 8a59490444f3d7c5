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
#include <atomic>
#include <cstddef>
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
    // `message` was stored and names the message stored before it (MessageRecord::prev_seq):
    // a session may send it without reading the queue (DeliveryWindow::carried). Must only
    // post. By default the same as wake(nullptr).
    virtual void stored(std::shared_ptr<const store::MessageRecord> message) {
        (void)message;
        wake(nullptr);
    }
    // A message of this user agent was acknowledged elsewhere (DELETE on its resource): it
    // no longer counts as in flight. Must only post.
    virtual void acked(std::string message_id) = 0;
    // A subscription of this user agent (empty: all of them) was removed. Must only post.
    virtual void removed(std::string subscription_id) = 0;
    // Another connection took over this uaid: close this one. Must only post.
    virtual void replaced() = 0;
};

// Told when a user agent gains a session here and when its last session goes: cluster mode
// records which node holds each user agent (cluster::Router, docs/cluster.md). Called outside
// the hub's locks, on the thread that attached or detached; must not block (post the work).
class Presence {
  public:
    virtual ~Presence() = default;
    // Every attach, also of a user agent that already had a session here (a reconnect).
    virtual void attached(const std::string& uaid) = 0;
    // Its last session detached (or was found gone).
    virtual void gone(const std::string& uaid) = 0;
};

// How a user agent is connected. An exclusive attach is the WebSocket push channel (one
// connection per uaid); a shared attach is an RFC 8030 monitoring request over HTTP/2.
enum class Channel { websocket, http2 };

class Hub final : public webpush::Notifier {
  public:
    // `exclusive`: replace (and close) every session attached to this uaid so far.
    void attach(const std::string& uaid, const std::shared_ptr<Target>& target,
                bool exclusive = true);
    // Removes `target` from the uaid's sessions (a no-op if it was replaced already).
    void detach(const std::string& uaid, const Target* target);
    // Set once before the first attach; `presence` must outlive every later attach and detach.
    void set_presence(Presence* presence) noexcept { presence_ = presence; }

    // webpush::Notifier: wakes the UA's sessions if it is online.
    void notify(const store::MessageRecord& message, bool stored,
                const store::RouteSeen& /*route*/) override {
        wake(message, stored);
    }
    // What notify does: wakes the message's user agent's sessions; returns how many. The
    // message is copied only when it goes to sessions; the second form hands over its own.
    std::size_t wake(const store::MessageRecord& message, bool stored);
    std::size_t wake(std::shared_ptr<const store::MessageRecord> message, bool stored);
    void acknowledged(const std::string& uaid, const std::string& message_id) override;
    void removed(const std::string& uaid, const std::string& subscription_id) override;
    // Wakes the user agent's sessions to read its queue (new messages may be stored); returns
    // how many.
    std::size_t wake_user_agent(const std::string& uaid);
    // True while the user agent has a session here.
    bool holds(const std::string& uaid) const;

    // User agents with at least one session.
    std::size_t online() const;
    // Their uaids (a snapshot): connected user agents are seen, however long ago their hello.
    std::vector<std::string> online_user_agents() const;
    // User agents with at least one session on `channel` (a user agent monitoring while its
    // WebSocket is open counts once on each). Lock-free: for GET /metrics.
    std::size_t connected(Channel channel) const noexcept {
        return connected_[static_cast<std::size_t>(channel)].load(std::memory_order_relaxed);
    }

  private:
    static constexpr std::size_t kShards = 16;
    struct Entry {
        std::weak_ptr<Target> target;
        Channel channel;
    };
    using Entries = std::vector<Entry>;
    // Which channels a uaid's entries use.
    static std::array<bool, 2> channels_of(const Entries& list);
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<std::string, Entries> sessions;
    };
    Shard& shard_of(const std::string& uaid);
    // Live sessions of a uaid (expired ones are pruned on the way).
    std::vector<std::shared_ptr<Target>> live(const std::string& uaid);
    // Both wake()s: `shared`, when given, holds `message`.
    std::size_t wake(const std::vector<std::shared_ptr<Target>>& targets,
                     const store::MessageRecord& message,
                     std::shared_ptr<const store::MessageRecord> shared, bool stored);
    // Runs `change` on a uaid's entries (under its shard lock) and moves the per-channel
    // counts by the channels the uaid gained or lost; drops the uaid when none are left and
    // returns true then.
    template <class Change>
    bool update(Shard& shard, const std::string& uaid, bool create, Change change);
    const Shard& shard_of(const std::string& uaid) const;
    Presence* presence_ = nullptr;
    std::array<Shard, kShards> shards_;
    std::array<std::atomic<std::size_t>, 2> connected_{};
};

}  // namespace pushsvc::delivery
