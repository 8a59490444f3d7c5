#!/usr/bin/env bash
# A whole pushsvc cluster on loopback, for development and tests: 3 etcd members, 3 PostgreSQL
# 15 instances under Patroni (synchronous_mode + synchronous_mode_strict: one synchronous
# standby, so a 201 survives the loss of the primary) and N pushsvc nodes sharing the database
# and the endpoint token key, in cluster mode: each node has an internal listener
# (cluster.listen) and the shared cluster.secret, so a push on any node reaches a browser
# connected to any other (docs/cluster.md). Everything runs as ordinary processes on free
# 127.0.0.1 ports; no system service is used.
#
#   tools/cluster.sh up DIR [--nodes N] [--share-port K]
#                                         creates DIR, starts everything, waits until it is
#                                         ready, writes DIR/cluster.json; with --share-port,
#                                         every K nodes in turn share one public port
#                                         (server.reuse_port), as K processes of one machine
#   tools/cluster.sh status DIR           refreshes the roles in cluster.json, prints a table
#   tools/cluster.sh kill DIR NAME...     SIGKILL of members, all at once: nodeI (pushsvc),
#                                         pgI (its Patroni and PostgreSQL together), etcdI
#   tools/cluster.sh start DIR NAME       starts it again with the same ports and data
#   tools/cluster.sh down DIR             stops every process it recorded (safe to run twice;
#                                         also after an `up` that failed half way)
#
# The pushsvc binary is $PUSHSVC_BIN, else build/bin/pushsvc of this checkout.
#
# PostgreSQL refuses to run as root, so as root Patroni (and the postgres it starts) runs as
# the `postgres` user through runuser. runuser forks: every process writes its own pid ($$ of
# a shell that then execs it), and a recorded pid is only signalled while its command line
# still names this cluster's folder (a pid may be reused after a crash).
#
# Unquoted $(...) into arrays below split lists of pids, which is what is wanted.
# shellcheck disable=SC2207
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${PUSHSVC_PGBIN:-/usr/lib/postgresql/15/bin}
PUSHSVC_BIN=${PUSHSVC_BIN:-$root/build/bin/pushsvc}
SCOPE=pushsvc

