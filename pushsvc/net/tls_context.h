#pragma once
// The server TLS context: TLS 1.2 and 1.3 only (SSLv3, TLS 1.0 and 1.1 are refused,
// RFC 8996), AEAD ciphers with ephemeral key exchange for TLS 1.2 (RFC 9113 §9.2.2 forbids
// the rest for HTTP/2), no compression and no renegotiation (RFC 9113 §9.2.1), and ALPN
// selecting "h2" before "http/1.1" (RFC 7301, RFC 9113 §3.2). Built at startup and again
// on each certificate reload (net::Server::reload_tls).

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "pushsvc/base/result.h"

namespace pushsvc::net {

// Loads a PEM certificate chain and private key. Errors: the file cannot be read or parsed,
// or the key does not match the certificate (an OpenSSL error_code).
result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(
    const std::string& cert_path, const std::string& key_path);

// "subject CN=localhost, expires Mar  1 00:00:00 2029 GMT, sha256 AB:CD:..." for the leaf
// certificate of `ctx`, for the log lines of startup and reload.
std::string describe_certificate(boost::asio::ssl::context& ctx);

enum class AppProtocol { http1, http2 };

// The protocol ALPN chose for a completed handshake; no ALPN means HTTP/1.1.
AppProtocol negotiated_protocol(SSL* ssl) noexcept;

}  // namespace pushsvc::net
