#!/usr/bin/env bash
# GPU smoke test for multirun on a real NVIDIA machine with PyTorch (issue 16).
#
#   Tests/GPU/run.sh [DIR]     DIR holds prebuilt static multirun and runone
#
# The binaries come from DIR, else $MULTIRUN_BIN_DIR, else this script's own folder, else
# PATH. Nothing is installed or downloaded; no Swift toolchain is needed. PYTHON (default
# python3) must import torch with CUDA. It checks, in a scratch folder:
#   0. the kernel: pidfd_open and prctl(PR_SET_CHILD_SUBREAPER) work;
#   1. placement: several slots on each GPU; inside every task PyTorch sees exactly one
#      device, the one multirun named (UUID / PCI bus id against `multirun devices --json`),
#      and an allocation lowers that device's free memory (torch.cuda.mem_get_info);
#      no GPU ever runs more tasks at once than its slots;
#   2. the free-memory gate: on the first GPU, 4 slots and tasks that each allocate 40% of
#      its free memory with --min-free-mem of that size: exactly 2 hold memory at once and
#      none runs out of memory.
# It prints PASS/FAIL per check and a summary, exits 1 on failure (2 on bad usage), and
# prints "skipped" and exits 0 on a machine without a working NVIDIA GPU. Under 3 minutes.
# SMOKE_KEEP=1 keeps the scratch folder (task logs under results/runs). Tests/GPU/fake holds a
# fake nvidia-smi and PyTorch for a dry run without a GPU (see GPUSmokeScriptTests).
set -u

start=$(date +%s)
failures=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
finish() {
    echo "----"
    if [ "$failures" -eq 0 ]; then
        echo "GPU smoke: PASS ($(( $(date +%s) - start )) s)"; exit 0
    fi
    echo "GPU smoke: FAIL ($failures check(s) failed, $(( $(date +%s) - start )) s)"; exit 1
}

