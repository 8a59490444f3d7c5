#pragma once
// PeerClient: sends notifications (wire.h) to the internal listeners of other nodes.
//
// One keep-alive HTTP/1.1 connection per peer node, on its own strand of the network
// io_context: nothing here blocks a thread. While a request is in flight, later events for
// that node wait and go together in the next request (up to max_batch of them), so a busy pair
// of nodes exchanges few, larger requests; events of one user agent keep their order.
//
// Bounded everywhere: a connection attempt gives up after connect_timeout, a request after
// request_timeout; a batch is tried `attempts` times (a request on a reused connection that the
// peer closed meanwhile is retried at once on a fresh one), with a short backoff. A batch that
// still fails marks the node down for kDownFor: events for it fail at once meanwhile. At most
// max_waiting events wait per node; beyond that new ones are dropped.
//
// Nothing is lost by a failure here: every stored message is in the store already, and the
// user agent gets it the next time its session reads its queue. What a failure costs is
// liveness, so an unreachable node's routes are reported stale (and cleared by the router):
// pushes no longer wait on it, and the browser's next connection sets a fresh route.
//
// Counted: pushsvc_cluster_notifications_sent_total (events a node took, absent or not),
// pushsvc_cluster_notifications_failed_total{reason="unreachable"|"rejected"|"overflow"}.
//
// Lifetime: create after the io_context; stop() before destroying it. Peers hold themselves
// alive through their pending operations, which end when the io_context stops.
// Thread-safety: send() and stop() may be called from any thread.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "pushsvc/cluster/wire.h"

namespace pushsvc::cluster {

struct PeerOptions {
    std::string secret;   // cluster.secret
    std::string node_id;  // this node's cluster.node_id (the "from" of every notification)
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds request_timeout{2000};
    int attempts = 3;
    std::size_t max_waiting = 10'000;  // events waiting per node
    std::size_t max_batch = 256;       // events per request
};

class PeerClient {
  public:
    // How long a node that failed a whole batch is treated as down.
    static constexpr std::chrono::milliseconds kDownFor{2000};

    // `stale(uaid, version)`: the route of `uaid` with `version` names a node that does not
    // hold the user agent (it answered so) or that cannot be reached. Called on a network
    // thread; must only post.
    using Stale = std::function<void(const std::string& uaid, std::uint64_t version)>;

    PeerClient(boost::asio::io_context& ioc, PeerOptions options, Stale stale);
    ~PeerClient();
    PeerClient(const PeerClient&) = delete;
    PeerClient& operator=(const PeerClient&) = delete;

    // Queues `event` for the node `node_id` at `address` ("http://host:port", from its route
    // of `version`).
    void send(const std::string& address, const std::string& node_id, Event event,
              std::uint64_t version);
    // Closes every connection; later send() calls are dropped.
    void stop();

  private:
    class Peer;
    struct Context;
    boost::asio::io_context& ioc_;
    std::shared_ptr<Context> context_;
    std::mutex mu_;
    bool stopped_ = false;
    std::unordered_map<std::string, std::shared_ptr<Peer>> peers_;  // by address + node id
};

}  // namespace pushsvc::cluster
