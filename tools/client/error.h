#pragma once
// Error and Result types of the independent Web Push client library.
//
// Every fallible call returns Result<T> (boost::system::result with a rich Error): a code that
// tests can match on plus a one-line human message that pushctl prints as is. Nothing in the
// library throws on bad input; value() on an error result throws std::runtime_error.

#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>

namespace webpush_client {

enum class Errc {
    invalid_argument,  // caller-supplied value is malformed (bad URL, bad option)
    invalid_base64,    // not base64url (RFC 4648 §5), padded or not
    invalid_key,       // not a valid P-256 key (RFC 8291 §7: point on the curve)
    invalid_json,      // JSON text does not parse or lacks a required member
    bad_header,        // RFC 8188 §2.1 header, Encryption or Crypto-Key header malformed
    truncated,         // RFC 8188 §2 / §4.2: message ends early or a record is too short
    bad_padding,       // RFC 8188 §2 / RFC 8291 §4: wrong delimiter or non-zero padding
    decrypt_failed,    // AES-GCM authentication failed (wrong key, auth secret or data)
    bad_signature,     // RFC 8292 §2: JWT signature or shape invalid
    crypto,            // OpenSSL failure that is not the caller's fault
    io,                // socket or file error
    tls,               // TLS handshake or certificate verification failed
    timeout,           // deadline passed
    protocol,          // peer violated HTTP/1.1, HTTP/2 or the WebSocket push protocol
    closed,            // peer closed the connection
};

struct Error {
    Errc code;
    std::string message;
};

// Found by ADL when result<T, Error>::value() is called on an error.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace webpush_client
