#pragma once
// Cluster mode's network side (cluster.listen set; docs/cluster.md): the internal listener,
// which serves only the route other nodes call (cluster/internal_api.h), and the client that
// calls theirs (cluster/peer_client.h). Constructing it binds the listener, settles this
// node's advertised address and id, and starts the router (cluster/router.h, created by app
// before the io_context) with them.
//
// Lifetime: after the io_context and the router, destroyed before the io_context (its sockets
// belong to it). Thread-safety: drain() from any thread; the rest during startup.

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>

#include "pushsvc/cluster/peer_client.h"
#include "pushsvc/cluster/router.h"
#include "pushsvc/config/config.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/net/server.h"

namespace pushsvc::app {

class ClusterNode {
  public:
    // Throws std::runtime_error naming cluster.listen when it cannot be bound.
    ClusterNode(boost::asio::io_context& ioc, const config::Config& cfg, delivery::Hub& hub,
                cluster::Router& router);
    ~ClusterNode();
    ClusterNode(const ClusterNode&) = delete;
    ClusterNode& operator=(const ClusterNode&) = delete;

    std::string endpoint() const;  // the bound internal listener, "host:port"
    const std::string& node_id() const { return node_id_; }
    const std::string& advertise() const { return advertise_; }

    // Graceful shutdown: the internal listener drains like the public ones; `done` runs once.
    void drain(std::function<void()> done);

  private:
    std::unique_ptr<net::Server> server_;
    std::unique_ptr<cluster::PeerClient> peers_;
    std::string node_id_;
    std::string advertise_;
};

}  // namespace pushsvc::app
