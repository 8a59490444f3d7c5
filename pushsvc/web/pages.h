#pragma once
// The pages a person opens in a browser, as a decorator in front of the application's
// http::Handler (everything else passes through unchanged):
//
//   GET /             with Accept: text/html and no WebSocket upgrade: the status page, a
//                     static shell that reads /status.json (so the page itself holds nothing)
//   GET /status.json  the status report (web/status.h), for the page and for scripts; only
//                     for operators (the `authorize` rule: loopback, or the admin token)
//   GET /demo/        the try-it page: subscribes the browser it is opened in with the
//                     service's demo VAPID key and asks pushsvc to push to it
//   GET /demo/sw.js   its service worker (shows the notification, tells the page)
//   GET /demo/key     {"publicKey", "origin"}: the demo key and the origin of this service's
//                     endpoints, so the page can tell a subscription of another push service
//   POST /demo/send   {"subscription": PushSubscription.toJSON(), "text"}: encrypts `text`
//                     for the subscription, signs with the demo key and sends it through the
//                     service's own POST /push/<token> route (web/demo.h); its answer is
//                     returned as is. An endpoint of another service is 400 foreign_endpoint.
//
// The status routes exist only where operators are served (`status`: on the public listeners
// unless admin.listen moves the operator routes to a listener of their own, where a second
// Pages serves them), the demo routes only when a demo key is given (web.demo). Thread-safe.

#include <functional>
#include <optional>
#include <string>

#include "pushsvc/base/clock.h"
#include "pushsvc/crypto/p256.h"
#include "pushsvc/http/message.h"
#include "pushsvc/web/status.h"

namespace pushsvc::web {

struct PagesDependencies {
    StatusReport& status;
    bool serve_status = true;  // GET / (page) and /status.json here
    // nullopt when the request may read operator routes, else the error to answer.
    std::function<std::optional<http::Response>(const http::Request&)> authorize;
    // The origin of this service's endpoint URLs (no trailing slash).
    std::string origin;
    const crypto::P256PrivateKey* demo_key = nullptr;  // nullptr: no demo routes
    const base::Clock& clock;
    http::Handler inner;
};

class Pages {
  public:
    explicit Pages(PagesDependencies deps);

    void handle(http::Request req, http::Responder respond);

  private:
    void demo_send(const http::Request& req, http::Responder respond);

    PagesDependencies deps_;
    std::string demo_public_key_;  // base64url
};

// The embedded documents, public for tests.
std::string_view status_page_html();
std::string_view demo_page_html();
std::string_view demo_worker_js();

}  // namespace pushsvc::web
