#!/usr/bin/env bash
# Times runone's whole-brain models (release build, one core): wong_wang on a 360-region
# dense synthetic network with Heun, noise and BOLD at TR 0.8 s, dt 0.1 ms, without and
# with conduction delays (speed 3 mm/ms), and a 76-region 10 s run. Reports CPU time per
# step, peak RSS, and the coupling's bound: the dense matrix–vector product streams the
# N×N weights (8 N² bytes) and does 2 N² flops per step; with delays it also reads N²
# Int32 offsets and gathers N² history values. A numpy W @ x of the same size (OpenBLAS
# dgemv, if python3 has numpy) gives the reference for "how close".
#
#   bench/models.sh           300 s simulated (375 timepoints): minutes
#   bench/models.sh --quick   8 s simulated (10 timepoints), extrapolated to 300 s (said so)
#   --avx2                    also build runone for AVX2+FMA CPUs (-target-cpu haswell, in
#                             .build/avx2; ~4 min) and time that build instead. The shipped
#                             binary stays x86-64 baseline (SSE2), which every CPU runs.
set -euo pipefail
cd "$(dirname "$0")/.."
timepoints=375
avx2=no
for argument in "$@"; do
  case "$argument" in
    --quick) timepoints=10 ;;
    --avx2) avx2=yes ;;
    *) echo "usage: bench/models.sh [--quick] [--avx2]" >&2; exit 2 ;;
  esac
done
if [[ "$avx2" == yes ]]; then
  swift build -c release --product runone --build-path .build/avx2 -Xswiftc -target-cpu -Xswiftc haswell >/dev/null
  runone="$PWD/.build/avx2/release/runone"
else
  swift build -c release --product runone >/dev/null
  runone="$PWD/.build/release/runone"
fi
echo "runone: $runone ($([[ $avx2 == yes ]] && echo 'AVX2+FMA build' || echo 'baseline x86-64 build')), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/configs"
config() {  # name nodes timepoints TR speed
  {
    echo "model_params:"
    echo "  name: wong_wang"
    echo "  nodes: $2"
    echo "  timepoints: $3"
    echo "  TR: $4"
    echo "  dt: 0.1"
    echo "  integrator: heun"
    echo "  noise: 0.001"
    echo "  G: 0.5"
    echo "  bold: true"
    if [[ "$5" != none ]]; then echo "  speed: $5"; fi
  } > "$work/configs/$1.yaml"
}
config nodelay 360 "$timepoints" 0.8 none
config delay 360 "$timepoints" 0.8 3.0
config small 76 10 1.0 none
printf '%-26s %8s %10s %12s %10s %10s %9s\n' run steps cpu_s us/step GFLOP/s GB/s rss_MiB
measure() {  # name nodes steps
  local out
  out=$( { cd "$work" && /usr/bin/time -f '%U %S %M' "$runone" -c "configs/$1.yaml" --overwrite >/dev/null; } 2>&1 | tail -1)
  read -r user sys rss <<<"$out"
  awk -v name="$1" -v n="$2" -v steps="$3" -v user="$user" -v sys="$sys" -v rss="$rss" -v tp="$timepoints" 'BEGIN {
    cpu = user + sys; per = cpu / steps
    stride = int((n + 3) / 4) * 4
    printf "%-26s %8d %10.2f %12.2f %10.2f %10.2f %9.1f\n", name, steps, cpu, per * 1e6, 2 * n * n / per / 1e9, 8 * n * stride / per / 1e9, rss / 1024
    if (name != "small" && tp < 375) printf "%-26s %8d %10.1f   (extrapolated linearly from %d timepoints)\n", "  -> 300 s simulated", 3000000, per * 3000000, tp
  }'
}
measure nodelay 360 $((timepoints * 8000))
measure delay 360 $((timepoints * 8000))
measure small 76 $((10 * 10000))
if python3 -c 'import numpy' 2>/dev/null; then
  python3 - <<'PY'
import time, numpy as np
n = 360
w = np.random.default_rng(0).random((n, n)); x = np.random.default_rng(1).random(n); y = np.empty(n)
for _ in range(2000): np.dot(w, x, out=y)
reps = 20000; t = time.perf_counter()
for _ in range(reps): np.dot(w, x, out=y)
per = (time.perf_counter() - t) / reps
print(f"reference: numpy W @ x, {n}x{n}: {per*1e6:.2f} us per product ({2*n*n/per/1e9:.2f} GFLOP/s, {8*n*n/per/1e9:.2f} GB/s of weights), call overhead included")
PY
fi
