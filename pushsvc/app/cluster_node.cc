#include "pushsvc/app/cluster_node.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "pushsvc/cluster/internal_api.h"
#include "pushsvc/http1/session.h"

namespace pushsvc::app {
namespace {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) {
    auto addr = ep.address();
    std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
    return host + ":" + std::to_string(ep.port());
}

}  // namespace

ClusterNode::ClusterNode(boost::asio::io_context& ioc, const config::Config& cfg,
                         delivery::Hub& hub, cluster::Router& router) {
    // The internal listener shares the transport (admission, deadlines, drain) of the public
    // ones, cleartext only, with a body limit that fits a batch of notifications (a TTL-0
    // message travels inside one).
    config::Config internal = cfg;
    internal.server.listen = cfg.cluster.listen;
    internal.server.tls_listen.clear();
    // Never shared with another process (server.reuse_port is for the public ports): the
    // other nodes send this address the events of this process's browsers.
    internal.server.reuse_port = false;
    internal.limits.max_body_bytes = 8u << 20;
    server_ = std::make_unique<net::Server>(ioc, internal);
    if (auto r = server_->start(); !r)
        throw std::runtime_error("cannot bind cluster.listen: " + r.error().message());
    advertise_ = cfg.cluster.advertise.empty()
                     ? "http://" + endpoint_text(*server_->cleartext_endpoint())
                     : cfg.cluster.advertise;
    node_id_ = cfg.cluster.node_id.empty() ? advertise_ : cfg.cluster.node_id;

    http::Handler handler = cluster::internal_handler(
        hub, {.secret = cfg.cluster.secret, .node_id = node_id_, .profile = cfg.profile});
    // HTTP/1.1 only: that is what nodes speak to each other (an h2c preface is closed).
    server_->set_handlers({.http1 = http1::protocol_handler(std::move(handler)), .http2 = {}});

    peers_ = std::make_unique<cluster::PeerClient>(
        ioc, cluster::PeerOptions{.secret = cfg.cluster.secret, .node_id = node_id_},
        [&router](const std::string& uaid, std::uint64_t version) { router.stale(uaid, version); });
    router.start({.node_id = node_id_, .address = advertise_}, *peers_);
    hub.set_presence(&router);
    spdlog::info("cluster: node '{}' listening on {} (advertised as {})", node_id_, endpoint(),
                 advertise_);
}

ClusterNode::~ClusterNode() {
    if (peers_) peers_->stop();
}

std::string ClusterNode::endpoint() const { return endpoint_text(*server_->cleartext_endpoint()); }

void ClusterNode::drain(std::function<void()> done) {
    // The client stays: pushes answered during the drain are still forwarded until the
    // io_context stops.
    server_->drain(std::move(done));
}

}  // namespace pushsvc::app
