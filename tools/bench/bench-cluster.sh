#!/usr/bin/env bash
# The cluster on one box (tools/cluster.sh: 3 etcd, 3 PostgreSQL 15 under Patroni with a
# synchronous standby, N pushsvc nodes; everything, load generators included, shares the
# cores), against single-node RocksDB measured in the same run:
#   1. ingestion: h2load POSTs (3 KB aes128gcm, VAPID, TTL 60) to every node at once, each
#      node's own subscriptions; the 2xx rate of all nodes together, and the same workload
#      against one pushsvc on RocksDB (store.sync off) as the reference;
#   2. cross-node delivery latency: WebSocket UAs on node 1, senders pushing at node 2 at a
#      fixed rate; p50 / p99 from the POST to the UA's receipt, in the steady state: the
#      first BENCH_WARMUP seconds (default 2) are pushed but not measured (each UA's first
#      message is read from its queue, and its connection's route write may still be under
#      way); BENCH_TRACE has every receipt, those included;
#   3. failover: seconds without a successful push after SIGKILL of the PostgreSQL leader.
# Env: BENCH_SMOKE=1 (tiny counts; checks the machinery), BENCH_SECONDS (ingestion and latency
# per step, default 10), BENCH_NODES (default 3), BENCH_SUBS (subscriptions per node, default
# 500), BENCH_RATE (latency step, msg/s, default 1000), BENCH_UAS (latency step, default 500),
# BENCH_WARMUP (latency step, seconds not measured, default 2), BENCH_TRACE (latency step: a
# file for every receipt's send time and latency), PUSHSVC_BIN_DIR.
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen h2load
for b in patroni etcd /usr/lib/postgresql/15/bin/postgres; do
    command -v "$b" >/dev/null || { echo "missing $b (tools/install-deps.sh)" >&2; exit 77; }
done
raise_nofile
# Every push in this run stays queued (nobody reads the queues): the default cap of 1,000 per
# user agent would turn the RocksDB reference's last seconds into 429s.
export PUSHSVC__PUSH__MAX_QUEUED_PER_UA=${PUSHSVC__PUSH__MAX_QUEUED_PER_UA:-1000000}

SECS=${BENCH_SECONDS:-10}
NODES=${BENCH_NODES:-3}
SUBS=${BENCH_SUBS:-500}
RATE=${BENCH_RATE:-1000}
WARMUP=${BENCH_WARMUP:-2}
UAS=${BENCH_UAS:-500}
CONNS=${BENCH_CONNS:-8}
STREAMS=${BENCH_STREAMS:-32}
if [ "$SMOKE" = 1 ]; then
    NODES=2; SUBS=20; RATE=100; UAS=20; SECS=2; WARMUP=${BENCH_WARMUP:-1}
    RUN=(-n 200)
    WARM=()
else
    RUN=(-D "$SECS")
    WARM=(--warm-up-time=2)
fi

# setup_workload URL DIR [COUNT]: COUNT (default SUBS) restricted subscriptions made at URL
# and an h2load workload for them (VAPID signed for URL's origin); sets HDRS.
setup_workload() {
    mkdir -p "$2"
    "$BIN/pushsvc-loadgen" setup --target "$1" --subs "${3:-$SUBS}" --out "$2" >/dev/null
    HDRS=()
    local line
    while IFS= read -r line; do HDRS+=(-H "$line"); done <"$2/headers.txt"
}

# ---- 1a. reference: one pushsvc on RocksDB --------------------------------------------------
start_pushsvc rocksdb
setup_workload "$PS_CLEAR" "$WORK/rocksdb-workload"
h2load_run rocksdb -t 1 -c "$CONNS" -m "$STREAMS" -d "$WORK/rocksdb-workload/body.bin" \
    "${HDRS[@]}" "${RUN[@]}" "${WARM[@]}" -i "$WORK/rocksdb-workload/uris.txt"
ROCKS=$H2LOAD_RATE
stop_pid "$PS_PID"

# ---- the cluster -----------------------------------------------------------------------------
start_cluster "$NODES"

# ---- 1b. ingestion into every node at once ---------------------------------------------------
pids=()
for i in "${!NODE_URLS[@]}"; do
    setup_workload "${NODE_URLS[$i]}" "$WORK/node$i-workload"
    h2load_run "cluster-node$((i + 1))" -t 1 -c "$(( (CONNS + NODES - 1) / NODES ))" \
        -m "$STREAMS" -d "$WORK/node$i-workload/body.bin" "${HDRS[@]}" "${RUN[@]}" "${WARM[@]}" \
        -i "$WORK/node$i-workload/uris.txt" >"$WORK/ingest-node$i.json" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat "$WORK"/ingest-node*.json
CLUSTER=$(sed -n 's/.*"ok_per_s":\([0-9.]*\).*/\1/p' "$WORK"/ingest-node*.json |
    awk '{s += $1} END {printf "%.0f", s}')