usage() { sed -n '10,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "cluster: $*" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# --- state: DIR/state.env holds the ports and node count chosen by `up` -----------------------

load_state() {
    [ -f "$dir/state.env" ] || die "$dir is not a cluster folder (no state.env)"
    # shellcheck disable=SC1091
    source "$dir/state.env"
}

# Ports that were free a moment ago, all bound at once so none repeats.
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# The pid recorded in FILE if that process still runs with MARK in its command line.
live_pid() {
    local file=$1 mark=$2 pid
    [ -s "$file" ] || return 1
    pid=$(head -n1 "$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$mark" || return 1
    echo "$pid"
}

etcd_pid() { live_pid "$dir/etcd$1/pid" "$dir/etcd$1/data"; }
patroni_pid() { live_pid "$dir/pg$1/patroni.pid" "$dir/pg$1/patroni.yml"; }
postgres_pid() { live_pid "$dir/pg$1/data/postmaster.pid" "$dir/pg$1/data"; }
node_pid() { live_pid "$dir/node$1/pid" "$dir/node$1/pushsvc.toml"; }

# --- launching one member ---------------------------------------------------------------------

etcd_peers() {
    local i out=""
    for i in 1 2 3; do
        local v="ETCD_PEER_$i"
        out+="${out:+,}etcd$i=http://127.0.0.1:${!v}"
    done
    echo "$out"
}

launch_etcd() {
    local i=$1 c="ETCD_CLIENT_$1" p="ETCD_PEER_$1" d="$dir/etcd$1"
    etcd_pid "$i" >/dev/null && return 0
    mkdir -p "$d"
    # setsid: the member outlives this script and gets no signal meant for its caller's group.
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$d/pid" etcd --name "etcd$i" --data-dir "$d/data" \
        --listen-client-urls "http://127.0.0.1:${!c}" --advertise-client-urls "http://127.0.0.1:${!c}" \
        --listen-peer-urls "http://127.0.0.1:${!p}" --initial-advertise-peer-urls "http://127.0.0.1:${!p}" \
        --initial-cluster "$(etcd_peers)" --initial-cluster-state new --initial-cluster-token "$SCOPE" \
        --heartbeat-interval 100 --election-timeout 1000 \
        </dev/null >>"$d/log" 2>&1 &
}

write_patroni_config() {
    local i=$1 d="$dir/pg$1" r="PATRONI_REST_$1" p="PG_PORT_$1"
    cat >"$d/patroni.yml" <<YAML
scope: $SCOPE
name: pg$i
restapi:
  listen: 127.0.0.1:${!r}
  connect_address: 127.0.0.1:${!r}
etcd3:
  hosts: 127.0.0.1:$ETCD_CLIENT_1,127.0.0.1:$ETCD_CLIENT_2,127.0.0.1:$ETCD_CLIENT_3
bootstrap:
  dcs:
    # Shorter than Patroni's defaults (30/10/10): a failover takes ~15 s instead of ~27 s.
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    # A commit waits for one synchronous standby, and with strict mode a primary left alone
    # stops accepting writes rather than acknowledge one only it has.
    synchronous_mode: true
    synchronous_mode_strict: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_log_hints: "on"
        # Each pushsvc node opens store.postgres.pool_size (8) connections and more for its
        # sweeps: room for every node of the largest --nodes.
        max_connections: $((100 + 10 * NODES))
        # Every message is a row inserted and deleted: pushsvc's tables ask autovacuum to
        # come after a fixed number of dead rows (schema version 5), and this is how often it
        # looks (default 1 min, by when a busy queue table is mostly dead pages).
        autovacuum_naptime: 5s
        # WAL files are reused after a checkpoint rather than removed, up to this much: a
        # new one is written full of zeros and fsynced while every commit waits (100-500 ms
        # per 16 MB of WAL on this box, a stall every few seconds at 1,000 messages/s).
        min_wal_size: 1GB
  initdb:
    - encoding: UTF8
    - data-checksums
    - no-locale
postgresql:
  listen: 127.0.0.1:${!p}
  connect_address: 127.0.0.1:${!p}
  data_dir: $d/data
  bin_dir: $PGBIN
  pgpass: $d/pgpass
  # Loopback only, development: trust instead of passwords.
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: replicator
      password: replicator
  parameters:
    unix_socket_directories: $d
YAML
}

launch_pg() {
    local i=$1 d="$dir/pg$1"
    patroni_pid "$i" >/dev/null && return 0
    # A postmaster left without its Patroni (never after `kill`, which takes both): Patroni
    # adopts a running one, so leave it.
    as_pg setsid sh -c 'echo $$ >"$0"; exec "$@"' "$d/patroni.pid" patroni "$d/patroni.yml" \
        </dev/null >>"$d/patroni.log" 2>&1 &
}

write_node_config() {
    local i=$1 d="$dir/node$1" port="NODE_PORT_$1" cport="CLUSTER_PORT_$1"
    cat >"$d/pushsvc.toml" <<TOML
[server]
listen = "127.0.0.1:${!port}"
reuse_port = $([ "${SHARE:-1}" -gt 1 ] && echo true || echo false)
[push]
token_keys = ["$TOKEN_KEY"]
[store]
path = "$d/data"
backend = "postgres"
[store.postgres]
dsn = "$DSN"
[cluster]
listen = "127.0.0.1:${!cport}"
advertise = "http://127.0.0.1:${!cport}"
node_id = "node$i"
secret = "$CLUSTER_SECRET"
TOML
    chmod 600 "$d/pushsvc.toml"  # it holds the cluster secret
}

launch_node() {
    local i=$1 d="$dir/node$1"
    node_pid "$i" >/dev/null && return 0
    rm -f "$d/ready.json"
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$d/pid" "$PUSHSVC_BIN" --config "$d/pushsvc.toml" \
        --ready-file "$d/ready.json" </dev/null >>"$d/log" 2>&1 &
}

# --- waiting ----------------------------------------------------------------------------------

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.25 s, for SECONDS of wall time
# (each check may itself take a while on a loaded machine).
wait_until() {
    local secs=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + secs))
    while [ $SECONDS -lt $deadline ]; do
        "$@" && return 0
        sleep 0.25
    done
    "$@" && return 0
    die "$what not ready after ${secs} s (logs under $dir)"
}

etcd_healthy() {
    curl -sf --max-time 1 "http://127.0.0.1:$(eval echo "\$ETCD_CLIENT_$1")/health" | grep -q '"health":"true"'
}
database_on() {
    local p="PG_PORT_$1"
    "$PGBIN/psql" -q -h 127.0.0.1 -p "${!p}" -U postgres -d pushsvc -tAc 'SELECT 1' >/dev/null 2>&1
}
all_etcd_healthy() { local i; for i in 1 2 3; do etcd_healthy "$i" || return 1; done; }

