#!/usr/bin/env bash
# Idle browsers over a whole cluster (issue 12): a tools/cluster.sh cluster of BENCH_NODES
# pushsvc nodes (3 etcd, 3 PostgreSQL under Patroni with a synchronous standby), BENCH_UAS
# WebSocket browsers spread evenly over the nodes (hello + one register each, from ~100
# browsers per 127.0.x.y source address), then:
#   1. RSS per browser per node: VmRSS of every node before and after its browsers connected;
#   2. failover: SIGKILL of the last node; its browsers see their connection end and reconnect
#      with their uaid to the other nodes (spread evenly, the next node at once after a
#      refusal); the time from the kill until the last of them said hello again, and a few of
#      them get a push made at a third node (their registration and new route work).
# One process may not open more than `ulimit -Hn` files: the browsers are spread over several
# pushsvc-loadgen processes (each well under the limit), and every node must hold its share
# of the browsers after the failover too, under its own limit (limits.max_connections is
# capped at the open-files limit minus 1,024, net/admission.h); the script says when that
# cannot be met and how many browsers the surviving nodes can hold. A node whose share is more
# than one process may hold runs as several pushsvc processes sharing its public port
# (server.reuse_port, `tools/cluster.sh up --share-port`), as a machine would with a limit
# this low: each process is a cluster member of its own, the kernel spreads the node's
# connections over them, and killing the node kills them all.
# Env: BENCH_SMOKE=1 (300 browsers over 3 nodes; checks the machinery), BENCH_UAS (default
# 100000), BENCH_NODES (default 6), BENCH_NODE_PROCS (pushsvc processes per node, default:
# as many as the failover needs under the open-files limit; 2 in the smoke), BENCH_PROCS
# (load generator processes, default: enough for 15,000 browsers each), BENCH_SETTLE_S
# (default 5), PUSHSVC_BIN_DIR.
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen
for b in patroni etcd /usr/lib/postgresql/15/bin/postgres; do
    command -v "$b" >/dev/null || { echo "missing $b (tools/install-deps.sh)" >&2; exit 77; }
done
raise_nofile

UAS=${BENCH_UAS:-100000}
NODES=${BENCH_NODES:-6}
SETTLE=${BENCH_SETTLE_S:-5}
PROBES=3
# The smoke runs two processes per node, so that the port sharing is exercised too.
if [ "$SMOKE" = 1 ]; then UAS=300; NODES=3; SETTLE=1; BENCH_NODE_PROCS=${BENCH_NODE_PROCS:-2}; fi
LIMIT=$(ulimit -n)
PROCS=${BENCH_PROCS:-$(( (UAS + 14999) / 15000 ))}
[ "$PROCS" -ge 2 ] || PROCS=2
SHARE=$(( (UAS + PROCS - 1) / PROCS ))
[ $((SHARE + 500)) -lt "$LIMIT" ] ||
    { echo "$SHARE browsers per load generator: over the open-files limit $LIMIT (raise BENCH_PROCS)" >&2; exit 1; }
# ~100 browsers per source address, as many browsers behind one NAT: under every per-address
# limit of the nodes (limits.max_connections_per_ip, [rate] hello and new_ua bursts).
SOURCES=$(( (SHARE + 99) / 100 ))
KILL=$((NODES - 1))  # 0-based: node$NODES
# What one process may hold (net/admission.cc: the open-files limit minus 1,024), and how
# many processes a node needs to hold its share after the failover; the kernel's spread over
# them is even within a few percent, hence the 10 % margin.
PROC_CAP=$((LIMIT - 1024))
[ "$PROC_CAP" -gt 0 ] || { echo "open-files limit $LIMIT: no room for connections (net/admission.h)" >&2; exit 1; }
AFTER=$(( (UAS + NODES - 2) / (NODES - 1) ))
NODE_PROCS=${BENCH_NODE_PROCS:-$(( (AFTER * 11 / 10 + PROC_CAP - 1) / PROC_CAP ))}
[[ $NODE_PROCS =~ ^[0-9]+$ ]] && [ "$NODE_PROCS" -ge 1 ] && [ $((NODES * NODE_PROCS)) -le 50 ] ||
    { echo "$NODES nodes of $NODE_PROCS processes: tools/cluster.sh runs 1..50 (BENCH_NODE_PROCS)" >&2; exit 1; }
NODE_CAP=$((PROC_CAP * NODE_PROCS))
if [ "$AFTER" -gt "$NODE_CAP" ]; then
    log "after the failover each of the $((NODES - 1)) surviving nodes would need $AFTER connections," \
        "over its cap of $NODE_CAP (open-files limit $LIMIT): at most $((NODE_CAP * (NODES - 1))) browsers" \
        "can be connected after it; the rest keep retrying until they give up"
fi

