#!/usr/bin/env bash
# Tests/tvb/run.sh [--runone PATH] [--quick] [compare.py options] - runone against TVB
# (Tests/tvb/compare.py) on tvb-data's 76-region connectome, in the pinned venv that
# Tests/tvb/setup.sh makes (on first use: PyPI, ~1.5 min). Not part of `swift test` or
# .ci/run. runone: --runone PATH, else .build/release/runone (built here when missing).
# Full run about 6 minutes on the shared 2-core machine (TVB's side is nearly all of it); --quick ~1.5 minutes.
# Exit status: 0 all targets met, 1 a target missed, 2 a setup problem.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV="${TVB_VENV:-$ROOT/.build/tvb-venv}"
TVB_VENV="$VENV" bash "$ROOT/Tests/tvb/setup.sh"
has_runone=0
for a in "$@"; do case "$a" in --runone|--runone=*) has_runone=1 ;; esac; done
if [ "$has_runone" = 0 ] && [ ! -x "$ROOT/.build/release/runone" ]; then
  swift build -c release --package-path "$ROOT" --product runone >/dev/null
fi
exec "$VENV/bin/python" "$ROOT/Tests/tvb/compare.py" "$@"
