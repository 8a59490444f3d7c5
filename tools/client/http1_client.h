#pragma once
// Synchronous HTTP/1.1 client (RFC 9112) over TCP or TLS, for application-server requests
// (push, RFC 8030 §5) and RFC 8030 §4 subscribe requests. Keeps one connection alive and
// reuses it for requests to the same origin; reconnects transparently when the server closed
// it. Each request honours options.timeout. Owns its io_context; not thread-safe (use one
// client per thread).

#include <memory>

#include "tools/client/client_options.h"
#include "tools/client/error.h"
#include "tools/client/http_message.h"

namespace webpush_client {

class Http1Client {
  public:
    explicit Http1Client(ClientOptions options = {});
    ~Http1Client();
    Http1Client(const Http1Client&) = delete;
    Http1Client& operator=(const Http1Client&) = delete;

    // Sends the request (Host, Content-Length and User-Agent are added when absent) and
    // reads the whole response.
    Result<HttpResponse> request(const HttpRequest& request);
    void close();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace webpush_client
