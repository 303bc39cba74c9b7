#!/usr/bin/env bash
# bench/queue.sh [N] - the queue's costs at scale, on this machine:
#   submit 10,000 tasks into a queue that already holds N (default 100,000);
#   status (text and --json) on that queue;
#   wakeups of a scheduler whose slots all run long tasks (context switches in 3 s).
# Builds multirun in release mode and works in a temporary folder. Prints one line per
# measurement; nothing is asserted (speed belongs here, not in the tests).
set -euo pipefail
N=${1:-100000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
swift build -c release --package-path "$ROOT" >/dev/null
M=$ROOT/.build/release/multirun
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

seconds() { # run a command, print its wall time in seconds
    local t0=$EPOCHREALTIME
    "$@" >/dev/null
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

seq 1 "$N" | sed 's/^/true # /' >base.txt
seq $((N + 1)) $((N + 10000)) | sed 's/^/true # /' >more.txt
echo "queue of $N: first submit $(seconds "$M" submit --commands base.txt) s"
echo "submit 10000 into $N: $(seconds "$M" submit --commands more.txt) s"
echo "status on $((N + 10000)): $(seconds "$M" status) s"
echo "status --json on $((N + 10000)): $(seconds "$M" status --json) s"

mkdir idle && cd idle
printf 'sleep 6\nsleep 6\n' >long.txt
"$M" submit --commands long.txt >/dev/null
"$M" daemon -gpu false -d 2 --exit-when-idle 2>/dev/null &
daemon=$!
until [ "$("$M" status --json | grep -o '"running":[0-9]*')" = '"running":2' ]; do sleep 0.1; done
sleep 0.5  # let the scheduler settle after starting the second task
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$daemon/status"; }
before=$(switches)
sleep 3
echo "idle scheduler, 2 slots busy: $(($(switches) - before)) context switches in 3 s"
wait "$daemon"
