#pragma once
// The checks of the [cluster] keys, part of validate() (load.h): kept apart from the loader.

#include "pushsvc/config/config.h"

namespace pushsvc::config {

// Throws std::runtime_error with one line naming the key when [cluster] cannot work: a key
// set without cluster.listen, a listen address that is not host:port, a store other than
// PostgreSQL, a missing or short secret, an advertise URL that is not http://host:port (or
// missing while listen binds every address), a node_id with spaces or control characters.
void validate_cluster(const Config& c);

}  // namespace pushsvc::config
