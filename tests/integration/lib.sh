# Shared by the shell integration tests (sourced, not run).

# Waits (10 s at most) for FILE to be non-empty while process PID lives. Polling the file is
# the only event a shell has here (no inotifywait in the image); pushsvc --ready-file and
# pushctl --subscription-out write by rename, so a non-empty file is complete.
wait_for_file() {
    local i
    for i in $(seq 100); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    [ -s "$1" ]
}

# Starts BIN_DIR/pushsvc on WORK/pushsvc.toml (log in WORK/pushsvc.log) and waits for its ready
# file; sets pushsvc_pid and clear (the cleartext listener's host:port). Returns 1 when it never
# became ready. The caller records pushsvc_pid for its cleanup.
start_pushsvc() {
    local bin=$1 work=$2
    "$bin/pushsvc" --config "$work/pushsvc.toml" --ready-file "$work/ready.json" \
        >"$work/pushsvc.log" 2>&1 &
    pushsvc_pid=$!
    wait_for_file "$work/ready.json" "$pushsvc_pid" || return 1
    clear=$(sed -E 's/.*"cleartext":"([^"]+)".*/\1/' "$work/ready.json")
}
