#pragma once
// Options shared by the HTTP/1.1, HTTP/2 and WebSocket clients.

#include <chrono>
#include <string>

namespace webpush_client {

struct TlsOptions {
    bool insecure = false;  // skip certificate and host name verification (test servers)
    std::string ca_file;    // extra trust anchor (PEM), e.g. a test CA; system store otherwise
};

struct ClientOptions {
    TlsOptions tls;
    std::chrono::milliseconds timeout{10000};  // connect, handshake and each request
    std::size_t max_body = 16 * 1024 * 1024;
};

}  // namespace webpush_client
