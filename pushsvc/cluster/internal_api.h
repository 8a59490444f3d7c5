#pragma once
// The handler of the internal listener (cluster.listen): the one route other nodes call, and
// nothing else. The public listeners never reach it (app/ gives them http::Api, which does not
// know this path), and this handler knows no public route.
//
//   POST /_cluster/v1/notify   (wire.h)  200 {"absent": [...]}
//   401 cluster_auth_missing   no or another Authorization scheme (WWW-Authenticate)
//   403 cluster_auth_invalid   wrong MAC (another cluster.secret) or a stale timestamp
//   400 bad_json               not a notification
//   405 method_not_allowed     another method on the route
//   404 not_found              any other path
// Every error is the service's JSON error body, counted in pushsvc_errors_total{reason}.
//
// For each event of an authenticated notification, the user agent's sessions on this node are
// told through the hub exactly as for a local push (a wake-up to read the queue, a TTL-0
// message, an acknowledgement, a removal); a user agent with no session here is reported
// absent. A notification addressed to another node id reports every event absent: the address
// now belongs to this node, so routes naming the old one are stale.
//
// Thread-safety: the handler may run on any network thread; it only posts (hub.h), never
// touches the store.

#include <string>

#include "pushsvc/config/config.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/http/message.h"

namespace pushsvc::cluster {

struct InternalOptions {
    std::string secret;   // cluster.secret
    std::string node_id;  // this node's cluster.node_id
    config::Profile profile = config::Profile::compat;
};

// `hub` must outlive every request the handler serves.
http::Handler internal_handler(delivery::Hub& hub, InternalOptions options);

}  // namespace pushsvc::cluster
