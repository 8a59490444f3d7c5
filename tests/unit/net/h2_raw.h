#pragma once
// Pieces of a raw nghttp2 client session for the server tests that need frame-level control
// (a peer that stops answering PINGs, one that never opens its window).

#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace pushsvc::testing {

// Submits `GET path` (scheme http, authority "t"); returns the stream id (< 0 on error).
inline std::int32_t submit_h2_get(nghttp2_session* session, std::string path) {
    std::string f[] = {":method",    "GET", ":scheme", "http",
                       ":authority", "t",   ":path",   std::move(path)};
    nghttp2_nv nva[4];
    for (int i = 0; i < 4; ++i)
        nva[i] = {reinterpret_cast<std::uint8_t*>(f[2 * i].data()),
                  reinterpret_cast<std::uint8_t*>(f[2 * i + 1].data()), f[2 * i].size(),
                  f[2 * i + 1].size(), NGHTTP2_NV_FLAG_NONE};
    return nghttp2_submit_request(session, nullptr, nva, 4, nullptr, nullptr);
}

// Sends whatever the session has queued on `fd`; false if a send fell short.
inline bool send_h2_queued(nghttp2_session* session, int fd) {
    const std::uint8_t* data = nullptr;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session, &data)) > 0)
        if (::send(fd, data, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return false;
    return true;
}

}  // namespace pushsvc::testing
