#pragma once
// The server TLS context: TLS 1.2 and 1.3 only (SSLv3, TLS 1.0 and 1.1 are refused,
// RFC 8996), AEAD ciphers with ephemeral key exchange for TLS 1.2 (RFC 9113 §9.2.2 forbids
// the rest for HTTP/2), no compression and no renegotiation (RFC 9113 §9.2.1), and ALPN
// selecting "h2" before "http/1.1" (RFC 7301, RFC 9113 §3.2). Startup only.

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

enum class AppProtocol { http1, http2 };

// The protocol ALPN chose for a completed handshake; no ALPN means HTTP/1.1.
AppProtocol negotiated_protocol(SSL* ssl) noexcept;

}  // namespace pushsvc::net