# Patroni's view of the cluster (GET /cluster) from the first member that answers.
patroni_cluster() {
    local i r
    for i in 1 2 3; do
        r="PATRONI_REST_$i"
        curl -sf --max-time 1 "http://127.0.0.1:${!r}/cluster" && return 0
    done
    return 1
}

# A running leader and a running synchronous standby.
leader_and_sync() {
    patroni_cluster 2>/dev/null | python3 -c '
import json, sys
try:
    m = json.load(sys.stdin).get("members", [])
except ValueError:  # no member answers yet
    sys.exit(1)
ok = lambda role: any(x.get("role") == role and x.get("state") in ("running", "streaming") for x in m)
sys.exit(0 if ok("leader") and ok("sync_standby") else 1)'
}

# Member pgI runs and Patroni reports it in ROLE (leader, sync_standby, replica, or "any").
member_in_role() {
    patroni_cluster 2>/dev/null | python3 -c '
import json, sys
name, role = sys.argv[1], sys.argv[2]
try:
    m = [x for x in json.load(sys.stdin).get("members", []) if x.get("name") == name]
except ValueError:
    sys.exit(1)
sys.exit(0 if m and m[0].get("state") in ("running", "streaming")
         and (role == "any" or m[0].get("role") == role) else 1)' "pg$1" "$2"
}

node_ready() { [ -s "$dir/node$1/ready.json" ]; }

# --- cluster.json -----------------------------------------------------------------------------

write_json() {
    local i cl
    cl=$(patroni_cluster 2>/dev/null || echo '{}')
    {
        for i in 1 2 3; do
            echo "etcd etcd$i $(etcd_pid "$i" || echo 0) $(eval echo "\$ETCD_CLIENT_$i \$ETCD_PEER_$i")"
        done
        for i in 1 2 3; do
            echo "postgres pg$i $(patroni_pid "$i" || echo 0) $(eval echo "\$PG_PORT_$i \$PATRONI_REST_$i") $(postgres_pid "$i" || echo 0)"
        done
        for i in $(seq "$NODES"); do
            echo "pushsvc node$i $(node_pid "$i" || echo 0) $(eval echo "\$NODE_PORT_$i \$CLUSTER_PORT_$i")"
        done
    } | python3 -c '
import json, sys
cluster = json.loads(sys.argv[1])
roles = {m.get("name"): m for m in cluster.get("members", [])}
out = {"dir": sys.argv[2], "scope": sys.argv[3], "dsn": sys.argv[4], "token_keys": [sys.argv[5]],
       "cluster_secret": sys.argv[6], "members": []}
for line in sys.stdin:
    f = line.split()
    kind, name, pid = f[0], f[1], int(f[2])
    e = {"name": name, "kind": kind, "pid": pid or None, "running": pid != 0}
    if kind == "etcd":
        e.update(client_port=int(f[3]), peer_port=int(f[4]))
    elif kind == "postgres":
        m = roles.get(name, {})
        # pid: Patroni; postgres_pid: the postmaster it runs.
        e.update(port=int(f[3]), patroni_port=int(f[4]), postgres_pid=int(f[5]) or None,
                 role=m.get("role") if pid else None, state=m.get("state") if pid else None,
                 lag=m.get("lag"))
    else:
        # cluster_port: the internal listener (cluster.listen); node_id: its cluster.node_id.
        e.update(port=int(f[3]), url="http://127.0.0.1:%s" % f[3], cluster_port=int(f[4]),
                 cluster_url="http://127.0.0.1:%s" % f[4], node_id=name)
    out["members"].append(e)
json.dump(out, open(sys.argv[2] + "/cluster.json.tmp", "w"), indent=2)
' "$cl" "$dir" "$SCOPE" "$DSN" "$TOKEN_KEY" "$CLUSTER_SECRET"
    chmod 600 "$dir/cluster.json.tmp"  # the token key and the cluster secret are in it
    mv "$dir/cluster.json.tmp" "$dir/cluster.json"
}

