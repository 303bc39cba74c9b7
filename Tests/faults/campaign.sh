#!/usr/bin/env bash
# Fault campaign: kill -9 the daemon, task supervisors and one-shot runs while they run
# batches of tasks, then check, from the tasks' own append-only log, that no task was lost,
# none completed twice, none ever ran twice at once (each task holds an flock on a file of
# its own while it runs: a second copy that finds it held logs OVERLAP), and that no task
# process is left once everything has drained.
#
#   Tests/faults/campaign.sh [--daemon-kills N] [--supervisor-kills N] [--oneshot-kills N] [--tasks T]
#
# Defaults are the full campaign (200, 20, 20, batches of 50); CI runs a short one
# (20, 5, 5). MULTIRUN_BIN names the folder holding multirun and runone (default
# .build/release, built first). Prints one line per phase and exits 1 on any violation.
set -uo pipefail
DK=200 SK=20 OK=20 T=50
while [ $# -gt 0 ]; do
    case $1 in
    --daemon-kills) DK=$2; shift 2 ;;
    --supervisor-kills) SK=$2; shift 2 ;;
    --oneshot-kills) OK=$2; shift 2 ;;
    --tasks) T=$2; shift 2 ;;
    *) echo "campaign.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${MULTIRUN_BIN:-}" ] || swift build -c release --package-path "$ROOT" >/dev/null
