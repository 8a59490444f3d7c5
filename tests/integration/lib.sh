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