print_table() {
    python3 - "$dir/cluster.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print("%-7s %-9s %-8s %-7s %-13s %s" % ("NAME", "KIND", "PID", "PORT", "ROLE", "STATE"))
for m in c["members"]:
    role = m.get("role") or ("-" if m["kind"] == "postgres" else "")
    state = "running" if m["running"] else "stopped"
    if m["kind"] == "postgres" and m.get("state"):
        state = m["state"]
    print("%-7s %-9s %-8s %-7s %-13s %s" % (m["name"], m["kind"], m["pid"] or "-",
          m.get("port") or m.get("client_port"), role, state))
PY
}

# --- stopping ---------------------------------------------------------------------------------

# Sends SIG to each pid and waits (SECS at most) until all are gone; SIGKILL to the rest.
stop_pids() {
    local sig=$1 secs=$2 pid i left
    shift 2
    [ $# -gt 0 ] || return 0
    kill "-$sig" "$@" 2>/dev/null || true
    for i in $(seq $((secs * 10))); do
        left=0
        for pid in "$@"; do [ -e "/proc/$pid" ] && left=1; done
        [ $left = 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null || true
}

# The postmaster and its children (backends, walsender, checkpointer...).
postgres_tree() {
    local pm
    pm=$(postgres_pid "$1") || return 0
    echo "$pm"
    ps -o pid= --ppid "$pm" 2>/dev/null || true
}

# kill_members NAME...: one SIGKILL for all of them at once (a machine's processes die
# together), then waits (bounded) until they are gone.
kill_members() {
    local name i pids=() found
    for name in "$@"; do
        i=${name//[!0-9]/}
        case $name in
        etcd[123]) found=($(etcd_pid "$i" || true)) ;;
        pg[123]) found=($(patroni_pid "$i" || true) $(postgres_tree "$i")) ;;
        node*) [ -n "$i" ] && [ "$i" -ge 1 ] && [ "$i" -le "$NODES" ] || die "no member $name"
               found=($(node_pid "$i" || true)) ;;
        *) die "no member $name" ;;
        esac
        [ ${#found[@]} -gt 0 ] || echo "cluster: $name is not running"
        pids+=("${found[@]}")
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -KILL "${pids[@]}" 2>/dev/null || true
    local left pid _
    for _ in $(seq 50); do
        left=0; for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && left=1; done
        [ $left = 0 ] && break
        sleep 0.1
    done
    echo "cluster: killed $* (${pids[*]})"
}

start_member() {
    local name=$1 i
    i=${name//[!0-9]/}
    case $name in
    etcd[123]) launch_etcd "$i"; wait_until 20 "$name" etcd_healthy "$i" ;;
    pg[123]) launch_pg "$i"; wait_until 60 "$name" member_in_role "$i" any ;;
    node*) [ -n "$i" ] && [ "$i" -ge 1 ] && [ "$i" -le "$NODES" ] || die "no member $name"
           launch_node "$i"; wait_until 30 "$name" node_ready "$i" ;;
    *) die "no member $name" ;;
    esac
    echo "cluster: started $name"
}

down() {
    local i pids=()
    # pushsvc first (SIGTERM: it finishes in-flight requests), then Patroni (SIGTERM: it stops
    # its PostgreSQL itself), then etcd, which Patroni needs until it is done.
    for i in $(seq "$NODES"); do pids+=($(node_pid "$i" || true)); done
    stop_pids TERM 10 "${pids[@]}"
    pids=()
    for i in 1 2 3; do pids+=($(patroni_pid "$i" || true)); done
    stop_pids TERM 30 "${pids[@]}"
    pids=()
    for i in 1 2 3; do pids+=($(postgres_tree "$i")); done  # left by a killed Patroni
    stop_pids QUIT 10 "${pids[@]}"
    pids=()
    for i in 1 2 3; do pids+=($(etcd_pid "$i" || true)); done
    stop_pids TERM 10 "${pids[@]}"
    write_json
    echo "cluster: down"
}

# --- up ---------------------------------------------------------------------------------------

