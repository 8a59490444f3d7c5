#pragma once
// The migrations of the PostgreSQL schema (pg_schema.h applies them; docs/storage.md describes
// the tables they make).

#include <vector>

namespace pushsvc::store::pg {

// Entry i brings version i to i + 1. Never edit one that has shipped; append a new one instead.
const std::vector<const char*>& migrations();

}  // namespace pushsvc::store::pg
