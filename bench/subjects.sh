#!/usr/bin/env bash
# bench/subjects.sh [N] - a study of N subjects (default 10,000) through multirun, phase by
# phase, with the release build: wall time and peak RSS (/usr/bin/time -v) of
#   generate    multirun sweep BASE --subjects 0-(N-1) --out configs/subjects
#   regenerate  the same again (idempotent: nothing written)
#   plan        multirun -c subjects/ --dry-run, default runner (every config parsed and
#               checked against runone's schema, identity hashed, resume marker looked up)
#   run         multirun -c subjects/ -gpu false -d 2 -check false --runner true
#   resume      the same again: every config completed, so all N are skipped
# Targets (issue 17): generate <= 5 s; plan <= 1 s and <= 100 MB RSS.
# The base is a wong_wang config (model_params.subject is what --subjects sets); plan checks
# every config against runone's schema, memory estimate included. The run phase uses
# --runner true: it times the scheduling of 10,000 tasks, not the simulations.
# Works in a temporary folder (TMPDIR=/dev/shm bench/subjects.sh: on tmpfs); prints one line
# per phase. Nothing is asserted.
set -euo pipefail
N=${1:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
swift build -c release --package-path "$ROOT" >/dev/null
M=$ROOT/.build/release/multirun
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir configs
cat >configs/study-base.yaml <<'EOF'
# one subject of a whole-brain study: runone's wong_wang on a synthetic 68-region network
model_params:
  name: wong_wang
  nodes: 68
  G: 0.5
  noise: 1.0e-03
  integrator: heun
  dt: 0.1
  TR: 0.8
  timepoints: 375
  bold: true
  seed: 1
  subject: 0
EOF

# phase NAME CMD...: runs CMD under /usr/bin/time -v, prints wall s, CPU s (user + system;
# of multirun and what it ran) and max RSS MB. On a shared machine the wall time follows
# the load average (printed before and after); the CPU time does not.
phase() {
    local name=$1
    shift
    /usr/bin/time -v -o time.txt "$@" </dev/null >out.txt 2>&1 || { cat out.txt; exit 1; }
    local wall cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.3f", s }' time.txt)
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.3f", s }' time.txt)
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' time.txt)
    printf '%-10s %8s s wall %8s s cpu %7s MB  %s\n' "$name" "$wall" "$cpu" "$rss" "$(tail -1 out.txt | cut -c1-100)"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# What creating a file costs here: generate creates N (a VM disk that has just deleted
# thousands of files can take hundreds of µs each in ext4's inode allocator).
mkdir probe
t0=$EPOCHREALTIME
for ((i = 0; i < 1000; i++)); do : >"probe/f$i"; done
echo "creating an empty file in $WORK ($(stat -f -c %T "$WORK")): $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }') µs each (1000 files)"
rm -rf probe
echo "N=$N subjects; multirun $("$M" --version | cut -d' ' -f2); $(nproc) cores; $(uname -sr)"
phase generate "$M" sweep configs/study-base.yaml --subjects "0-$((N - 1))" --out configs/subjects
phase regenerate "$M" sweep configs/study-base.yaml --subjects "0-$((N - 1))" --out configs/subjects
phase plan "$M" -c subjects/ -gpu false -d 2 --dry-run
phase run "$M" -c subjects/ -gpu false -d 2 -check false --runner true
phase resume "$M" -c subjects/ -gpu false -d 2 -check false --runner true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