up() {
    local nodes=$1 share=$2 i ports
    [ -x "$PUSHSVC_BIN" ] || die "no pushsvc binary at $PUSHSVC_BIN (set PUSHSVC_BIN)"
    for b in etcd patroni curl python3; do command -v $b >/dev/null || die "$b not installed (tools/install-deps.sh)"; done
    [ -x "$PGBIN/postgres" ] || die "no PostgreSQL 15 in $PGBIN (tools/install-deps.sh)"
    [ ! -e "$dir/state.env" ] || die "$dir already holds a cluster (down it and remove the folder first)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # The postgres user must reach its folders under DIR.
    chmod 755 "$dir"
    as_pg test -x "$dir" || die "the postgres user cannot reach $dir: make its parent folders searchable (chmod o+x)"

    read -r -a ports <<<"$(free_ports $((12 + 2 * nodes)))"
    {
        echo "NODES=$nodes"
        echo "SHARE=$share"
        for i in 1 2 3; do
            echo "ETCD_CLIENT_$i=${ports[i - 1]}"
            echo "ETCD_PEER_$i=${ports[i + 2]}"
            echo "PATRONI_REST_$i=${ports[i + 5]}"
            echo "PG_PORT_$i=${ports[i + 8]}"
        done
        for i in $(seq "$nodes"); do
            echo "NODE_PORT_$i=${ports[(i - 1) / share * share + 12]}"  # its group's first
            echo "CLUSTER_PORT_$i=${ports[i + 11 + nodes]}"  # the internal listener
        done
        # The same endpoint token key on every node: any node decodes any endpoint.
        echo "TOKEN_KEY=$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=')"
        # The same cluster.secret on every node: they sign their notifications with it.
        echo "CLUSTER_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
        echo "DSN='host=127.0.0.1,127.0.0.1,127.0.0.1 port=${ports[9]},${ports[10]},${ports[11]} dbname=pushsvc user=postgres target_session_attrs=read-write'"
    } >"$dir/state.env"
    chmod 600 "$dir/state.env"  # as cluster.json: secrets for the owner only
    load_state

    for i in 1 2 3; do launch_etcd "$i"; done
    wait_until 30 "etcd" all_etcd_healthy

    for i in 1 2 3; do
        mkdir -p "$dir/pg$i"
        write_patroni_config "$i"
        [ "$(id -u)" = 0 ] && chown -R postgres: "$dir/pg$i"
        launch_pg "$i"
    done
    wait_until 90 "Patroni leader and synchronous standby" leader_and_sync
    local leader
    leader=$(patroni_cluster | python3 -c '
import json, sys
print([m["port"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"][0])')
    "$PGBIN/psql" -q -h 127.0.0.1 -p "$leader" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'pushsvc'" | grep -q 1 ||
        "$PGBIN/psql" -q -h 127.0.0.1 -p "$leader" -U postgres -d postgres -c 'CREATE DATABASE pushsvc'
    # Every member running and serving the new database before any node starts: libpq tries
    # the next host of a multi-host DSN when one refuses the connection, but not when one
    # answers "database does not exist" (a standby that has not replayed the CREATE yet).
    for i in 1 2 3; do
        wait_until 60 "pg$i" member_in_role "$i" any
        wait_until 30 "database pushsvc on pg$i" database_on "$i"
    done

    for i in $(seq "$nodes"); do
        mkdir -p "$dir/node$i"
        write_node_config "$i"
        launch_node "$i"
    done
    for i in $(seq "$nodes"); do wait_until 30 "node$i" node_ready "$i"; done
    write_json
    print_table
}

# --- main -------------------------------------------------------------------------------------

[ $# -ge 2 ] || usage
cmd=$1; dir=$2; shift 2
case $cmd in
up)
    nodes=3
    share=1
    while [ $# -gt 0 ]; do
        case $1 in
        --nodes) nodes=${2:?--nodes N}; shift 2 ;;
        --share-port) share=${2:?--share-port K}; shift 2 ;;
        *) usage ;;
        esac
    done
    [[ $nodes =~ ^[0-9]+$ ]] && [ "$nodes" -ge 1 ] && [ "$nodes" -le 50 ] || die "--nodes: 1..50"
    [[ $share =~ ^[0-9]+$ ]] && [ "$share" -ge 1 ] && [ $((nodes % share)) = 0 ] ||
        die "--share-port: a divisor of --nodes"
    up "$nodes" "$share"
    ;;
status) dir=$(cd "$dir" && pwd); load_state; write_json; print_table ;;
kill) [ $# -ge 1 ] || usage; dir=$(cd "$dir" && pwd); load_state; kill_members "$@"; write_json ;;
start) [ $# = 1 ] || usage; dir=$(cd "$dir" && pwd); load_state; start_member "$1"; write_json ;;
down)
    [ -d "$dir" ] || { echo "cluster: $dir does not exist"; exit 0; }
    dir=$(cd "$dir" && pwd); load_state; down
    ;;
*) usage ;;
esac
