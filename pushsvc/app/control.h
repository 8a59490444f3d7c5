#pragma once
// The local control socket, `<store.path>/control.sock`: a Unix stream socket with mode 0600,
// so only the service's own user (and root) can use it; the file system is the access
// control, nothing listens on the network. A client writes one command line and reads one
// reply line. Commands: "backup" (app/backup.h). Used by `pushsvc backup`, which runs as
// another process: RocksDB lets one process open the database, so a consistent hot copy must
// be made by the service itself.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace pushsvc::app {

class ControlSocket {
  public:
    // The reply to one command line; `reply` may be called from any thread, once.
    using Handler = std::function<void(const std::string& command,
                                       std::function<void(std::string reply)> reply)>;

    // Binds `path` (a stale socket file left by a killed process is replaced) and accepts
    // on `ioc`. Throws std::runtime_error when it cannot bind.
    ControlSocket(boost::asio::io_context& ioc, std::string path, Handler handler);
    ~ControlSocket();  // close()
    // Stops accepting and removes the socket file; connections in progress finish.
    void close();

    const std::string& path() const { return path_; }

  private:
    struct State;
    std::shared_ptr<State> state_;
    std::string path_;
};

// Client side: sends `command` to the socket at `path` and returns the reply line. Throws
// std::system_error with the connect error (ENOENT or ECONNREFUSED: no service there) and
// std::runtime_error when no reply comes within `timeout`.
std::string control_request(const std::string& path, const std::string& command,
                            std::chrono::seconds timeout);

}  // namespace pushsvc::app
