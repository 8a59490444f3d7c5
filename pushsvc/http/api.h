#pragma once
// The route table of the service: maps transport-neutral requests to webpush operations and
// their results (or errc, via error_map) to responses. Identical on every listener and
// protocol (HTTP/1.1, h2c, h2 over TLS).
//
//   POST   /subscribe       RFC 8030 §4, §4.1  201, Location, Link push + set
//   POST   /push/<token>    RFC 8030 §5, §5.1  201 (or 202 with a receipt Link), Location, TTL
//   GET    /sub/<id>        RFC 8030 §6        HTTP/2 monitoring: server pushes of messages
//   GET    /set/<id>        RFC 8030 §6.1      the same for every member of a set
//   GET    /receipt/<id>    RFC 8030 §6.3      server pushes of receipts (204 / 410)
//   DELETE /m/<id>          RFC 8030 §6.2      204: the UA's ack or the sender's cancel
//   DELETE /sub/<id>, /set/<id>, /receipt/<id>  RFC 8030 §7.3, §7.3.1  204
//   GET    /health, /metrics   operations
// A resource that does not exist is a 404 (choice A-1 for repeated DELETEs).
//
// Thread-safety: handle() may be called from any network thread concurrently.

#include <functional>
#include <optional>

#include "pushsvc/http/message.h"
#include "pushsvc/http/monitor_session.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::http {

class Api {
  public:
    // Runs work that uses the store. Null runs it inline on the calling (network) thread,
    // which is right for RocksDB without fsync; app/ passes a store thread pool when
    // store.sync is on or the store is PostgreSQL, so network threads never wait on fsync or
    // on the database (monitoring GETs find their scope there too).
    using Offload = std::function<void(std::function<void()>)>;

    // Without a MonitorContext, monitoring GETs answer 503 (unit tests of the other routes).
    Api(webpush::PushService& service, Offload offload = {},
        std::optional<MonitorContext> monitoring = std::nullopt);

    void handle(Request req, Responder respond);

  private:
    Response subscribe(const Request& req);
    Response push(Request& req, std::string_view token);
    Response delete_resource(std::string_view path);
    void monitor(Request& req, std::string_view path, Responder& respond);
    Response error(errc e) const;

    webpush::PushService& service_;
    Offload offload_;
    std::optional<MonitorContext> monitoring_;
};

}  // namespace pushsvc::http
