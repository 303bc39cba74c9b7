#!/usr/bin/env bash
# bench/run.sh - multirun against the spawn ceiling and its peers, side by side, in one
# interleaved run on this machine. Writes bench/RESULTS.md (or --out FILE).
#
#   bench/run.sh [--tasks T] [--slots S] [--reps R] [--latency-tasks L] [--quick] [--out FILE]
#                [--work DIR] [--baseline DIR]
#
# --baseline DIR: also run the multirun in DIR (a release build of an earlier commit, e.g.
# `git worktree add /tmp/old COMMIT && swift build -c release --package-path /tmp/old`, then
# --baseline /tmp/old/.build/release) as `baseline` and `baseline-configs`, interleaved with
# the others: what a change costs, measured side by side.
#
# --work DIR: where the scratch folder (and the disk-backed tools' per-task logs) go;
# default: $TMPDIR or /tmp. The results name the filesystem and what creating a file on
# it cost, measured before and after the runs.
#
# A full run (not --quick) also runs bench/scale.sh and adds its lines to the results.
#
# Every tool runs the same task, bench/src/stamp.c (a static C program that records its
# own start and end), so only the scheduling differs:
#   throughput   T tasks of "stamp - 0" and of "stamp - 0.01" with S slots; % of ceiling
#   latency      L tasks of "stamp LOG 0.005" with 1 slot: the gap between one task's end
#                and the next one's start, time to first task, exit after the last task
#   idle         context switches of the tool's own process while all S slots sleep 3 s
# Tools: ceiling (bench/src/ceiling.c: posix_spawn + waitpid, nothing else), xargs -P,
# GNU parallel (when installed), multirun --commands, and multirun in config mode with
# the stamp program as its runner. Tool order rotates every repetition.
set -euo pipefail

# Every run writes its results to a folder of its own, and nothing is deleted until the end:
# ext4 without a journal makes new files slow for minutes after mass deletions (it skips
# recently freed inodes), which would penalise exactly the tools that keep a log file per
# task. The file-creation probe below shows when that is happening.
rep=0
T=2000 S=4 R=3 L=200 OUT="" PARENT=${TMPDIR:-/tmp} BASE=""
while [[ $# -gt 0 ]]; do
    case $1 in
    --tasks) T=$2; shift 2 ;;
    --slots) S=$2; shift 2 ;;
    --reps) R=$2; shift 2 ;;
    --latency-tasks) L=$2; shift 2 ;;
    --quick) T=200 R=1 L=50; shift ;;
    --out) OUT=$2; shift 2 ;;
    --work) PARENT=$2; shift 2 ;;
    --baseline) BASE=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1'; see --help" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/RESULTS.md}
