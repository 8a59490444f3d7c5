#pragma once
// The PostgreSQL schema of PgStore, created and upgraded by pushsvc itself: a `schema_version`
// table records every migration applied; on open, the missing ones run in order, each in its
// own transaction, under an advisory lock so that nodes starting together do not race.
// docs/storage.md describes the tables.

#include <string>

#include "pushsvc/store/pg_conn.h"

namespace pushsvc::store::pg {

// The version this build writes; a database at a higher one is refused (an older pushsvc
// must not write a schema it does not know).
int schema_version();

// Brings the database behind `conn` to schema_version(). `found` is the version it had (0: a
// fresh database). False with `err` set on any failure (the connection should be dropped).
// `target` below schema_version() stops there: tests build a database as an older pushsvc
// left it, to check that the migrations after it upgrade it.
bool ensure_schema(PgConn& conn, int& found, PgError& err, int target = schema_version());

}  // namespace pushsvc::store::pg
