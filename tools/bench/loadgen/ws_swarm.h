#pragma once
// Many WebSocket user agents (the Firefox push protocol) on one io_context and one thread,
// for the idle, latency and backlog benchmarks. tools/client's UaConnection owns an
// io_context per connection (an epoll fd each), which does not scale to tens of thousands of
// sockets; this drives plain Beast streams instead and reuses tools/client's frame codec.
// Source addresses rotate over 127.0.0.2.. so more than one port range is available.
// Cluster runs (bench-cluster-idle.sh) give several URLs: each record names its node, and a
// user agent whose connection drops after it was ready can be told (on_drop) and reconnected
// to another node with the same uaid and source address (reconnect), as a browser would.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench/loadgen/common.h"
#include "tools/client/ua_protocol.h"

namespace loadgen {

struct UaRecord {
    std::string uaid;          // empty: a new user agent (the server assigns one)
    std::string channel;       // registered channel (empty: register one after hello)
    std::string endpoint;      // push endpoint of that channel
    std::size_t node = 0;      // index into SwarmOptions::urls (ignored with one url)
    std::uint32_t source = 0;  // source address (host order) once connected; kept on reconnect
};

struct SwarmOptions {
    std::string url;                // ws://host:port/ or wss://host:port/
    std::vector<std::string> urls;  // several nodes (ws:// or wss://, one scheme); overrides url
    // Source addresses: `sources` of them from 127.0.0.2 + source_base on, counted as one
    // 32-bit number (127.0.0.255 + 1 = 127.0.1.0), all on the loopback interface.
    int source_base = 0;
    int sources = 1;
    int connect_window = 256;  // handshakes in flight at once
    bool register_channel = true;
    std::optional<webpush_client::Bytes> application_server_key;
    bool ack = true;  // ack every notification (code 100)
    // Called on the swarm thread, once per connection, when the connection of a ready user
    // agent ends without drop_all() (the server closed it or died).
    std::function<void(UaRecord&)> on_drop;
};

class Swarm {
  public:
    // Called on the swarm thread for every notification, with the receive time.
    using OnNotification =
        std::function<void(const webpush_client::Notification&, Clock::time_point)>;

    Swarm(SwarmOptions options, OnNotification on_notification = {});
    ~Swarm();  // closes every socket and joins the thread

    // Connects one user agent per record (hello with its uaid, register when it has no
    // channel) and waits until all are ready or failed, or the deadline. Fills in the
    // records. Returns the number ready.
    std::size_t connect(std::vector<UaRecord>& records, Clock::time_point deadline);
    // Closes every socket now (no close handshake: what a crashed browser or a network
    // drop looks like to the server) and waits until the swarm thread has done it.
    void drop_all();
    // Connects `record` again, to urls[record.node], from record.source (hello with its uaid,
    // no register when it has a channel). `done(ok)` runs on the swarm thread; on success a
    // later drop calls on_drop again. The record must outlive the swarm.
    void reconnect(UaRecord& record, std::function<void(bool ok)> done);

    std::size_t ready() const { return ready_; }
    std::size_t failed() const { return failed_; }
    std::uint64_t notifications() const { return notifications_; }

  private:
    class Ua;
    template <class Next>
    class UaOver;
    void pump();  // swarm thread: start handshakes up to the window
    struct Impl;
    std::unique_ptr<Impl> impl_;
    SwarmOptions options_;
    OnNotification on_notification_;
    std::atomic<std::size_t> ready_{0}, failed_{0};
    std::atomic<std::uint64_t> notifications_{0};
};

}  // namespace loadgen
