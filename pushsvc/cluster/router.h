#pragma once
// Router: cluster mode's side of delivery (docs/cluster.md). It keeps the store's route of
// every user agent connected to this node, and after a push (or an acknowledgement, a removal)
// accepted here tells the node that holds the user agent, if that is another one.
//
//  - Connect: every attach to the hub (a hello, a monitoring GET) writes the route
//    (this node, a new version) with Store::set_route, then wakes the user agent's sessions
//    once more: a push whose route lookup ran before the route was visible told nobody, and
//    its message is in the store, so this second read of the queue finds it. A write that
//    fails (the database is failing over) is tried again after 1, 2, 4 ... 30 s for as long
//    as the user agent stays connected.
//  - Disconnect: when the user agent's last session here goes, the route is cleared by the
//    version this node wrote (compare-and-delete), so a newer connection elsewhere keeps its
//    route.
//  - Push: once the message is stored, the route is looked at and the event sent to that
//    node (peer_client.h), which wakes its sessions exactly like a local push. A route the
//    append read itself (Store::enqueue's RouteSeen, PgStore) is used right there, in the
//    push's own thread (handing the event to the peer's connection is a queued post); one the
//    store did not read is read by a job on the store executor. A route naming this node
//    needs nothing (the hub woke the sessions already) unless it is stale (no session here:
//    cleared).
//  - Stale: a node that answers "absent" or cannot be reached has that route cleared by its
//    version.
//
// Store work runs on the store executor, never on a network thread, and never delays an
// answer (forwarding with a route the append read runs before the push's answer is written,
// but it is a lock and a post, no store call). A failure here costs liveness only: every stored
// message is in the store, and the user agent reads it on its next wake-up or connection.
//
// Lifetime: create before the io_context (sessions tell the hub, which tells the router, as
// they are destroyed with it); start() once this node's address is known and the PeerClient
// exists, before the io_context runs; stop() after the store executor has finished, before
// the PeerClient is destroyed. Before start() and after stop() it does nothing.
// Thread-safety: every method may be called from any thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "pushsvc/base/clock.h"
#include "pushsvc/cluster/peer_client.h"
#include "pushsvc/cluster/wire.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/store/store.h"

namespace pushsvc::cluster {

struct RouterOptions {
    std::string node_id;  // this node's cluster.node_id
    std::string address;  // this node's cluster.advertise ("http://host:port")
};

class Router final : public delivery::Presence {
  public:
    Router(store::Store& store, delivery::Hub& hub, boost::asio::any_io_executor store_executor,
           const base::Clock& clock);

    // Once, before any session attaches: who this node is, and how to reach the others.
    void start(RouterOptions options, PeerClient& client);

    // delivery::Presence
    void attached(const std::string& uaid) override;
    void gone(const std::string& uaid) override;

    // After the local hub was told about `event`: tells the node that holds the user agent,
    // when that is another node.
    // `seen`: the route as the store read it with the append, if it did (no read of our own).
    void forward(Event event, const store::RouteSeen& seen = {});
    // The route of `uaid` with `version` turned out stale (PeerClient): cleared by version.
    void stale(const std::string& uaid, std::uint64_t version);

    // Shutdown, before the store executor is joined: cancels the pending retries of route
    // writes (they would hold the executor's threads for up to 30 s).
    void cancel_retries() noexcept;
    // Route writes waiting for their retry's timer (for tests and shutdown logs).
    std::size_t retries_pending() const {
        std::lock_guard lk(timers_mu_);
        return timers_.size();
    }
    // Ignores everything from now on (shutdown: the store executor has finished).
    void stop() noexcept { stopped_ = true; }

  private:
    // What this node wrote for a user agent it holds.
    struct Held {
        std::uint64_t version = 0;  // of the route written last; 0: none (yet)
        int setting = 0;            // set_route calls under way
    };

    void post(std::function<void()> job);
    void run(const std::function<void()>& job) noexcept;  // what post() runs, failures logged
    void set_route(const std::string& uaid, int attempt, base::UnixMs attached_ms);
    void retry_later(const std::string& uaid, int attempt, base::UnixMs attached_ms);
    void clear_if_gone(const std::string& uaid);
    void lookup(Event event, const store::RouteSeen& seen);
    void report_conflict(const std::string& address);  // logged at most every 10 s

    store::Store& store_;
    delivery::Hub& hub_;
    boost::asio::any_io_executor executor_;
    const base::Clock& clock_;
    RouterOptions options_;            // written by start(), before the io_context runs
    base::UnixMs started_ms_ = 0;      // likewise: when this process's routes began
    PeerClient* client_ = nullptr;     // likewise
    std::atomic<bool> stopped_{true};  // until start()
    std::mutex mu_;
    std::unordered_map<std::string, Held> held_;
    mutable std::mutex timers_mu_;
    bool timers_closed_ = false;
    std::unordered_set<std::shared_ptr<boost::asio::steady_timer>> timers_;
};

}  // namespace pushsvc::cluster