if [ $# -gt 1 ]; then
    echo "usage: Tests/GPU/run.sh [DIR-with-multirun-and-runone]" >&2; exit 2
fi

# --- A GPU at all? --------------------------------------------------------------------
if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "GPU smoke: skipped (no nvidia-smi on PATH: no NVIDIA GPU here)"; exit 0
fi
if ! gpu_list=$(nvidia-smi -L 2>&1) || ! printf '%s\n' "$gpu_list" | grep -q '^GPU '; then
    echo "GPU smoke: skipped (nvidia-smi finds no GPU: $(printf '%s' "$gpu_list" | head -n 1))"; exit 0
fi

# --- The binaries ----------------------------------------------------------------------
here=$(cd "$(dirname "$0")" && pwd)
bindir=${1:-${MULTIRUN_BIN_DIR:-}}
if [ -z "$bindir" ]; then
    if [ -x "$here/multirun" ]; then bindir=$here
    elif command -v multirun >/dev/null 2>&1; then bindir=$(dirname "$(command -v multirun)")
    fi
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/multirun" ] || [ ! -x "$bindir/runone" ]; then
    echo "GPU smoke: FAIL (no multirun and runone: pass their folder, e.g. Tests/GPU/run.sh .build/release)"; exit 1
fi
bindir=$(cd "$bindir" && pwd)
MULTIRUN=$bindir/multirun
if ! "$MULTIRUN" --help >/dev/null 2>&1; then
    echo "GPU smoke: FAIL ($MULTIRUN does not run here; it must be the static release build)"; exit 1
fi
PYTHON=${PYTHON:-python3}
if ! torch_info=$("$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "torch.cuda.is_available() is False"; print(torch.__version__, torch.version.cuda, torch.cuda.device_count())' 2>&1); then
    echo "GPU smoke: FAIL ($PYTHON cannot use PyTorch with CUDA: $(printf '%s' "$torch_info" | tail -n 1))"; exit 1
fi
echo "multirun: $MULTIRUN"
echo "torch, CUDA, devices: $torch_info"

work=$(mktemp -d "${TMPDIR:-/tmp}/multirun-gpu-smoke-XXXXXX")
trap '[ -n "${SMOKE_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
cd "$work" || exit 1

# --- 0. Kernel features multirun relies on --------------------------------------------
if kernel=$("$PYTHON" - <<'PY' 2>&1
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
fd = libc.syscall(434, os.getpid(), 0)  # pidfd_open: 434 on x86_64 and aarch64
if fd < 0:
    sys.exit("pidfd_open failed: " + os.strerror(ctypes.get_errno()))
os.close(fd)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("PR_SET_CHILD_SUBREAPER failed: " + os.strerror(ctypes.get_errno()))
flag = ctypes.c_int(0)
if libc.prctl(37, ctypes.byref(flag), 0, 0, 0) != 0 or flag.value != 1:  # PR_GET_CHILD_SUBREAPER
    sys.exit("PR_GET_CHILD_SUBREAPER does not read back 1")
# An orphaned grandchild must be re-parented to us, the subreaper. It reports its parent
# once we have reaped its own parent (we close `go` then), so no timing is involved.
r, w = os.pipe()
go_r, go_w = os.pipe()
child = os.fork()
if child == 0:
    if os.fork() == 0:
        os.close(go_w)
        os.read(go_r, 1)
        os.write(w, str(os.getppid()).encode())
        os._exit(0)
    os._exit(0)
os.close(w)
os.close(go_r)
os.waitpid(child, 0)
os.close(go_w)
parent = int(os.read(r, 32) or b"0")
os.wait()
if parent != os.getpid():
    sys.exit("an orphaned grandchild went to pid %d, not to the subreaper %d" % (parent, os.getpid()))
print("pidfd_open and the child subreaper work")
PY
); then pass "kernel: $kernel"; else fail "kernel: $kernel"; fi

# --- The GPUs as multirun sees them -----------------------------------------------------
if ! "$MULTIRUN" devices --json > devices.json 2> devices.err; then
    fail "multirun devices --json: $(head -n 1 devices.err)"; finish
fi
gpus=$("$PYTHON" -c 'import json,sys; print(len(json.load(open("devices.json"))["gpus"]))')
if [ "$gpus" -lt 1 ]; then fail "multirun devices found no GPU though nvidia-smi -L did"; finish; fi
echo "GPUs: $gpus"

# The task: which device it got, whether its allocation lands there, when it held memory.
cat > task.py <<'PY'
import json, os, sys, time
import torch
line = {"config": sys.argv[-1], "cvd": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "gpu": os.environ.get("MULTIRUN_GPU"), "problems": []}
def problem(text): line["problems"].append(text)
devices = {g["cuda_visible_devices"]: g for g in json.load(open(os.environ["SMOKE_DEVICES"]))["gpus"]}
expected = devices.get(line["cvd"])
if expected is None:
    problem("CUDA_VISIBLE_DEVICES=%r is none of multirun's GPUs" % line["cvd"])
count = torch.cuda.device_count()
if count != 1:
    problem("torch sees %d devices, not 1" % count)
props = torch.cuda.get_device_properties(0)
checked = False
uuid = getattr(props, "uuid", None)
if expected is not None and uuid is not None:
    checked = True
    if str(uuid).lower().replace("gpu-", "") != expected["uuid"].lower().replace("gpu-", ""):
        problem("torch's device 0 is %s, multirun gave %s" % (uuid, expected["uuid"]))
if expected is not None and hasattr(props, "pci_bus_id"):
    checked = True
    bus = "%08X:%02X:%02X.0" % (getattr(props, "pci_domain_id", 0), props.pci_bus_id, getattr(props, "pci_device_id", 0))
    if bus.upper() != expected["pci_bus_id"].upper()[-len(bus):]:
        problem("torch's device 0 is at %s, multirun gave %s" % (bus, expected["pci_bus_id"]))
if not checked:
    problem("this torch shows neither the UUID nor the PCI bus id of its device")
mib = int(os.environ["SMOKE_ALLOC_MIB"])
need = mib * 2**20
for attempt in range(5):  # others on the same GPU may allocate or free meanwhile
    before = torch.cuda.mem_get_info(0)[0]
    block = torch.empty(need, dtype=torch.uint8, device="cuda")
    block.fill_(1)
    torch.cuda.synchronize()
    delta = before - torch.cuda.mem_get_info(0)[0]
    if delta >= 0.9 * need or attempt == 4:
        break
    del block
    torch.cuda.empty_cache()
    time.sleep(0.2)
line["delta_mib"] = delta // 2**20
if delta < 0.9 * need:
    problem("allocating %d MiB lowered the device's free memory by only %d MiB" % (mib, delta // 2**20))
if block.device.index != 0 or torch.cuda.current_device() != 0:
    problem("the allocation is on %s" % block.device)
line["held_from"] = time.time()
time.sleep(float(os.environ["SMOKE_HOLD"]))
line["held_until"] = time.time()
del block
with open(os.environ["SMOKE_OUT"], "a") as out:
    out.write(json.dumps(line) + "\n")
sys.exit(1 if line["problems"] else 0)
PY

# Max number of tasks holding memory at once, per GPU, from the task lines.
cat > check.py <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
expected_tasks, slots = int(sys.argv[2]), int(sys.argv[3])
bad = 0
for l in lines:
    for p in l["problems"]:
        print("      %s (CUDA_VISIBLE_DEVICES=%s): %s" % (l["config"], l["cvd"], p)); bad += 1
if len(lines) != expected_tasks:
    print("      %d of %d tasks reported" % (len(lines), expected_tasks)); bad += 1
peaks = {}
for gpu in sorted({l["cvd"] for l in lines}):
    events = sorted([(l["held_from"], 1) for l in lines if l["cvd"] == gpu] +
                    [(l["held_until"], -1) for l in lines if l["cvd"] == gpu], key=lambda e: (e[0], e[1]))
    now = peak = 0
    for _, step in events:
        now += step; peak = max(peak, now)
    peaks[gpu] = peak
    if peak > slots:
        print("      GPU %s held %d tasks at once, above its %d slots" % (gpu, peak, slots)); bad += 1
print("      GPUs used and most tasks at once: %s" % ", ".join("%s: %d" % kv for kv in peaks.items()))
print("PEAKS " + " ".join(str(v) for v in peaks.values()))
sys.exit(1 if bad else 0)
PY

export SMOKE_DEVICES=$work/devices.json
export CUDA_DEVICE_ORDER=PCI_BUS_ID
limit=75

# --- 1. Placement: 2 slots on each GPU, 4 tasks per GPU ---------------------------------
slots=2
tasks=$((gpus * 4))
mkdir -p configs/place
for i in $(seq 1 "$tasks"); do echo "n: $i" > "configs/place/p-$i.yaml"; done
d_args=$(for _ in $(seq 1 "$gpus"); do printf '%s ' "$slots"; done)
# shellcheck disable=SC2086
SMOKE_OUT=$work/place.jsonl SMOKE_ALLOC_MIB=1024 SMOKE_HOLD=3 \
    timeout "$limit" "$MULTIRUN" -c 'place/' -d $d_args -check false --timeout 60 \
    --runner "$PYTHON $work/task.py {config}" > place.out 2>&1
status=$?
if [ "$status" -ne 0 ]; then
    fail "placement: multirun exited $status"; tail -n 5 place.out | sed 's/^/      /'
fi
if [ -f place.jsonl ] && report=$("$PYTHON" check.py place.jsonl "$tasks" "$slots"); then
    peaks=$(printf '%s\n' "$report" | sed -n 's/^PEAKS //p')
    printf '%s\n' "$report" | grep -v '^PEAKS'
    if [ "$(printf '%s\n' $peaks | wc -l)" -ne "$gpus" ]; then
        fail "placement: tasks ran on $(printf '%s\n' $peaks | wc -l) of $gpus GPUs"
    else
        pass "placement: $tasks tasks, $slots slots on each of $gpus GPU(s); each saw only its GPU, and 1 GiB allocations landed there"
    fi
else
    [ -f place.jsonl ] && printf '%s\n' "${report:-}" | grep -v '^PEAKS'
    fail "placement: the tasks saw the wrong device or their memory landed elsewhere (see above)"
fi

# --- 2. The free-memory gate with real allocations ------------------------------------
first=$("$PYTHON" -c 'import json; g=json.load(open("devices.json"))["gpus"][0]; print(g["position"], g["memory_total_mib"] - g["memory_used_mib"])')
free_mib=${first#* }
size=$((free_mib * 40 / 100))
gate_slots=4
gate_tasks=5
mkdir -p configs/gate
for i in $(seq 1 "$gate_tasks"); do echo "n: $i" > "configs/gate/g-$i.yaml"; done
d_args="$gate_slots"
for _ in $(seq 2 "$gpus"); do d_args="$d_args 0"; done
# shellcheck disable=SC2086
SMOKE_OUT=$work/gate.jsonl SMOKE_ALLOC_MIB=$size SMOKE_HOLD=4 \
    timeout "$limit" "$MULTIRUN" -c 'gate/' -d $d_args -check false --timeout 60 \
    --min-free-mem "${size}MiB" --runner "$PYTHON $work/task.py {config}" > gate.out 2>&1
status=$?
if [ "$status" -ne 0 ]; then
    fail "gate: multirun exited $status"; tail -n 5 gate.out | sed 's/^/      /'
fi
if [ -f gate.jsonl ] && report=$("$PYTHON" check.py gate.jsonl "$gate_tasks" 2); then
    printf '%s\n' "$report" | grep -v '^PEAKS'
    peak=$(printf '%s\n' "$report" | sed -n 's/^PEAKS //p')
    if [ "$peak" = "2" ]; then
        pass "gate: --min-free-mem ${size}MiB (40% of ${free_mib} MiB free) with $gate_slots slots: 2 tasks held ${size} MiB each at once, never more, none ran out of memory"
    else
        fail "gate: at most $peak task(s) held memory at once; 2 fit"
    fi
else
    [ -f gate.jsonl ] && printf '%s\n' "${report:-}" | grep -v '^PEAKS'
    fail "gate: more tasks held memory than fit, or a task failed (see above)"
fi

finish
