#!/usr/bin/env bash
# Tests/fuzz/run.sh [SECONDS] [READER...] - fuzzes multirun's readers of outside input
# (docs/FUZZING.md): each reader SECONDS seconds (default 20), from the checked-in seed
# corpus Tests/fuzz/corpus/READER. Builds multirun-fuzz with libFuzzer
# (-sanitize=fuzzer) into .build/fuzz; where the toolchain has no libFuzzer, runs the
# plain build's seeded mutator instead. Exits non-zero on the first crash, timeout (an
# input read for over 10 s) or runaway memory (over 2 GiB), leaving the input in
# .build/fuzz/findings/. New corpus entries go to a scratch folder, never the checked-in one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${1:-20}
shift || true
READERS=("$@")
[ ${#READERS[@]} -gt 0 ] || READERS=(yaml json argv commands journal exit-record next-id npy)
cd "$ROOT"
FINDINGS=$ROOT/.build/fuzz/findings
mkdir -p "$FINDINGS"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if swift build --product multirun-fuzz --scratch-path .build/fuzz \
        -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING >"$WORK/build.log" 2>&1; then
    FUZZ=$ROOT/.build/fuzz/debug/multirun-fuzz
    for reader in "${READERS[@]}"; do
        cp -r "Tests/fuzz/corpus/$reader" "$WORK/$reader"
        # Swift's own crash reporter would take the signal first and libFuzzer would save nothing.
        if ! (cd "$FINDINGS" && SWIFT_BACKTRACE=enable=no MULTIRUN_FUZZ_READER=$reader "$FUZZ" -max_total_time="$SECONDS_EACH" -timeout=10 \
                -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 "$WORK/$reader" >"$WORK/$reader.log" 2>&1); then
            tail -40 "$WORK/$reader.log" >&2
            echo "fuzz: $reader: a crash, timeout or runaway memory; the input is in $FINDINGS" >&2
            exit 1
        fi
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$reader.log" | grep -o '[0-9]*$' || echo "?")
        speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$WORK/$reader.log" | grep -o '[0-9]*$' || echo "?")
        echo "fuzz $reader (libFuzzer): $runs inputs in ${SECONDS_EACH} s, $speed exec/s, 0 crashes, 0 timeouts"
    done
else
    echo "fuzz: this toolchain did not build the libFuzzer target (see below); using the seeded mutator" >&2
    tail -5 "$WORK/build.log" >&2
    swift build --product multirun-fuzz >/dev/null
    for reader in "${READERS[@]}"; do
        (cd "$FINDINGS" && "$ROOT/.build/debug/multirun-fuzz" "$reader" --seconds "$SECONDS_EACH" "$ROOT/Tests/fuzz/corpus/$reader")
    done
fi
