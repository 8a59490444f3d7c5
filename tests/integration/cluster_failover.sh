#!/usr/bin/env bash
# tools/cluster.sh end to end: a loopback cluster (3 etcd, 3 PostgreSQL under Patroni with a
# synchronous standby, 2 pushsvc nodes). A subscription made on node 1 is pushed to on node 2
# (one database, one token key: any node decodes any endpoint) and drained from node 1's store;
# then the PostgreSQL leader is killed: pushes fail until Patroni promotes the synchronous
# standby (the seconds are printed), the message accepted before the kill is still there (a 201
# is not lost, R8030-5-c), a new leader is reported, the old one rejoins as a replica, and
# `down` leaves no process of the cluster behind.
# Usage: cluster_failover.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1; src=$2
export PUSHSVC_BIN=$bin/pushsvc
cluster=$src/tools/cluster.sh
work=$(mktemp -d)
chmod 755 "$work"  # Patroni and PostgreSQL run as the postgres user under it
dir=$work/cluster
cleanup() {
    "$cluster" down "$dir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    "$cluster" status "$dir" 2>&1 || true
    for f in "$work"/drain*; do echo "--- $f"; grep -E 'PUSH_PROMISE|:path|:status' "$f" 2>/dev/null | tail -n 20 || true; done
    for f in "$dir"/pg*/patroni.log "$dir"/node*/log; do echo "--- $f"; tail -n 15 "$f" 2>/dev/null || true; done
    exit 1
}
# A field of cluster.json: json_get 'python expression over c'.
json_get() { python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print($1)" "$dir/cluster.json"; }
pg_with_role() { json_get "[m['name'] for m in c['members'] if m.get('role') == '$1'][0]"; }

start=$(date +%s)
"$cluster" up "$dir" --nodes 2 || fail "up"
echo "up in $(( $(date +%s) - start )) s"
node1=$(json_get "[m['url'] for m in c['members'] if m['name'] == 'node1'][0]")
node2=$(json_get "[m['url'] for m in c['members'] if m['name'] == 'node2'][0]")
leader=$(pg_with_role leader)
pg_with_role sync_standby >/dev/null || fail "no synchronous standby in cluster.json"
# Every node runs in cluster mode: its internal listener is recorded and answers only signed
# requests (401 without a signature; integration_cluster_routing tests routing itself).
internal1=$(json_get "[m['cluster_url'] for m in c['members'] if m['name'] == 'node1'][0]")
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$internal1/_cluster/v1/notify" -d '{}')
[ "$code" = 401 ] || fail "node1's internal listener answered $code to an unsigned request"

# Subscribe on node 1, push on node 2.
curl -sS -D "$work/sub.h" -o /dev/null -X POST "$node1/subscribe"
grep -q '^HTTP/1.1 201' "$work/sub.h" || fail "subscribe on node 1 was not 201"
sub=$(grep -i '^location:' "$work/sub.h" | awk '{print $2}' | tr -d '\r')
push=$(grep -i 'rel="urn:ietf:params:push"' "$work/sub.h" | sed -E 's/.*<([^>]+)>.*/\1/')
push2=$node2${push#$node1}  # the same endpoint, asked of node 2
curl -sS -D "$work/m1.h" -o /dev/null -X POST -H 'TTL: 600' -H 'Topic: before' "$push2"
grep -q '^HTTP/1.1 201' "$work/m1.h" || fail "push on node 2 was not 201"
m1=$(grep -i '^location:' "$work/m1.h" | awk '{print $2}' | tr -d '\r')

# Node 1 drains it from the shared store (R8030-6-b).
timeout 10 nghttp -nv -H 'prefer: wait=0' "$sub" >"$work/drain1" 2>&1 || fail "drain on node 1"
grep -q ":path: ${m1#$node2}" "$work/drain1" || fail "node 1 does not see the message pushed on node 2"

# Kill the PostgreSQL leader; pushes on node 2 fail (503) until the standby is promoted.
"$cluster" kill "$dir" "$leader" || fail "kill $leader"
killed=$(date +%s.%N)
ok=""
for i in $(seq 120); do
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'TTL: 600' "$push2" || true)
    if [ "$code" = 201 ]; then ok=1; break; fi
    sleep 0.5
done
[ -n "$ok" ] || fail "no push succeeded within 120 tries after killing $leader"
echo "failover: pushes succeed again $(python3 -c "import time,sys; print('%.1f' % (time.time() - float(sys.argv[1])))" "$killed") s after SIGKILL of the leader $leader"

# Both messages are there: the one from before the kill survived the failover.
# A node's pooled connections to the killed server fail once each when next used (503 with
# Retry-After, as a client would retry), so drain until a 200: bounded.
for i in $(seq 20); do
    timeout 10 nghttp -nv -H 'prefer: wait=0' "$sub" >"$work/drain2" 2>&1 || fail "drain after failover"
    grep -q ':status: 200' "$work/drain2" && break
    sleep 0.5
done
echo "drain after failover: 200 on try $i"
grep -q ":path: ${m1#$node2}" "$work/drain2" || fail "the message accepted before the kill is lost"
promises=$(grep -c 'recv PUSH_PROMISE' "$work/drain2" || true)
[ "$promises" -ge 2 ] || fail "expected at least 2 messages after failover, saw $promises"

"$cluster" status "$dir" || fail "status"
new_leader=$(pg_with_role leader) || fail "no leader after failover"
[ "$new_leader" != "$leader" ] || fail "the killed member $leader is still reported as leader"

# The old leader comes back as a replica (pg_rewind / crash recovery, then streaming).
"$cluster" start "$dir" "$leader" || fail "start $leader"
for i in $(seq 60); do
    "$cluster" status "$dir" >/dev/null
    role=$(json_get "[m.get('role') for m in c['members'] if m['name'] == '$leader'][0]")
    case $role in replica|sync_standby) break ;; esac
    sleep 1
done
case $role in replica|sync_standby) ;; *) fail "$leader did not rejoin as a replica (role: $role)" ;; esac
echo "$leader rejoined as $role"

pids=$(json_get "' '.join(str(p) for m in c['members'] for p in (m['pid'], m.get('postgres_pid')) if p)")
"$cluster" down "$dir" || fail "down"
"$cluster" down "$dir" >/dev/null || fail "a second down failed"
for p in $pids; do [ -e "/proc/$p" ] && fail "process $p of the cluster still runs after down"; done
if pgrep -f -- "$dir/" >/dev/null; then fail "a process naming $dir still runs after down"; fi
echo "PASS: cluster up, cross-node push and drain, failover without loss, rejoin, down"