# ---- 2. cross-node delivery latency ----------------------------------------------------------
# The ingestion wrote ~0.5 GB of WAL: PostgreSQL's checkpoint for it would land inside this
# step (a few hundred ms of tail on this box). It is taken now, on the leader and then on the
# standbys (a restartpoint there), so the step measures delivery, not the aftermath of the
# previous step (BENCHMARKS.md says what a checkpoint costs). It also turns the ingestion's
# WAL files into recycled ones (min_wal_size, tools/cluster.sh), as a database that has run
# for a while has them: a fresh cluster creates a zero-filled file per 16 MB of WAL instead.
# Before it, the ingestion's rows are vacuumed: autovacuum would otherwise scan those ~0.4 GB
# during this step, and after a checkpoint its first touch of each page writes the whole page
# to the WAL (data checksums), hundreds of MB that the synchronous standby must take in ahead
# of the step's commits (p99 65-180 ms in such runs, BENCHMARKS.md).
"$cluster" status "$CDIR" >/dev/null
# pg_run PORT SQL: one statement on the pushsvc database of the member at PORT.
pg_run() { psql -qAt "host=127.0.0.1 port=$1 dbname=pushsvc user=postgres" -c "$2"; }
LEADER_PORT=$(members "next(iter([m['port'] for m in c['members'] if m.get('role') == 'leader']), '')")
if [ -z "$LEADER_PORT" ]; then
    log "no leader in the cluster's status: no VACUUM (measuring anyway)"
elif ! pg_run "$LEADER_PORT" "VACUUM (ANALYZE)"; then
    log "VACUUM on port $LEADER_PORT failed (measuring anyway)"
fi
for port in $(members "' '.join(str(m['port']) for m in sorted(c['members'], key=lambda m: m.get('role') != 'leader') if m.get('kind') == 'postgres')"); do
    pg_run "$port" CHECKPOINT ||
        log "CHECKPOINT on port $port failed (measuring anyway)"
done
"$BIN/pushsvc-loadgen" latency --url "${NODE_URLS[0]}" --push-origin "${NODE_URLS[1]}" \
    --uas "$UAS" --rates "$RATE" --duration "$SECS" --warmup "$WARMUP" --senders 2 --sources 4 \
    ${BENCH_TRACE:+--trace "$BENCH_TRACE"} >"$WORK/latency.json"
cat "$WORK/latency.json"
latency_field() { sed -n "s/.*\"bench\":\"latency\".*\"$1\":\([0-9.e+-]*\).*/\1/p" "$WORK/latency.json" | head -1; }
P50=$(latency_field p50_ms)
P99=$(latency_field p99_ms)
RECEIVED=$(latency_field received)
SENT=$(latency_field sent)

# ---- 3. failover -----------------------------------------------------------------------------
# A fresh subscription for the probe, so the ingestion's queues (and their caps) play no part.
setup_workload "${NODE_URLS[0]}" "$WORK/probe" 1
push_url=$(grep -m1 . "$WORK/probe/uris.txt")
leader=$(members "[m['name'] for m in c['members'] if m.get('role') == 'leader'][0]")
"$cluster" kill "$CDIR" "$leader" >/dev/null
killed=$(date +%s.%N)
FAILOVER=""
codes=""
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
        "${HDRS[@]}" --data-binary "@$WORK/probe/body.bin" "$push_url" || true)
    codes+=" $code"
    if [ "$code" = 201 ]; then
        FAILOVER=$(awk -v a="$(date +%s.%N)" -v b="$killed" 'BEGIN{printf "%.1f", a - b}')
        break
    fi
    sleep 0.25
done
[ -n "$FAILOVER" ] ||
    { echo "no push succeeded within 120 s after killing $leader:$codes" >&2; exit 1; }

printf '{"bench":"cluster","nodes":%d,"rocksdb_per_s":%.0f,"cluster_per_s":%.0f,"cluster_vs_rocksdb":%s,"cross_node_rate":%s,"cross_node_sent":%s,"cross_node_received":%s,"cross_node_p50_ms":%s,"cross_node_p99_ms":%s,"failover_s":%s}\n' \
    "$NODES" "$ROCKS" "$CLUSTER" "$(ratio "$CLUSTER" "$ROCKS")" "$RATE" "${SENT:-0}" \
    "${RECEIVED:-0}" "${P50:-0}" "${P99:-0}" "$FAILOVER"
if [ "$SMOKE" = 1 ]; then
    # The machinery works: both ingestion runs accepted pushes, the pushes made at node 2
    # reached the UAs on node 1, and a failover was measured.
    awk -v r="$ROCKS" -v c="$CLUSTER" 'BEGIN{exit !(r > 0 && c > 0)}' ||
        { echo "an ingestion run accepted no pushes" >&2; exit 1; }
    [ "${RECEIVED:-0}" -gt 0 ] && [ "${RECEIVED%.*}" -ge "${SENT%.*}" ] ||
        { echo "cross-node pushes did not all reach the UAs (${RECEIVED:-0} of ${SENT:-0})" >&2; exit 1; }
fi
