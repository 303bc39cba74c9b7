#!/usr/bin/env bash
# bench/slurm.sh [N] [K] - N short tasks (`true`, default 10,000) through the Slurm cluster
# that answers here, at most K at once (default 8), two ways:
#   multirun --commands FILE --backend slurm -gpu false --array-limit K (arrays, bundles under
#   MaxArraySize, the wrapper's records, per-task logs, summary); and
#   a hand-written `sbatch --wait --array=0-(E-1)%K` whose elements run the same lines in
#   the same bundles with a plain shell loop (no records, no logs, no summary).
# Needs a cluster (sudo scripts/slurm-cluster.sh up; bring it up without
# MULTIRUN_SLURM_MAX_ARRAY_SIZE for Slurm's default 1001). MULTIRUN_BIN: the folder of the
# multirun to measure (default .build/release, built if missing; .build/debug works too).
# Prints one line per way; nothing is asserted. Not in CI (minutes of cluster time).
set -euo pipefail
N=${1:-10000}
K=${2:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$ROOT" && realpath -m "${MULTIRUN_BIN:-.build/release}")
[[ -x $BIN/multirun ]] || swift build -c release --package-path "$ROOT" >/dev/null
timeout 5 scontrol ping >/dev/null || { echo "no Slurm controller answers (scontrol ping); sudo scripts/slurm-cluster.sh up" >&2; exit 1; }
MAX=$(timeout 10 scontrol show config | awk '$1 == "MaxArraySize" {print $3}')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
for ((i = 0; i < N; i++)); do echo true; done >jobs.txt

seconds() { # run a command, print its wall time in seconds
    local t0=$EPOCHREALTIME
    "$@" >/dev/null
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

t=$(seconds env MULTIRUN_SLURM_POLL=1 "$BIN/multirun" --commands jobs.txt --backend slurm -gpu false --array-limit "$K" -check false)
ok=$(python3 -c 'import json, glob; s = json.load(open(glob.glob("results/runs/*/summary.json")[0])); print(s["counts"]["succeeded"])')
echo "multirun --backend slurm: $N tasks, %$K, MaxArraySize $MAX: ${t} s ($ok succeeded)"

B=$(((N + MAX - 1) / MAX))
E=$(((N + B - 1) / B))
cat >bundle.sh <<'SH'
#!/bin/sh
# element i runs lines i*B+1 .. (i+1)*B of jobs.txt
first=$((SLURM_ARRAY_TASK_ID * B + 1))
sed -n "${first},$((first + B - 1))p" jobs.txt | while read -r line; do sh -c "$line"; done
SH
t=$(seconds env B="$B" sbatch --wait --parsable -o /dev/null --array="0-$((E - 1))%$K" bundle.sh)
echo "hand-written sbatch --array: $N tasks in $E elements of $B, %$K: ${t} s"