# Absolute: each phase works in a folder of its own.
BIN=$(cd "${MULTIRUN_BIN:-$ROOT/.build/release}" && pwd) || exit 2
M=$BIN/multirun
[ -x "$M" ] || { echo "campaign.sh: no multirun in $BIN" >&2; exit 2; }
command -v flock >/dev/null || { echo "campaign.sh: needs flock(1) (util-linux)" >&2; exit 2; }
W=$(mktemp -d /tmp/multirun-campaign.XXXXXX)
cleanup() {
    pkill -KILL -f "$W/" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
failed=0

# A task: takes its id's lock (a second copy running at once logs OVERLAP), logs its
# start and end with its pid, and works 0.1 to 0.5 s in between.
cat >"$W/task.sh" <<'SH'
#!/bin/sh
id=$(basename "$1" .yaml)
exec 9>"$LOCKS/$id.lock"
flock -n 9 || echo "OVERLAP $id $$" >>"$LOG"
echo "start $id $$" >>"$LOG"
sleep "0.$(( $(printf '%s' "$id" | cksum | cut -d' ' -f1) % 5 + 1 ))"
echo "end $id $$" >>"$LOG"
SH
chmod +x "$W/task.sh"

# Checks a phase: every id of $2 ran to its end (the tasks' log $3), none ran twice at once
# (OVERLAP lines), none was recorded as succeeded twice by multirun ($4: one line per
# success, the id in it), and no task process is left. (A task killed between its last
# line and its exit did not finish as far as anyone can tell, so it runs again; that is
# not a completion twice.)
check() {
    local phase=$1 ids=$2 log=$3 successes=$4 problems=""
    local overlaps lost twice
    overlaps=$(grep -c '^OVERLAP' "$log")
    lost=$(for id in $ids; do grep -q "^end $id " "$log" || echo "$id"; done | wc -l)
    twice=$(echo "$successes" | grep -o '[bc][0-9-]*t*[0-9]*' | sort | uniq -d | wc -l)
    [ "$overlaps" = 0 ] || problems="$problems $overlaps ran twice at once;"
    [ "$lost" = 0 ] || problems="$problems $lost lost;"
    [ "$twice" = 0 ] || problems="$problems $twice completed twice;"
    if pgrep -f "$W/task.sh" >/dev/null; then problems="$problems task processes left: $(pgrep -f "$W/task.sh" | tr '\n' ' ');"; fi
    if [ -z "$problems" ]; then echo "PASS $phase"; else echo "FAIL $phase:$problems"; failed=1; fi
}

random_pause() { sleep "0.$(( RANDOM % 40 + 5 ))"; }

# 1. The daemon, killed -9 DK times during batches of T tasks; a new batch whenever one drains.
mkdir -p "$W/daemon/locks" && cd "$W/daemon" || exit 2
export LOG=$W/daemon/log LOCKS=$W/daemon/locks
: >"$LOG"
ids="" batch=0
submit_batch() {
    batch=$((batch + 1))
    for ((i = 1; i <= T; i++)); do echo "$W/task.sh b$batch-t$i"; ids="$ids b$batch-t$i"; done >"jobs-$batch.txt"
    "$M" submit --commands "jobs-$batch.txt" >/dev/null || { echo "FAIL daemon: submit failed"; failed=1; }
}
submit_batch
for ((k = 0; k < DK; k++)); do
    "$M" daemon -gpu false -d 4 --exit-when-idle >/dev/null 2>&1 &
    pid=$!
    random_pause
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    "$M" status --json | grep -q '"queued":0,' && submit_batch
done
"$M" daemon -gpu false -d 4 --exit-when-idle >/dev/null 2>&1
check "daemon: $DK kill -9s of the scheduler over $batch batches of $T" "$ids" "$LOG" \
    "$(grep -o 'The process finished: .*task.sh [^ ]*' .multirun/scheduler.log | awk '{print $NF}')"

# 2. Supervisors killed -9 SK times while the scheduler runs.
mkdir -p "$W/supervisor/locks" && cd "$W/supervisor" || exit 2
export LOG=$W/supervisor/log LOCKS=$W/supervisor/locks
: >"$LOG"
ids="" batch=0
submit_batch
"$M" daemon -gpu false -d 4 --exit-when-idle >/dev/null 2>&1 &
scheduler=$!
for ((k = 0; k < SK; k++)); do
    random_pause
    lock=$(ls .multirun/run/*.lock 2>/dev/null | head -1)
    [ -n "$lock" ] && kill -KILL "$(tr -dc '0-9' <"$lock")" 2>/dev/null
    "$M" status --json | grep -q '"queued":0,' && submit_batch
done
wait "$scheduler"
# A batch submitted after that scheduler found its queue empty and left is drained here.
"$M" daemon -gpu false -d 4 --exit-when-idle >/dev/null 2>&1
check "supervisor: $SK kill -9s of supervisors over $batch batches of $T" "$ids" "$LOG" \
    "$(grep -o 'The process finished: .*task.sh [^ ]*' .multirun/scheduler.log | awk '{print $NF}')"

# 3. One-shot runs of T configs killed -9 OK times; then one run to the end.
mkdir -p "$W/oneshot/locks" "$W/oneshot/configs/c" && cd "$W/oneshot" || exit 2
export LOG=$W/oneshot/log LOCKS=$W/oneshot/locks
: >"$LOG"
ids=""
for ((i = 1; i <= T; i++)); do printf 'n: %d\n' "$i" >"configs/c/c-$i.yaml"; ids="$ids c-$i"; done
for ((k = 0; k < OK; k++)); do
    "$M" -c c- -gpu false -d 4 -check false --runner "$W/task.sh {config}" >/dev/null 2>&1 &
    pid=$!
    random_pause
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
# Reapers end their tasks when multirun dies; give the last ones a moment to go.
for _ in $(seq 50); do pgrep -f "$W/task.sh" >/dev/null || break; sleep 0.1; done
"$M" -c c- -gpu false -d 4 -check false --runner "$W/task.sh {config}" >/dev/null 2>&1
check "one-shot: $OK kill -9s of runs of $T configs" "$ids" "$LOG" \
    "$(cat results/runs/*/tasks.jsonl 2>/dev/null | grep '"status":"succeeded"' | grep -o '"config":"[^"]*"' | grep -o 'c-[0-9]*')"

exit $failed
