#!/usr/bin/env bash
# bench/tvb.sh [--quick] [--runone PATH] [--no-delays] [--lengths A,B,C] [--target S] - TVB's
# ReducedWongWang against runone's wong_wang at issue 17's speed settings, side by side in one
# run: 360 regions on one dense seeded synthetic connectome, stochastic Heun at dt 0.1 ms, BOLD
# and the neural average at TR 0.8 s, one core. TVB is timed at three short run lengths
# (default 0.8, 1.6, 3.2 s simulated; 0.8, 1.6, 2.4 s with delays: whole TRs, so TVB's BOLD
# convolution, done once per TR, is in the slope), each in a fresh process, fitted
# with CPU = a + b*seconds and extrapolated to 300 s; runone runs the full 300 s. Then the same
# with conduction delays (3 mm/ms). Peak RSS of every run. About 10 minutes (TVB ~4 of them);
# runone with delays runs 60 s (--runone-delay-seconds; its gather is slow). --quick: TVB at
# 0.1/0.2/0.4 s, runone at 30 s (8 s with delays), about 2 minutes.
# Needs the venv of Tests/tvb/setup.sh (made on first use: PyPI, ~1.5 min). runone: --runone
# PATH, else .build/release/runone (built here if missing and the sources have wong_wang).
# Writes the table to bench/RESULTS-tvb.md (appended) unless --no-results.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="${TVB_VENV:-$ROOT/.build/tvb-venv}"
TVB_VENV="$VENV" bash "$ROOT/Tests/tvb/setup.sh" >/dev/null
args=() results="$ROOT/bench/RESULTS-tvb.md" runone=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-results) results="" ;;
    --runone) runone="$2"; shift ;;
    --runone=*) runone="${1#--runone=}" ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ -z "$runone" ]; then
  runone="$ROOT/.build/release/runone"
  if [ ! -x "$runone" ] && grep -rqs wong_wang "$ROOT/Sources"; then
    swift build -c release --package-path "$ROOT" --product runone >/dev/null
  fi
fi
[ -n "$results" ] && args+=(--results "$results")
exec "$VENV/bin/python" "$ROOT/bench/tvb_bench.py" --runone "$runone" "${args[@]}"
