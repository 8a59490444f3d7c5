# Shared helpers for tools/bench/bench-*.sh (sourced, not run). Every process started here is
# remembered by PID and only those PIDs are signalled; every wait is bounded.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BIN=${PUSHSVC_BIN_DIR:-$ROOT/build-bench/bin}
SMOKE=${BENCH_SMOKE:-0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pushsvc-bench.XXXXXX")
STARTED_PIDS=()

cleanup() {
    local p
    for p in "${STARTED_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${STARTED_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "[$(date +%T)] $*" >&2; }
need_bin() {
    for b in "$@"; do
        if [ ! -x "$BIN/$b" ] && ! command -v "$b" >/dev/null; then
            echo "missing $b (build with PUSHSVC_BUILD_BENCH=ON; tools/install-deps.sh)" >&2
            exit 77
        fi
    done
}
# Many sockets: raise the soft open-files limit to the hard one (children inherit it).
raise_nofile() { ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; }

# A free TCP port on 127.0.0.1 (bounded number of tries).
free_port() {
    local i p
    for i in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# wait_listening PORT SECONDS: until something accepts connections on 127.0.0.1:PORT.
wait_listening() {
    local i
    for i in $(seq 1 $(($2 * 20))); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# wait_for_file FILE SECONDS
wait_for_file() {
    local i
    for i in $(seq 1 $(($2 * 20))); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

json_field() { grep -o "\"$2\":\"[^\"]*\"" "$1" | head -1 | sed 's/.*":"//; s/"$//'; }

# start_pushsvc NAME [tls]: starts pushsvc on port 0 with its own data folder; extra settings
# come from PUSHSVC__* variables in the environment. Sets PS_PID, PS_CLEAR (http://host:port),
# PS_TLS (https://host:port or ""), PS_DIR, PS_START_S (seconds until ready).
start_pushsvc() {
    local name=$1 tls=${2:-}
    PS_DIR=$WORK/$name
    mkdir -p "$PS_DIR"
    {
        echo 'profile = "compat"'
        echo '[server]'
        echo 'listen = "127.0.0.1:0"'
        echo "threads = ${BENCH_THREADS:-0}"
        if [ -n "$tls" ]; then
            [ -f "$WORK/tls/cert.pem" ] || "$ROOT/tools/dev-cert.sh" "$WORK/tls" >/dev/null
            echo 'tls_listen = "127.0.0.1:0"'
            echo "tls_cert = \"$WORK/tls/cert.pem\""
            echo "tls_key = \"$WORK/tls/key.pem\""
        fi
        # Load generators send from one address (and one VAPID key) at rates no real sender
        # reaches: with the rate limits on ([rate], docs/limits.md) a run would measure them.
        echo '[rate]'
        echo 'push_per_min = 0'
        echo 'subscribe_per_min = 0'
        echo 'hello_per_min = 0'
        echo 'new_ua_per_min = 0'
        echo '[store]'
        echo "path = \"$PS_DIR/data\""
        echo '[log]'
        echo 'level = "warn"'
    } >"$PS_DIR/pushsvc.toml"
    restart_pushsvc
}

# Starts pushsvc again on PS_DIR (same data). Sets PS_PID, PS_CLEAR, PS_TLS, PS_START_S.
restart_pushsvc() {
    rm -f "$PS_DIR/ready.json"
    local t0
    t0=$(date +%s.%N)
    # PS_WRAP: a command to run pushsvc under (bench-instructions.sh: valgrind); PS_PID is
    # then the wrapper's, which is pushsvc's own for valgrind (it runs the program in-process).
    ${PS_WRAP:-} "$BIN/pushsvc" --config "$PS_DIR/pushsvc.toml" --ready-file "$PS_DIR/ready.json" \
        >>"$PS_DIR/log" 2>&1 &
    PS_PID=$!
    STARTED_PIDS+=("$PS_PID")
    if ! wait_for_file "$PS_DIR/ready.json" 120; then
        cat "$PS_DIR/log" >&2
        echo "pushsvc did not become ready" >&2
        exit 1
    fi
    PS_START_S=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%.3f", a - b}')
    PS_CLEAR="http://$(json_field "$PS_DIR/ready.json" cleartext)"
    PS_TLS=""
    if grep -q '"tls"' "$PS_DIR/ready.json"; then
        PS_TLS="https://$(json_field "$PS_DIR/ready.json" tls)"
    fi
}

# start_cluster NODES [SHARE]: a tools/cluster.sh cluster of NODES pushsvc nodes (this BIN's
# pushsvc; every SHARE of them on one public port, --share-port) under $WORK/cluster,
# stopped on exit; sets `cluster` (the script), CDIR, NODE_URLS and NODE_PIDS (pushsvc nodes
# in order). `members EXPR` then prints a Python expression over the
# cluster's cluster.json (`c`).
start_cluster() {
    cluster=$ROOT/tools/cluster.sh
    CDIR=$WORK/cluster
    chmod 755 "$WORK"  # Patroni and PostgreSQL run as the postgres user under it
    trap '"$cluster" down "$CDIR" >/dev/null 2>&1 || true; cleanup' EXIT
    local t0
    t0=$(date +%s)
    PUSHSVC_BIN=$BIN/pushsvc "$cluster" up "$CDIR" --nodes "$1" --share-port "${2:-1}" \
        >"$WORK/cluster-up.log" 2>&1 ||
        { cat "$WORK/cluster-up.log" >&2; exit 1; }
    log "cluster of $1 nodes up in $(( $(date +%s) - t0 )) s"
    mapfile -t NODE_URLS < <(members "'\n'.join(m['url'] for m in c['members'] if m['kind'] == 'pushsvc')")
    mapfile -t NODE_PIDS < <(members "'\n'.join(str(m['pid']) for m in c['members'] if m['kind'] == 'pushsvc')")
}
members() { python3 -c "import json,sys; c=json.load(open('$CDIR/cluster.json')); print($1)"; }

# stop_pid PID: SIGTERM, then SIGKILL after 20 s. Only for PIDs this script started.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 400); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# CPU time (user + system, all threads, not children) of process PID so far, in clock ticks.
# The command name in /proc/PID/stat is in parentheses and may hold spaces: fields are counted
# after it (utime and stime are fields 14 and 15 of the whole line).
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
CLK_TCK=$(getconf CLK_TCK)
# cpu_us_per LABEL PID TICKS_BEFORE COUNT: µs of PID's CPU per request since TICKS_BEFORE.
cpu_us_per() {
    local now
    now=$(cpu_ticks "$2")
    awk -v d=$((now - $3)) -v n="$4" -v hz="$CLK_TCK" 'BEGIN{printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0)}'
}

# h2load_run LABEL ARGS...: runs h2load, prints one JSON line with the 2xx rate. Successful
# responses only count: a server answering errors fast must not look fast.
# With CPU_PID=pid (the server) the line also gives the server's CPU µs per 2xx response over
# the measured interval (H2LOAD_CPU_US): the CPU clock is read once h2load's warm-up
# (WARM_S seconds) is over and again when it ends, and h2load counts requests after the
# warm-up only. CPU per request does not depend on what else runs on the box, unlike a rate.
# The rate divides by h2load's "finished in", which includes the warm-up, as it always did
# (both servers alike); measured_per_s is over the measured interval alone.
h2load_run() {
    local label=$1
    shift
    local out=$WORK/h2load-$label.out before="" pid
    timeout 300 h2load "$@" >"$out" 2>&1 &
    pid=$!
    if [ -n "${CPU_PID:-}" ]; then
        [ "${WARM_S:-0}" -gt 0 ] && sleep "$WARM_S"
        before=$(cpu_ticks "$CPU_PID")
    fi
    if ! wait "$pid"; then cat "$out" >&2; return 1; fi
    local secs ok total
    secs=$(awk '/^finished in/ {v=$3; sub(/,$/, "", v);
        if (v ~ /ms$/) {sub(/ms$/, "", v); v /= 1000}
        else if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000000}
        else sub(/s$/, "", v); print v}' "$out")
    ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$out")
    total=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' "$out")
    local rate measured cpu=""
    rate=$(awk -v a="$ok" -v b="$secs" 'BEGIN{printf "%.1f", (b > 0 ? a / b : 0)}')
    measured=$(awk -v a="$ok" -v b="$secs" -v w="${WARM_S:-0}" \
        'BEGIN{printf "%.1f", (b - w > 0 ? a / (b - w) : 0)}')
    H2LOAD_CPU_US=""
    if [ -n "$before" ]; then
        H2LOAD_CPU_US=$(cpu_us_per "$label" "$CPU_PID" "$before" "$ok")
        cpu=",\"cpu_us_per_req\":$H2LOAD_CPU_US"
    fi
    printf '{"bench":"h2load","label":"%s","requests":%s,"ok_2xx":%s,"seconds":%.3f,"ok_per_s":%.0f,"measured_per_s":%.0f%s}\n' \
        "$label" "$total" "$ok" "$secs" "$rate" "$measured" "$cpu"
    H2LOAD_RATE=$rate
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", (b > 0 ? a / b : 0)}'; }