[[ -d $PARENT && -w $PARENT ]] || { echo "bench/run.sh: --work $PARENT is not a writable folder" >&2; exit 2; }
WORK=$(mktemp -d "$PARENT/multirun-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
B=$WORK/bin
mkdir -p "$B" "$WORK/raw"

echo "building (release) ..." >&2
swift build -c release --package-path "$ROOT" >/dev/null
MR=$ROOT/.build/release/multirun
CC=${CC:-cc}
$CC -O2 -o "$B/ceiling" "$ROOT/bench/src/ceiling.c"
$CC -O2 -static -o "$B/stamp" "$ROOT/bench/src/stamp.c" 2>/dev/null || $CC -O2 -o "$B/stamp" "$ROOT/bench/src/stamp.c"

TOOLS=(ceiling xargs multirun multirun-configs)
command -v parallel >/dev/null && TOOLS+=(parallel)
if [[ -n $BASE ]]; then
    [[ -x $BASE/multirun ]] || { echo "bench/run.sh: --baseline $BASE holds no multirun" >&2; exit 2; }
    TOOLS+=(baseline baseline-configs)
fi
# The same multirun with its per-task log files on tmpfs: what is left is the scheduler's
# own cost, without the filesystem's cost of creating a file per task.
SHM=""
if [[ -d /dev/shm && -w /dev/shm ]]; then
    SHM=$(mktemp -d /dev/shm/multirun-bench-XXXXXX)
    TOOLS+=(multirun-tmpfs)
fi
trap 'rm -rf "$WORK" ${SHM:+"$SHM"}' EXIT

# The command line for TOOL running N tasks of "stamp ARGS" with SLOTS slots.
command_for() {
    local tool=$1 slots=$2 n=$3 args=$4 tag=$5 f
    f=$WORK/raw/$tag.lines
    [[ -f $f ]] || yes "$B/stamp $args" | head -n "$n" >"$f"
    [[ -f $f.args ]] || yes -- "$args" | head -n "$n" >"$f.args"
    case $tool in
    ceiling) echo "exec $B/ceiling $slots $n $B/stamp $args" ;;
    xargs) echo "exec xargs -a $f.args -P $slots -L 1 $B/stamp" ;;
    parallel) echo "exec parallel --will-cite -j $slots < $f" ;;
    multirun) echo "exec $MR --commands $f -gpu false -d $slots -check false --results $WORK/results-$tag-$rep" ;;
    multirun-tmpfs) echo "exec $MR --commands $f -gpu false -d $slots -check false --results $SHM/results-$tag-$rep" ;;
    baseline) echo "exec $BASE/multirun --commands $f -gpu false -d $slots -check false --results $WORK/results-$tag-$rep-base" ;;
    multirun-configs | baseline-configs)
        local bin=$MR
        [[ $tool == baseline-configs ]] && bin=$BASE/multirun
        if [[ ! -d $WORK/configs-$n ]]; then
            mkdir -p "$WORK/configs-$n/c"
            for ((i = 1; i <= n; i++)); do echo "n: $i" >"$WORK/configs-$n/c/t-$i.yaml"; done
        fi
        echo "exec $bin -c . --configs $WORK/configs-$n -gpu false -d $slots -check false --results $WORK/results-$tag-$rep-$tool --runner '$B/stamp $args'"
        ;;
    esac
}

# Microseconds per file for creating 1000 empty files in a new folder under $1 (kernel cost
# of what every per-task log costs); they go with the scratch folder at the end.
probe_create() {
    python3 - "$1" <<'PY'
import os, sys, time
folder = sys.argv[1]
os.makedirs(folder)
start = time.perf_counter()
for i in range(1000):
    os.close(os.open(f"{folder}/f{i}", os.O_CREAT | os.O_WRONLY, 0o644))
print(f"{(time.perf_counter() - start) * 1000:.0f}")
PY
}
FS="$(df -PT "$WORK" | awk 'NR == 2 {print $2 " (" $1 ")"}')"
CREATE_BEFORE=$(probe_create "$WORK/probe-before")
CREATE_DURING=""
echo "creating a file under $WORK: $CREATE_BEFORE µs" >&2

