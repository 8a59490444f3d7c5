#pragma once
// Helpers of the transport's abuse-limit tests (server_limits_test.cc and
// server_write_stall_test.cc):
// raw TCP clients from chosen 127.0.0.x source addresses, and the server settings they use.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <utility>

#include "tests/unit/net/test_support.h"

namespace pushsvc::test::limits {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A TCP connection from `source` (a 127.0.0.x address) to 127.0.0.1:port; -1 on failure.
inline int connect_from(const char* source, unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &src.sin_addr);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Waits up to `timeout` for the server to close (EOF or reset); data is discarded.
inline bool closed_within(int fd, milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    for (int i = 0; i < 10'000 && Clock::now() < end; ++i) {
        const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    }
    return false;
}

// One HTTP/1.1 request on `fd`; true when a 200 comes back within 3 s.
inline bool served(int fd) {
    const std::string req = "GET /hello HTTP/1.1\r\nhost: t\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
        return false;
    std::string out;
    const auto end = Clock::now() + std::chrono::seconds(3);
    while (parse_responses(out).empty() && Clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        out.append(buf, static_cast<std::size_t>(n));
    }
    auto r = parse_responses(out);
    return !r.empty() && r[0].status == 200;
}

// After a connection from `source` closed, its place is freed once the server has seen the
// close and dropped the session: retried (each retry is a fresh connection) for up to 3 s.
inline bool eventually_served_from(const char* source, unsigned short port) {
    const auto end = Clock::now() + std::chrono::seconds(3);
    for (int i = 0; i < 200 && Clock::now() < end; ++i) {
        Fd c(connect_from(source, port));
        if (c.fd >= 0 && served(c.fd)) return true;
        pollfd none{-1, 0, 0};
        ::poll(&none, 0, 10);  // pace the retries; the release has no event visible here
    }
    return false;
}

inline config::Config limits_config() {
    auto cfg = TestServer::default_config();
    // Long enough that a connection closed within a second was refused, not timed out.
    cfg.limits.first_request_timeout_ms = 5000;
    cfg.limits.handshake_timeout_ms = 5000;
    return cfg;
}

}  // namespace pushsvc::test::limits
