#!/usr/bin/env bash
# scripts/check-kernel-isolation.sh [BINARY...] - checks that AVX instructions in the release
# binaries live only in the BrainKernelsAVX2 module (plus glibc's own AVX variants, which
# glibc picks at run time). That module is built with -target-cpu haswell; if one of its
# functions were shared with baseline code (a generic specialization the linker merged, an
# inlined copy), a CPU without AVX2 would trap in code that runone thinks is safe.
# Default binaries: .build/release/runone and .build/release/multirun. Exit 1 on a leak.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v objdump >/dev/null || { echo "objdump is missing (Debian: apt-get install binutils)" >&2; exit 2; }
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(.build/release/runone .build/release/multirun)
status=0
for binary in "${binaries[@]}"; do
    # Swift functions ($s…) holding a VEX-encoded instruction (v… mnemonics), other than
    # BrainKernelsAVX2's own (its module name is part of their mangled names, so no
    # baseline code can share them).
    leaks=$(objdump -d --no-show-raw-insn "$binary" | awk '
        /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
        $2 ~ /^v[a-z0-9]+$/ && fn ~ /^<\$s/ && fn !~ /16BrainKernelsAVX2/ { print fn }' | sort -u)
    kernels=$(objdump -d --no-show-raw-insn "$binary" | awk '
        /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
        $2 ~ /^v[a-z0-9]+$/ && fn ~ /16BrainKernelsAVX2/ { print fn }' | sort -u | wc -l)
    if [ -n "$leaks" ]; then
        echo "$binary: AVX instructions outside BrainKernelsAVX2:" >&2
        echo "$leaks" | head -20 >&2
        status=1
    else
        echo "$binary: AVX only in BrainKernelsAVX2 ($kernels functions)"
    fi
done
exit $status
