#!/usr/bin/env bash
# bench/yaml.sh [--quick] [--seed N] [--keep DIR] [--strict] - the config reader against
# PyYAML (pure, and its C loader when libyaml is there), side by side in one run (issue 15):
# a generated ~1.5 MB research config and 1,000 typical ~1 KB configs modelled on
# ../shared/yaml-corpus, each with and without the YAML features today's reader refuses
# (anchors and aliases, merge keys, block scalars), read in process (no process start) by
# `multirun-fuzz time-set` and by yaml.load with SafeLoader and CSafeLoader, passes
# interleaved. Prints one table and the verdict against issue 15's two targets:
#   median <= 0.2 ms per ~1 KB config; the 1.5 MB config no slower than PyYAML's C loader.
# About 1 minute (plus the build); --quick (a 30 KB config, 100 small ones) a few seconds.
# Nothing is asserted unless --strict (exit 3 when a target is missed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
python3 -c 'import yaml' 2>/dev/null || { echo "bench/yaml.sh: needs python3 with PyYAML (pip install pyyaml)" >&2; exit 2; }
swift build -c release --package-path "$ROOT" --product multirun-fuzz >/dev/null
exec python3 "$ROOT/bench/yaml_bench.py" --fuzz "$ROOT/.build/release/multirun-fuzz" \
    --corpus "$ROOT/../shared/yaml-corpus/files" "$@"
