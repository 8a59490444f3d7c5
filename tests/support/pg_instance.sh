#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests, run as an ordinary process (no system service):
# initdb into a fresh folder, postgres on 127.0.0.1 and a free port, trust authentication for
# the superuser `postgres`. Reused by every test that needs a real PostgreSQL.
#
#   pg_instance.sh start        creates the folder, starts the server, waits until it accepts
#                               connections; prints "DIR PORT" (DIR is the handle for the rest)
#   pg_instance.sh stop DIR     fast shutdown, waits until it is gone, keeps the folder
#   pg_instance.sh restart DIR  starts it again (same folder, same port)
#   pg_instance.sh kill DIR     SIGKILL of the postmaster (a crash; `restart` recovers it)
#   pg_instance.sh destroy DIR  stop (if running), then remove the folder
#
# initdb skips its fsyncs (a test folder need not survive a power cut); the server itself runs
# with PostgreSQL's defaults (fsync, synchronous_commit), as in production.
#
# initdb and postgres refuse to run as root: as root, both run as the `postgres` user (created
# by Debian's postgresql-common package) through runuser, and the folder is given to it.
set -euo pipefail

PGBIN=${PUSHSVC_PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg_instance.sh start|stop|restart|kill|destroy [DIR]}
dir=${2:-}

as_server_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The postmaster's pid, if one from this folder is running. After a SIGKILL the pid file stays
# behind, so the pid is only trusted while it names a live postgres process.
server_pid() {
    local pid
    [ -f "$dir/data/postmaster.pid" ] || return 1
    pid=$(head -n1 "$dir/data/postmaster.pid")
    [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$PGBIN/postgres" ] || return 1
    echo "$pid"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the server on $dir/port and waits (20 s at most) until it accepts connections.
launch() {
    local port i
    port=$(cat "$dir/port")
    : >"$dir/log"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/log"
    as_server_user "$PGBIN/postgres" -D "$dir/data" -k "$dir" -p "$port" \
        -c listen_addresses=127.0.0.1 -c max_connections=200 >>"$dir/log" 2>&1 &
    for i in $(seq 200); do
        if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres; then
            return 0
        fi
        # The server gave up (port taken, bad data folder): say why.
        if ! kill -0 $! 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "pg_instance: PostgreSQL did not start; its log:" >&2
    cat "$dir/log" >&2
    return 1
}

# SIGINT: fast shutdown (sessions end, a clean checkpoint); SIGQUIT: immediate (no checkpoint,
# for a folder about to be removed).
stop_server() {
    local pid i
    pid=$(server_pid) || return 0
    kill "-${1:-INT}" "$pid"
    for i in $(seq 200); do
        [ -e "/proc/$pid" ] || return 0
        sleep 0.1
    done
    echo "pg_instance: postmaster $pid still running after 20 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

case $cmd in
start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/pushsvc-pg-XXXXXX")
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_server_user "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --no-locale --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # A port taken between free_port and postgres binding it: try another.
    for attempt in 1 2 3; do
        free_port >"$dir/port"
        if launch; then
            echo "$dir $(cat "$dir/port")"
            exit 0
        fi
    done
    exit 1
    ;;
restart)
    server_pid >/dev/null && { echo "pg_instance: already running" >&2; exit 1; }
    launch
    ;;
stop) stop_server ;;
kill)
    if pid=$(server_pid); then kill -KILL "$pid"; fi
    ;;
destroy)
    stop_server QUIT
    case $dir in "${TMPDIR:-/tmp}"/pushsvc-pg-*) rm -rf "$dir" ;; esac
    ;;
*)
    echo "pg_instance: unknown command $cmd" >&2
    exit 2
    ;;
esac
