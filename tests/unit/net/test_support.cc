#include "tests/unit/net/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "pushsvc/http1/session.h"
#include "pushsvc/http2/connection.h"

namespace pushsvc::test {

void EchoHandler::handle(std::string_view protocol, http::Request req, http::Responder respond) {
    ++calls_;
    if (req.target.rfind("/defer", 0) == 0) {
        std::lock_guard lock(mutex_);
        deferred_.emplace_back(std::move(req), std::move(respond));
        cv_.notify_all();
        return;
    }
    http::Response res;
    res.status = 200;
    res.headers.add("content-type", "text/plain");
    res.headers.add("x-method", req.method);
    res.body = echo_body(protocol, req);
    respond(std::move(res));
}

std::optional<std::pair<http::Request, http::Responder>> EchoHandler::take_deferred(
    std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return !deferred_.empty(); })) return std::nullopt;
    auto out = std::move(deferred_.front());
    deferred_.pop_front();
    return out;
}

std::string echo_body(std::string_view protocol, const http::Request& req) {
    std::string out;
    out += "method=" + req.method + "\n";
    out += "target=" + req.target + "\n";
    out += "authority=" + req.authority + "\n";
    out += "protocol=" + std::string(protocol) + "\n";
    out += std::string("can_push=") + (req.can_push ? "1" : "0") + "\n";
    out += "client=" + req.client + "\n";
    out += "x-echo=" + req.headers.get("x-echo").value_or("") + "\n";
    out += "body=" + req.body;
    return out;
}

TempCert::TempCert() {
    char tmpl[] = "/tmp/pushsvc-cert-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir = tmpl;
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=localhost -keyout " +
        key + " -out " + cert + " 2>/dev/null";
    if (run_command(cmd).exit_code != 0) throw std::runtime_error("openssl req failed");
}

TempCert::~TempCert() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

config::Config TestServer::default_config() {
    config::Config cfg;
    cfg.server.listen = "127.0.0.1:0";
    cfg.limits.max_header_bytes = 4096;
    cfg.limits.max_body_bytes = 4352;
    cfg.limits.read_timeout_ms = 5000;
    cfg.limits.idle_timeout_ms = 5000;
    cfg.limits.shutdown_grace_ms = 5000;
    return cfg;
}

TestServer::TestServer(config::Config cfg, bool tls, http1::UpgradeHandler upgrade)
    : work_(ioc_.get_executor()), handler_(std::make_shared<EchoHandler>()) {
    if (tls) {
        cert_ = std::make_unique<TempCert>();
        cfg.server.tls_listen = "127.0.0.1:0";
        cfg.server.tls_cert = cert_->cert;
        cfg.server.tls_key = cert_->key;
    }
    auto h = handler_;
    auto echo_as = [h](std::string_view protocol) -> http::Handler {
        return [h, protocol](http::Request req, http::Responder r) {
            h->handle(protocol, std::move(req), std::move(r));
        };
    };
    server_ = std::make_unique<net::Server>(ioc_, cfg);
    auto started = server_->start();
    if (!started) throw std::runtime_error("server start: " + started.error().message());
    // In the order app/ uses: bound first, handlers before the io_context runs.
    server_->set_handlers({.http1 = http1::protocol_handler(echo_as("http1"), std::move(upgrade)),
                           .http2 = http2::protocol_handler(echo_as("http2"))});
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

TestServer::~TestServer() {
    server_.reset();
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
}

namespace {

int connect_to(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads what is available within the deadline; 0 on EOF, -1 on timeout/error.
ssize_t read_some(int fd, std::string& out, std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return -1;
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    return n;
}

}  // namespace

RawClient::RawClient(unsigned short port) : fd_(connect_to(port)) {}

RawClient::~RawClient() {
    if (fd_ >= 0) ::close(fd_);
}

void RawClient::send_slices(const std::string& data, const std::vector<std::size_t>& sizes) {
    std::size_t off = 0;
    for (std::size_t i = 0; off < data.size(); ++i) {
        const std::size_t n = std::min(sizes[i % sizes.size()], data.size() - off);
        if (::send(fd_, data.data() + off, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) return;
        off += n;
    }
}

std::string RawClient::read_responses(std::size_t count, std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (parse_responses(out).size() < count) {
        if (read_some(fd_, out, deadline) <= 0) break;
    }
    return out;
}

std::string RawClient::read_until_contains(const std::string& needle,
                                           std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.find(needle) == std::string::npos) {
        if (read_some(fd_, out, deadline) <= 0) break;
    }
    return out;
}

bool RawClient::read_until_closed(std::string& out, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const ssize_t n = read_some(fd_, out, deadline);
        if (n == 0) return true;
        if (n < 0) return errno == ECONNRESET;
    }
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool can_connect(unsigned short port) {
    const int fd = connect_to(port);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

std::vector<ParsedResponse> parse_responses(const std::string& wire) {
    std::vector<ParsedResponse> out;
    std::size_t pos = 0;
    while (pos < wire.size()) {
        const auto end = wire.find("\r\n\r\n", pos);
        if (end == std::string::npos) break;
        ParsedResponse r;
        const std::string head = wire.substr(pos, end - pos);
        if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) break;
        r.status = std::stoi(head.substr(9, 3));
        std::size_t line = head.find("\r\n");
        while (line != std::string::npos) {
            const std::size_t next = head.find("\r\n", line + 2);
            const std::string field = head.substr(
                line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
            const auto colon = field.find(':');
            if (colon != std::string::npos) {
                std::string name = field.substr(0, colon);
                for (auto& c : name) c = static_cast<char>(std::tolower(c));
                std::string value = field.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                r.headers[name] = value;
            }
            line = next;
        }
        std::size_t len = 0;
        if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
            len = std::stoul(it->second);
        }
        if (end + 4 + len > wire.size()) break;
        r.body = wire.substr(end + 4, len);
        pos = end + 4 + len;
        if (r.status >= 200) out.push_back(std::move(r));
    }
    return out;
}

CommandResult run_command(const std::string& cmd) {
    CommandResult res;
    FILE* p = ::popen(("timeout 10 " + cmd).c_str(), "r");
    if (!p) return res;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) res.output.append(buf, n);
    const int status = ::pclose(p);
    res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return res;
}

}  // namespace pushsvc::test
