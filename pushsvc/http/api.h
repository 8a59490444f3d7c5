#pragma once
// The route table of the service: maps transport-neutral requests to webpush operations and
// their results (or errc, via error_map) to responses. Identical on every listener and
// protocol (HTTP/1.1, h2c, h2 over TLS).
//
//   POST   /subscribe          RFC 8030 §4    201, Location, Link rel="urn:ietf:params:push"
//   POST   /push/<token>       RFC 8030 §5    201, Location, TTL
//   DELETE /m/<id>             RFC 8030 §6.2  204 (UA ack or sender cancel), 404 when absent
//   DELETE /sub/<id>           RFC 8030 §7.3  204, 404 when absent
//   GET    /health, /metrics   operations
//
// Thread-safety: handle() may be called from any network thread concurrently.

#include <functional>

#include "pushsvc/http/message.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::http {

class Api {
  public:
    // Runs work that writes the store. Null runs it inline on the calling (network) thread,
    // which is right when writes do not fsync; app/ passes a store thread pool when
    // store.sync is on, so network threads never wait on fsync.
    using Offload = std::function<void(std::function<void()>)>;

    Api(webpush::PushService& service, Offload offload = {});

    void handle(Request req, Responder respond);

  private:
    Response subscribe(const Request& req);
    Response push(Request& req, std::string_view token);
    Response delete_resource(std::string_view target);
    Response error(errc e) const;

    webpush::PushService& service_;
    Offload offload_;
};

}  // namespace pushsvc::http
