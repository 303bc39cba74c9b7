#!/usr/bin/env bash
# bench/scale.sh [N] - costs at scale, on this machine:
#   selecting N config files (default 100,000) by regex (the whole plan: walk, match,
#   read, parse and hash each config, check its resume marker);
#   planning min(N, 10,000) runone configs with full validation (the default runner);
#   submit 10,000 tasks into a queue that already holds N; status (text and --json) on it:
#   with no scheduler running (submits carry the status snapshot forward; a `status` that
#   finds it stale folds the journal and keeps the result) and while a scheduler runs (it
#   keeps the snapshot current);
#   the scheduler's memory (RSS) with N tasks queued;
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

mkdir -p select/configs
(cd select/configs && for ((d = 0; d < N / 1000; d++)); do
    mkdir "e$d"
    for ((i = 0; i < 1000; i++)); do echo "n: $i" >"e$d/t-$i.yaml"; done
done)
# -check true with no terminal stops right after the plan is made: that is what is timed.
t0=$EPOCHREALTIME
(cd select && "$M" -c 't-1' -gpu false --runner /bin/true </dev/null >/dev/null 2>&1 || true)
echo "select by regex among $N configs (plan only): $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }') s"
rm -rf select

# Planning with full validation: runone-style configs (command, params, description), the
# default runner, so each is parsed and checked against runone's schema before anything starts.
P=$((N < 10000 ? N : 10000))
mkdir -p plan/configs
(cd plan/configs && for ((d = 0; d < (P + 999) / 1000; d++)); do
    mkdir "p$d"
    for ((i = 0; i < 1000 && d * 1000 + i < P; i++)); do
        printf '# sweep point %d\ndescription: "lr sweep, point %d"\ncommand: [python3, train.py, --lr, "{lr}", --seed, "{seed}", --out, "{output}"]\nparams:\n  lr: 0.%04d\n  seed: %d\n  batch_size: 64\n  optimizer: adam\n  dropout: 0.1\n' \
            "$i" "$i" "$i" "$i" >"p$d/p-$i.yaml"
    done
done)
t0=$EPOCHREALTIME
(cd plan && "$M" -c 'p-' -gpu false </dev/null >/dev/null 2>&1 || true)
echo "plan $P configs with full validation (parse, runone's schema, identity, markers): $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }') s"
rm -rf plan

seq 1 "$N" | sed 's/^/true # /' >base.txt
seq $((N + 1)) $((N + 10000)) | sed 's/^/true # /' >more.txt
echo "queue of $N: first submit $(seconds "$M" submit --commands base.txt) s"
echo "submit 10000 into $N: $(seconds "$M" submit --commands more.txt) s"
echo "status on $((N + 10000)), no scheduler, first call: $(seconds "$M" status) s"
echo "status on $((N + 10000)), no scheduler, next call: $(seconds "$M" status) s"
echo "status --json on $((N + 10000)): $(seconds "$M" status --json) s"
# RSS of a scheduler holding the whole queue (one slot, busy with a long task).
printf 'sleep 30\n' >first.txt
rm -rf .multirun && "$M" submit --commands first.txt >/dev/null && "$M" submit --commands base.txt >/dev/null
"$M" daemon -gpu false -d 1 2>/dev/null &
daemon=$!
until "$M" status --json | grep -q '"running":1'; do sleep 0.2; done
echo "scheduler RSS with $N queued: $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$daemon/status")"
sleep 0.3 # the scheduler writes its status snapshot at most 100 ms after a change
echo "status on $N while the scheduler runs: $(seconds "$M" status) s"
kill -TERM "$daemon"; wait "$daemon" || true

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
