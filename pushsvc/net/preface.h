#pragma once
// Telling HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) from HTTP/1.1 on a cleartext port:
// an HTTP/2 client starts with the 24-byte connection preface (RFC 9113 §3.4). Pure; any
// thread.

#include <string_view>

namespace pushsvc::net {

inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class PrefaceMatch {
    need_more,  // every byte so far matches the preface, fewer than 24 seen
    http2,      // the full preface is present
    http1,      // a byte differs: anything else is treated as HTTP/1.1
};

constexpr PrefaceMatch classify_preface(std::string_view bytes) noexcept {
    const std::size_t n = bytes.size() < kHttp2Preface.size() ? bytes.size() : kHttp2Preface.size();
    if (bytes.substr(0, n) != kHttp2Preface.substr(0, n)) return PrefaceMatch::http1;
    return n == kHttp2Preface.size() ? PrefaceMatch::http2 : PrefaceMatch::need_more;
}

}  // namespace pushsvc::net
