#!/usr/bin/env bash
# Push ingestion into the PostgreSQL store vs RocksDB, in one run with one workload: h2load
# POSTs of a 3 KB aes128gcm body (VAPID, TTL) to many subscriptions over h2c, against pushsvc
# with store.backend = "rocksdb" (store.sync off and on) and "postgres" (a local PostgreSQL 15
# started for the run by tests/support/pg_instance.sh, default settings: fsync and
# synchronous_commit on). Ratios on the same box are the result, not the absolute numbers.
# Env: BENCH_SMOKE=1 (tiny counts), BENCH_SECONDS (per variant, default 10), BENCH_POOL
# (store.postgres.pool_size, default 8), PUSHSVC_BIN_DIR.
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen h2load
[ -x /usr/lib/postgresql/15/bin/postgres ] || { echo "missing postgresql-15" >&2; exit 77; }
raise_nofile

SECS=${BENCH_SECONDS:-10}
SUBS=${BENCH_SUBS:-10000}
CONNS=${BENCH_CONNS:-8}
STREAMS=${BENCH_STREAMS:-32}
if [ "$SMOKE" = 1 ]; then
    SUBS=20
    RUN=(-n 300)
    WARM=()
else
    RUN=(-D "$SECS")
    WARM=(--warm-up-time=2)
fi

PG=$("$ROOT/tests/support/pg_instance.sh" start)
PG_DIR=${PG% *}
PG_PORT=${PG#* }
trap '"$ROOT/tests/support/pg_instance.sh" destroy "$PG_DIR" || true; cleanup' EXIT
log "PostgreSQL on 127.0.0.1:$PG_PORT ($PG_DIR)"

# ingest LABEL: starts pushsvc (settings from the PUSHSVC__* environment), subscribes SUBS
# times, runs the h2load workload, stops pushsvc. Leaves the 2xx rate in H2LOAD_RATE.
ingest() {
    local label=$1 w=$WORK/$1-workload
    start_pushsvc "$label"
    mkdir -p "$w"
    "$BIN/pushsvc-loadgen" setup --target "$PS_CLEAR" --subs "$SUBS" --out "$w" >/dev/null
    sed -i "s#^https\?://[^/]*#$PS_CLEAR#" "$w/uris.txt"
    local hdrs=() line
    while IFS= read -r line; do hdrs+=(-H "$line"); done <"$w/headers.txt"
    h2load_run "$label" -t 1 -c "$CONNS" -m "$STREAMS" -d "$w/body.bin" "${hdrs[@]}" \
        "${RUN[@]}" "${WARM[@]}" -i "$w/uris.txt"
    stop_pid "$PS_PID"
}

ingest rocksdb
ROCKS=$H2LOAD_RATE
PUSHSVC__STORE__SYNC=true ingest rocksdb_sync
ROCKS_SYNC=$H2LOAD_RATE
PUSHSVC__STORE__BACKEND=postgres \
    PUSHSVC__STORE__POSTGRES__DSN="host=127.0.0.1 port=$PG_PORT dbname=postgres user=postgres" \
    PUSHSVC__STORE__POSTGRES__POOL_SIZE="${BENCH_POOL:-8}" ingest postgres
PGRATE=$H2LOAD_RATE

printf '{"bench":"postgres-ingest","rocksdb_per_s":%.0f,"rocksdb_sync_per_s":%.0f,"postgres_per_s":%.0f,"postgres_vs_rocksdb":%s,"postgres_vs_rocksdb_sync":%s}\n' \
    "$ROCKS" "$ROCKS_SYNC" "$PGRATE" "$(ratio "$PGRATE" "$ROCKS")" "$(ratio "$PGRATE" "$ROCKS_SYNC")"
if [ "$SMOKE" = 1 ]; then
    # The machinery works: every variant accepted pushes.
    for r in "$ROCKS" "$ROCKS_SYNC" "$PGRATE"; do
        awk -v r="$r" 'BEGIN{exit !(r > 0)}' || { echo "a variant accepted no pushes" >&2; exit 1; }
    done
fi
