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
//   GET    /health, /metrics   operations; /metrics only as http/admin_access.h allows
// A resource that does not exist is a 404 (choice A-1 for repeated DELETEs).
//
// Thread-safety: handle() may be called from any network thread concurrently.

#include <chrono>
#include <functional>
#include <optional>

#include "pushsvc/http/admin_access.h"
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

    // Who may read /metrics (admin.*; default: loopback peers only, no token). With
    // admin.listen set, the public listeners answer /metrics 404 and handle_admin() serves it.
    void set_admin(const config::AdminConfig& admin);
    // The admin listener's routes: /metrics (under the same rule, with admin_listener set) and
    // /health; anything else is 404.
    void handle_admin(Request req, Responder respond);

  private:
    Response subscribe(const Request& req);
    Response push(Request& req, std::string_view token);
    // The pushes of one RequestGroup (an HTTP/2 read), stored together when it ends.
    class PushGroup;
    void join_push_group(Request& req, std::string_view token, Responder& respond);
    // Consumes `req`: its body, and each of the push's fields that occurs once, are moved into
    // the PushRequest.
    static webpush::PushRequest push_request(Request& req, std::string_view token);
    Response push_response(const result<webpush::PushOutcome>& out, std::uint32_t retry_after_s,
                           std::chrono::steady_clock::time_point started) const;
    Response delete_resource(std::string_view path);
    void monitor(Request& req, std::string_view path, Responder& respond);
    // retry_after_s: Retry-After of a 429 (0: error_response's default).
    Response error(errc e, std::uint32_t retry_after_s = 0) const;
    Response metrics(const Request& req, const AdminAccess& access) const;
    static Response health();

    webpush::PushService& service_;
    Offload offload_;
    std::optional<MonitorContext> monitoring_;
    AdminAccess public_admin_;
    AdminAccess listener_admin_{.admin_listener = true};
    bool metrics_public_ = true;
};

}  // namespace pushsvc::http
