#pragma once
// Test support for the transport tests: a net::Server on 127.0.0.1 port 0 run by two
// io_context threads, wired as app/ wires it (http1::protocol_handler and
// http2::protocol_handler around one application handler, here an echo), a throwaway
// self-signed certificate, a raw
// blocking-socket client with deadlines, a minimal HTTP/1.1 response reader and a subprocess
// runner for independent clients (curl, nghttp). Every wait is bounded.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pushsvc/config/config.h"
#include "pushsvc/http/message.h"
#include "pushsvc/http1/upgrade.h"
#include "pushsvc/net/server.h"

namespace pushsvc::test {

using namespace std::chrono_literals;

// Echo: the body lists method, target, authority, protocol, can_push, client, x-echo and then
// "body=" followed by the request body. `protocol` is the protocol handler the request came
// through ("http1" or "http2"): TestServer gives each one its own tagged copy, so the echo
// shows which session net/ handed the connection to. Targets under /defer are parked: the
// test answers them through take_deferred() from its own thread.
class EchoHandler {
  public:
    void handle(std::string_view protocol, http::Request req, http::Responder respond);
    // Waits up to `timeout` for a parked request.
    std::optional<std::pair<http::Request, http::Responder>> take_deferred(
        std::chrono::milliseconds timeout = 5s);
    int calls() const { return calls_.load(); }

  private:
    std::atomic<int> calls_{0};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<http::Request, http::Responder>> deferred_;
};

std::string echo_body(std::string_view protocol, const http::Request& req);

// A self-signed P-256 certificate for "localhost" in a fresh temp directory.
struct TempCert {
    TempCert();
    ~TempCert();
    std::string dir, cert, key;
};

class TestServer {
  public:
    // `tls` adds a TLS listener with a throwaway certificate. `upgrade` is the HTTP/1.1
    // upgrade hook (app/ passes the WebSocket one).
    explicit TestServer(config::Config cfg = default_config(), bool tls = false,
                        http1::UpgradeHandler upgrade = {});
    ~TestServer();

    static config::Config default_config();

    unsigned short port() const { return server_->cleartext_endpoint()->port(); }
    unsigned short tls_port() const { return server_->tls_endpoint()->port(); }
    net::Server& server() { return *server_; }
    EchoHandler& handler() { return *handler_; }
    boost::asio::io_context& ioc() { return ioc_; }

  private:
    std::unique_ptr<TempCert> cert_;
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::shared_ptr<EchoHandler> handler_;
    std::unique_ptr<net::Server> server_;
    std::vector<std::thread> threads_;
};

// Blocking TCP client on 127.0.0.1 with deadlines (poll()).
class RawClient {
  public:
    explicit RawClient(unsigned short port);
    ~RawClient();
    bool connected() const { return fd_ >= 0; }
    // Sends `data` in slices of the given sizes, cycling through them.
    void send_slices(const std::string& data, const std::vector<std::size_t>& sizes = {7, 3, 11});
    void send(const std::string& data) { send_slices(data, {data.size() ? data.size() : 1}); }
    // Reads until `count` complete responses are buffered, EOF or timeout.
    std::string read_responses(std::size_t count, std::chrono::milliseconds timeout = 5s);
    // Reads until `needle` appears in what was read, EOF or timeout.
    std::string read_until_contains(const std::string& needle,
                                    std::chrono::milliseconds timeout = 5s);
    // Reads until the peer closes (true) or timeout (false).
    bool read_until_closed(std::string& out, std::chrono::milliseconds timeout = 5s);
    void shutdown_write();

  private:
    int fd_ = -1;
};

// Attempts a TCP connect; false when refused.
bool can_connect(unsigned short port);

struct ParsedResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};
// Parses complete HTTP/1.1 responses (content-length framing) in order.
std::vector<ParsedResponse> parse_responses(const std::string& wire);

struct CommandResult {
    int exit_code = -1;
    std::string output;
};
// Runs a shell command under `timeout 10`, capturing stdout (and stderr when asked).
CommandResult run_command(const std::string& cmd);

}  // namespace pushsvc::test
