#!/usr/bin/env bash
# Tests/tvb/setup.sh - a virtualenv with pinned TVB (tvb-library 2.10.0, tvb-data 3.0.0 and
# the exact versions of everything they pull in, Tests/tvb/requirements.txt) for
# Tests/tvb/compare.py and bench/tvb.sh. Not part of `swift test` or .ci/run: it needs
# PyPI and about 1.5 minutes (82 s here, ~700 MB on disk).
#   TVB_VENV   where the venv goes (default: .build/tvb-venv, git-ignored)
#   PYTHON     the interpreter to build it from (default: python3; needs >= 3.11 for these pins,
#              made with CPython 3.11.7)
# Idempotent: a venv already holding exactly these pins is left as it is.
# Prints the versions of Python, tvb-library, tvb-data, numpy, scipy and numba.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV="${TVB_VENV:-$ROOT/.build/tvb-venv}"
PYTHON="${PYTHON:-python3}"
REQ="$ROOT/Tests/tvb/requirements.txt"
start=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.multirun-pins"
if [ -f "$stamp" ] && cmp -s "$stamp" "$REQ" && "$VENV/bin/python" -c 'import tvb.simulator.simulator, tvb_data' 2>/dev/null; then
  echo "tvb venv already up to date: $VENV"
else
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$stamp"
  echo "installed in $(( $(date +%s) - start )) s: $VENV"
fi
"$VENV/bin/python" - <<'PY'
import importlib.metadata as m, sys
print("python " + sys.version.split()[0])
for p in ("tvb-library", "tvb-data", "numpy", "scipy", "numba"):
    print(p + " " + m.version(p))
PY