start_cluster "$((NODES * NODE_PROCS))" "$NODE_PROCS"
# Node k (0-based) is the cluster members node$((k * NODE_PROCS + 1)) .. node$(((k + 1) *
# NODE_PROCS)), all on one URL.
URLS=()
for k in $(seq 0 $((NODES - 1))); do URLS+=("${NODE_URLS[$((k * NODE_PROCS))]}"); done
URL_LIST=$(IFS=,; echo "${URLS[*]}")
pids_of() { echo "${NODE_PIDS[@]:$(($1 * NODE_PROCS)):$NODE_PROCS}"; }

# Open files of process PID; VmRSS (KiB) and open files of node k, summed over its processes.
proc_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss() { local p s=0; for p in $(pids_of "$1"); do s=$((s + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status"))); done; echo $s; }
fds() { local p s=0; for p in $(pids_of "$1"); do s=$((s + $(proc_fds "$p"))); done; echo $s; }
RSS0=()
for k in $(seq 0 $((NODES - 1))); do RSS0+=("$(rss "$k")"); done

# ---- 1. the browsers -------------------------------------------------------------------------
CONNECT_S=$((120 + UAS / 50))  # bounded: a 50 browsers/s floor
WAIT_S=$((CONNECT_S + 600))
LG=()
left=$UAS
for i in $(seq 0 $((PROCS - 1))); do
    n=$SHARE; [ "$n" -le "$left" ] || n=$left
    left=$((left - n))
    "$BIN/pushsvc-loadgen" cluster-idle --urls "$URL_LIST" --uas "$n" --sources "$SOURCES" \
        --source-base $((i * SOURCES)) --kill-node "$KILL" --timeout-s "$CONNECT_S" \
        --wait-s "$WAIT_S" --probes "$PROBES" --release-file "$WORK/release" >"$WORK/lg$i.out" 2>"$WORK/lg$i.err" &
    LG+=($!)
    STARTED_PIDS+=($!)
done
log "$UAS browsers: $PROCS load generators x $SHARE, $SOURCES source addresses each, $NODES nodes" \
    "of $NODE_PROCS pushsvc process(es) each"
t1=$(date +%s.%N)
deadline=$((SECONDS + CONNECT_S + 30))
while :; do
    ready=0
    for i in "${!LG[@]}"; do
        grep -q cluster_idle_ready "$WORK/lg$i.out" 2>/dev/null && ready=$((ready + 1))
    done
    [ "$ready" = "$PROCS" ] && break
    [ $SECONDS -lt $deadline ] || { echo "load generators not ready after $CONNECT_S s" >&2; exit 1; }
    for i in "${!LG[@]}"; do
        kill -0 "${LG[$i]}" 2>/dev/null || grep -q cluster_idle_ready "$WORK/lg$i.out" ||
            { cat "$WORK/lg$i.err" >&2; echo "load generator $i failed" >&2; exit 1; }
    done
    if [ $((SECONDS % 10)) = 0 ]; then
        c=""; for k in $(seq 0 $((NODES - 1))); do c+=" $(fds "$k")"; done
        log "connecting: open files per node:$c"
    fi
    sleep 1
done
CONNECT_WALL=$(awk -v a="$(date +%s.%N)" -v b="$t1" 'BEGIN{printf "%.1f", a - b}')
cat "$WORK"/lg*.out
CONNECTED=$(sed -n 's/.*"connected":\([0-9]*\).*/\1/p' "$WORK"/lg*.out | awk '{s += $1} END {print s + 0}')
[ "$CONNECTED" = "$UAS" ] || { echo "only $CONNECTED of $UAS browsers connected" >&2; exit 1; }
log "$UAS browsers connected in $CONNECT_WALL s; settling $SETTLE s"
sleep "$SETTLE"
RSS1=()
for k in $(seq 0 $((NODES - 1))); do RSS1+=("$(rss "$k")"); done
# Browsers per node: load generator i's record j is on node j % NODES.
per_node() {
    local k=$1 i n total=0 left=$UAS
    for i in $(seq 0 $((PROCS - 1))); do
        n=$SHARE; [ "$n" -le "$left" ] || n=$left
        left=$((left - n))
        total=$((total + n / NODES + (k < n % NODES ? 1 : 0)))
    done
    echo "$total"
}
PER_NODE_JSON=""
for k in $(seq 0 $((NODES - 1))); do
    b=$(per_node "$k")
    per=$(awk -v a="${RSS1[$k]}" -v z="${RSS0[$k]}" -v n="$b" 'BEGIN{printf "%.0f", (a - z) * 1024 / n}')
    printf '{"bench":"cluster_idle_node","node":"node%d","processes":%d,"browsers":%d,"rss_before_kib":%d,"rss_after_kib":%d,"rss_bytes_per_browser":%d}\n' \
        $((k + 1)) "$NODE_PROCS" "$b" "${RSS0[$k]}" "${RSS1[$k]}" "$per"
    PER_NODE_JSON+="${PER_NODE_JSON:+,}$per"
done

# ---- 2. failover -----------------------------------------------------------------------------
KILL_MS=$(date +%s%3N)
"$cluster" kill "$CDIR" $(for m in $(seq $((KILL * NODE_PROCS + 1)) $((NODES * NODE_PROCS))); do echo "node$m"; done) >/dev/null
log "killed node$NODES ($NODE_PROCS process(es)); waiting for its $(per_node "$KILL") browsers to reconnect"
# Each load generator prints its result and keeps its browsers connected until $WORK/release.
deadline=$((SECONDS + WAIT_S))
for i in "${!LG[@]}"; do
    while ! grep -q cluster_failover "$WORK/lg$i.out" && kill -0 "${LG[$i]}" 2>/dev/null &&
        [ $SECONDS -lt $deadline ]; do sleep 0.5; done
done
grep -h cluster_failover "$WORK"/lg*.out
sum() { sed -n "s/.*\"bench\":\"cluster_failover\".*\"$1\":\([0-9.]*\).*/\1/p" "$WORK"/lg*.out | awk '{s += $1} END {print s + 0}'; }
maxf() { sed -n "s/.*\"bench\":\"cluster_failover\".*\"$1\":\([0-9.]*\).*/\1/p" "$WORK"/lg*.out | awk 'BEGIN{m = 0} {if ($1 > m) m = $1} END {print m}'; }
DROPPED=$(sum dropped)
RECONNECTED=$(sum reconnected)
GAVE_UP=$(sum gave_up)
CHANGED=$(sum uaid_changed)
UNEXPECTED=$(sum unexpected_drops)
PROBED=$(sum probes)
DELIVERED=$(sum probes_delivered)
PUSH_FAILED=$(sum probe_pushes_failed)
LAST=$(maxf last_reconnect_ms)
ALL_S=$(awk -v a="$LAST" -v b="$KILL_MS" 'BEGIN{printf "%.2f", (a > 0 ? (a - b) / 1000 : 0)}')
P99=$(maxf p99_ms)
RSS2=""
for k in $(seq 0 $((KILL - 1))); do RSS2+="${RSS2:+,}$(rss "$k")"; done
# Why browsers that gave up did: each surviving node's open files and what its log says
# about refused connections (limits.max_connections) or failed accepts (open-files limit).
for k in $(seq 0 $((KILL - 1))); do
    for m in $(seq $((k * NODE_PROCS + 1)) $(((k + 1) * NODE_PROCS))); do
        p=${NODE_PIDS[$((m - 1))]}
        log "node$((k + 1)) (member node$m): $(proc_fds "$p") open files" \
            "(limit $(awk '/^Max open files/ {print $4}' "/proc/$p/limits"))"
        { grep -m1 'connection limits:' "$CDIR/node$m/log"
          grep -E 'refused [0-9]+ connection|accept on .* failed' "$CDIR/node$m/log" | tail -n 1; } >&2 || true
    done
done
touch "$WORK/release"
rc=0
for i in "${!LG[@]}"; do
    while kill -0 "${LG[$i]}" 2>/dev/null && [ $SECONDS -lt $((deadline + 30)) ]; do sleep 0.2; done
    wait "${LG[$i]}" || rc=1
done
printf '{"bench":"cluster_idle","nodes":%d,"processes_per_node":%d,"browsers":%d,"load_generators":%d,"connect_s":%s,"rss_bytes_per_browser_per_node":[%s],"killed":"node%d","dropped":%d,"reconnected":%d,"gave_up":%d,"uaid_changed":%d,"unexpected_drops":%d,"all_reconnected_s":%s,"worst_p99_ms":%s,"probes":%d,"probes_delivered":%d,"probe_pushes_failed":%d,"rss_after_failover_kib":[%s]}\n' \
    "$NODES" "$NODE_PROCS" "$UAS" "$PROCS" "$CONNECT_WALL" "$PER_NODE_JSON" "$NODES" "$DROPPED" "$RECONNECTED" \
    "$GAVE_UP" "$CHANGED" "$UNEXPECTED" "$ALL_S" "$P99" "$PROBED" "$DELIVERED" "$PUSH_FAILED" "$RSS2"
if [ "$SMOKE" = 1 ] || [ "$rc" != 0 ]; then
    # Every browser of the killed node came back on another node with its uaid, and a push
    # made at a third node reached the moved browsers probed.
    [ "$rc" = 0 ] && [ "$DROPPED" -gt 0 ] && [ "$RECONNECTED" = "$DROPPED" ] &&
        [ "$PROBED" -gt 0 ] && [ "$DELIVERED" = "$PROBED" ] ||
        { cat "$WORK"/lg*.err >&2; echo "the failover did not bring every browser back" >&2; exit 1; }
fi
