#!/usr/bin/env bash
# Times runone's whole-brain models (release build, one core): wong_wang on a 360-region
# dense synthetic network with Heun, noise and BOLD at TR 0.8 s, dt 0.1 ms, with both builds
# of the kernels (RUNONE_KERNELS=baseline, the x86-64 SSE2 build every CPU runs, and avx2,
# which runone picks by itself on AVX2+FMA CPUs); the same network with weights at full
# float64 precision (read from a .csv, so not streamable as float32); and with conduction
# delays (speed 3 mm/ms). Reports CPU time per step, peak RSS, and the coupling's bound: the
# symmetric product does 2N² flops per step, N² multiply–adds, over the N(N+1)/2 stored
# weights (4 bytes each as float32, 8 as float64); with delays it reads N² Int32 offsets and
# gathers N² history values. A numpy W @ x of the same size (OpenBLAS dgemv, if python3 has
# numpy) gives a reference.
#
#   bench/models.sh           300 s simulated (375 timepoints): minutes
#   bench/models.sh --quick   8 s simulated (10 timepoints), extrapolated to 300 s (said so)
set -euo pipefail
cd "$(dirname "$0")/.."
timepoints=375
for argument in "$@"; do
  case "$argument" in
    --quick) timepoints=10 ;;
    *) echo "usage: bench/models.sh [--quick]" >&2; exit 2 ;;
  esac
done
swift build -c release --product runone >/dev/null
runone="$PWD/.build/release/runone"
echo "runone: $runone, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), AVX2+FMA: $(grep -m1 '^flags' /proc/cpuinfo | grep -qw avx2 && grep -m1 '^flags' /proc/cpuinfo | grep -qw fma && echo yes || echo no)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/configs" "$work/f64"
# A dense symmetric 360x360 matrix whose weights need all 53 bits.
awk 'BEGIN { n = 360; for (i = 0; i < n; i++) { line = ""; for (j = 0; j < n; j++) {
  w = (i == j) ? 0 : exp(-((i > j) ? i - j : j - i) / 40) * (1 + 0.1 * sin(i * j + i + j)) / 20.0
  line = line (j ? "," : "") sprintf("%.17g", w) }; print line } }' > "$work/f64/weights.csv"
config() {  # name network timepoints TR speed
  {
    echo "model_params:"
    echo "  name: wong_wang"
    echo "  $2"
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
config nodelay "nodes: 360" "$timepoints" 0.8 none
config float64-weights "connectivity: ../f64/weights.csv" "$timepoints" 0.8 none
config delay "nodes: 360" "$timepoints" 0.8 3.0
config small "nodes: 76" 10 1.0 none
printf '%-32s %8s %10s %10s %10s %9s\n' run steps cpu_s us/step GFLOP/s rss_MiB
measure() {  # label config kernels nodes steps
  local out
  out=$( { cd "$work" && RUNONE_KERNELS=$3 /usr/bin/time -f '%U %S %M' "$runone" -c "configs/$2.yaml" --overwrite >/dev/null; } 2>&1 | tail -1)
  read -r user sys rss <<<"$out"
  awk -v name="$1" -v n="$4" -v steps="$5" -v user="$user" -v sys="$sys" -v rss="$rss" -v tp="$timepoints" 'BEGIN {
    cpu = user + sys; per = cpu / steps
    printf "%-32s %8d %10.2f %10.2f %10.2f %9.1f\n", name, steps, cpu, per * 1e6, 2 * n * n / per / 1e9, rss / 1024
    if (n == 360 && tp < 375) printf "%-32s %8d %10.1f   (extrapolated linearly from %d timepoints)\n", "  -> 300 s simulated", 3000000, per * 3000000, tp
  }'
}
avx2=$(grep -m1 '^flags' /proc/cpuinfo | grep -qw avx2 && grep -m1 '^flags' /proc/cpuinfo | grep -qw fma && echo yes || echo no)
steps=$((timepoints * 8000))
[[ $avx2 == yes ]] && measure "360 no delays, avx2" nodelay avx2 360 $steps
measure "360 no delays, baseline" nodelay baseline 360 $steps
[[ $avx2 == yes ]] && measure "360 float64 weights, avx2" float64-weights avx2 360 $steps
[[ $avx2 == yes ]] && measure "360 delays 3 mm/ms, avx2" delay avx2 360 $steps
measure "360 delays 3 mm/ms, baseline" delay baseline 360 $steps
measure "76 no delays (10 s)" small "" 76 100000
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