rotate() { local n=${#TOOLS[@]} i; for ((i = 0; i < n; i++)); do echo "${TOOLS[$(((i + $1) % n))]}"; done; }
now_ns() { local t=$EPOCHREALTIME; echo "${t/./}000"; }

echo "tool,workload,tasks,slots,rep,wall_s" >"$WORK/throughput.csv"
echo "tool,rep,launch_ns,exit_ns,log" >"$WORK/latency.csv"
echo "tool,rep,switches" >"$WORK/idle.csv"
for ((rep = 1; rep <= R; rep++)); do
    for tool in $(rotate "$rep"); do
        for workload in 0 0.01; do
            cmd=$(command_for "$tool" "$S" "$T" "- $workload" "tp-$workload")
            t0=$EPOCHREALTIME
            bash -c "$cmd" >/dev/null 2>>"$WORK/stderr.log"
            t1=$EPOCHREALTIME
            echo "$tool,stamp $workload,$T,$S,$rep,$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", b-a}')" >>"$WORK/throughput.csv"
        done
        log=$WORK/raw/lat-$tool-$rep.log
        cmd=$(command_for "$tool" 1 "$L" "$log 0.005" "lat-$tool-$rep")
        launch=$(now_ns)
        bash -c "$cmd" >/dev/null 2>>"$WORK/stderr.log"
        echo "$tool,$rep,$launch,$(now_ns),$log" >>"$WORK/latency.csv"
        # Idle: all slots run a 3 s task; count the tool's own context switches in 1.5 s.
        cmd=$(command_for "$tool" "$S" "$S" "- 3" "idle")
        bash -c "$cmd" >/dev/null 2>>"$WORK/stderr.log" &
        pid=$!
        sleep 1
        a=$(awk '/ctxt_switches/ {n += $2} END {print n}' "/proc/$pid/status")
        sleep 1.5
        b=$(awk '/ctxt_switches/ {n += $2} END {print n}' "/proc/$pid/status")
        wait "$pid"
        echo "$tool,$rep,$((b - a))" >>"$WORK/idle.csv"
        echo "rep $rep: $tool done" >&2
    done
    # The disk can slow down during the run (the disk-backed tools create thousands of
    # files): probing between repetitions shows it.
    CREATE_DURING+="${CREATE_DURING:+, }$(probe_create "$WORK/probe-rep-$rep")"
done

CREATE_AFTER=$(probe_create "$WORK/probe-after")

{
    echo "# Benchmarks"
    echo
    echo "Made by \`bench/run.sh --tasks $T --slots $S --reps $R --latency-tasks $L\` on $(date -u +%Y-%m-%d)."
    echo "Machine: $(uname -srm), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)."
    echo "Scratch and disk-backed logs: \$WORK on $FS; creating an empty file there took $CREATE_BEFORE µs before the runs, $CREATE_DURING µs after each repetition, and $CREATE_AFTER µs after (1000 files each; tmpfs takes ≈ 10)."
    echo "Tools: $(xargs --version | head -1); $(command -v parallel >/dev/null && parallel --version | head -1 || echo 'GNU parallel not installed'); multirun $("$MR" --version | cut -d' ' -f2)."
    echo
    python3 "$ROOT/bench/analyze.py" "$WORK"
    echo
    if [[ $R -gt 1 ]]; then
        echo "## Scale (bench/scale.sh, N = 100,000)"
        echo
        scale=$(bash "$ROOT/bench/scale.sh" 2>&1 | grep -v '^building')
        echo '```'
        echo "$scale"
        echo '```'
        echo
        # value LABEL: the number after the colon on the line that starts with LABEL.
        value() { echo "$scale" | awk -v p="$1" 'index($0, p) == 1 { sub(/.*: /, ""); print $1; exit }'; }
        check() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "" && v + 0 <= t + 0) ? "✓" : "✗" }'; }
        sel=$(value "select by regex") sub=$(value "submit 10000 into") st=$(value "status on 100000 while") \
            st1=$(value "status on 110000, no scheduler, first") rss=$(value "scheduler RSS")
        echo "| scale target | multirun |"
        echo "|---|---|"
        echo "| 100,000 configs selected ≤ 1 s | $sel s $(check "$sel" 1) |"
        echo "| 10,000 submits into 100,000 ≤ 1 s | $sub s $(check "$sub" 1) |"
        echo "| status ≤ 100 ms (scheduler running; it keeps a snapshot) | $st s $(check "$st" 0.1) |"
        echo "| status with no scheduler, first call after the submits | $st1 s $(check "$st1" 0.1) |"
        echo "| RSS ≤ 64 MB with 100,000 queued | $rss MB $(check "$rss" 64) |"
        echo
    fi
    echo "## Commands (\$WORK is a temporary folder; each run writes its results into a folder of its own)"
    echo
    echo '```'
    for tool in "${TOOLS[@]}"; do echo "$tool: $(command_for "$tool" "$S" "$T" "- 0" "tp-0" | sed "s|$WORK|\$WORK|g; s|${SHM:-/nonexistent}|/dev/shm/...|g; s|$ROOT/||g; s|^exec ||")"; done
    echo '```'
} >"$OUT"
echo "wrote $OUT" >&2
