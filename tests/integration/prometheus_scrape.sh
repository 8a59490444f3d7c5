#!/usr/bin/env bash
# A real Prometheus (Debian package prometheus) scrapes a running pushsvc, and what it stored
# is read back through Prometheus' own HTTP API: the target is up with no scrape error, a
# push made between scrapes shows up in the stored counter, and every expression of the
# shipped Grafana dashboard (config/grafana/pushsvc-dashboard.json) evaluates without error
# and names only series that pushsvc exposes.
# Usage: prometheus_scrape.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- prometheus log"; tail -n 20 "$work/prometheus.log" || true
         echo "--- pushsvc log"; tail -n 20 "$work/pushsvc.log" || true; exit 1; }
source "$(dirname "$0")/lib.sh"  # start_pushsvc
command -v prometheus >/dev/null || fail "prometheus missing (Debian package prometheus, tools/install-deps.sh)"

printf '[server]\nlisten = "127.0.0.1:0"\n[store]\npath = "%s/data"\n' "$work" >"$work/pushsvc.toml"
start_pushsvc "$bin" "$work" || { pids+=("$pushsvc_pid"); fail "pushsvc not ready"; }
pids+=("$pushsvc_pid")

# Prometheus cannot bind port 0 and report it, so take a port the kernel just handed out.
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });')
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pushsvc
    static_configs:
      - targets: ["$clear"]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$port/api/v1"

# GET API PATH with curl's --data-urlencode pairs -> JSON on stdout.
get() { local path=$1; shift; curl -sS -G "$api/$path" "$@"; }
# A field of a JSON document on stdin, by a JavaScript expression over `j`.
json() { node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
    const j = JSON.parse(s); const v = eval(process.argv[1]); console.log(v === undefined ? "" : v); });' "$1"; }
# Polls (at most 30 s) until COMMAND prints WANT; Prometheus scrapes once a second.
await() {
    local what=$1 want=$2; shift 2
    local got=""
    for _ in $(seq 150); do
        got=$("$@" 2>/dev/null || true)
        [ "$got" = "$want" ] && return 0
        kill -0 "${pids[1]}" 2>/dev/null || fail "prometheus exited"
        sleep 0.2
    done
    fail "$what: got '$got', want '$want'"
}

target_health() { get targets | json 'j.data.activeTargets.map(t => t.health + ":" + t.lastError).join(",")'; }
await "pushsvc target scraped without error" "up:" target_health
query() { get query --data-urlencode "query=$1" | json "$2"; }
await "build info stored" 1 query 'count(pushsvc_build_info == 1)' 'j.data.result.length && j.data.result[0].value[1]'

# One push between scrapes: the stored counter follows.
sub=$(curl -sS -D - -o /dev/null -X POST "http://$clear/subscribe")
push=$(printf '%s' "$sub" | tr -d '\r' | sed -nE 's/^link: <([^>]+)>;.*urn:ietf:params:push".*/\1/p' | head -1)
[ -n "$push" ] || fail "no push link in: $sub"
push=$(printf '%s' "$push" | sed -E "s#^https?://[^/]+#http://$clear#")
[ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 60' "$push")" = 201 ] || fail "push"
await "pushed message counted in Prometheus" 1 query 'pushsvc_push_accepted_total' 'j.data.result.length && j.data.result[0].value[1]'
await "subscription counted in Prometheus" 1 query 'pushsvc_subscriptions_total' 'j.data.result.length && j.data.result[0].value[1]'

# Every dashboard expression: valid PromQL, and each metric it names is one pushsvc exposes.
dashboard="$src/config/grafana/pushsvc-dashboard.json"
exprs=$(json 'j.panels.flatMap(p => p.targets.map(t => t.expr)).join("\n")' <"$dashboard")
[ -n "$exprs" ] || fail "no expressions in $dashboard"
names=$(get label/__name__/values | json 'j.data.join("\n")')
count=0
while IFS= read -r expr; do
    status=$(query "$expr" 'j.status')
    [ "$status" = success ] || fail "dashboard expression failed in Prometheus: $expr"
    for m in $(printf '%s' "$expr" | grep -oE 'pushsvc_[a-z0-9_]+' | sort -u); do
        printf '%s\n' "$names" | grep -qx "$m" || fail "dashboard names $m, which pushsvc does not expose"
    done
    count=$((count + 1))
done <<<"$exprs"
echo "PASS: Prometheus scraped pushsvc; counters stored; $count dashboard expressions evaluate"
