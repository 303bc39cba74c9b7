# A fake PyTorch for dry-running Tests/GPU/run.sh without a GPU: FAKE_GPUS GPUs of FAKE_GPU_TOTAL_MIB
# whose memory is one file per allocation in $FAKE_GPU_STATE (the fake nvidia-smi sums them).
# FAKE_GPU_WRONG=9 makes every device report the wrong UUID, to see the script fail.
import os, glob
__version__ = "0.fake"
class version: cuda = "fake"
uint8 = "uint8"
STATE = os.environ["FAKE_GPU_STATE"]
TOTAL = int(os.environ.get("FAKE_GPU_TOTAL_MIB", "10000"))
def _visible():
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    return [c for c in cvd.split(",") if c] if cvd is not None else [str(i) for i in range(int(os.environ.get("FAKE_GPUS", "2")))]
def _used(phys):
    return sum(int(open(f).read() or 0) for f in glob.glob("%s/gpu%s.*" % (STATE, phys)))
class _Props:
    def __init__(self, phys):
        self.uuid = "GPU-%s%s%s%s" % ((os.environ.get("FAKE_GPU_WRONG", phys),) * 4)
        self.pci_bus_id = int(phys); self.pci_domain_id = 0; self.pci_device_id = 0
class _Device:
    def __init__(self, i): self.index = i
    def __str__(self): return "cuda:%d" % self.index
class _Tensor:
    n = 0
    def __init__(self, nbytes, phys):
        _Tensor.n += 1
        self.path = "%s/gpu%s.%d.%d" % (STATE, phys, os.getpid(), _Tensor.n)
        mib = nbytes // 2**20
        if _used(phys) + mib > TOTAL: raise RuntimeError("CUDA out of memory")
        open(self.path, "w").write(str(mib)); self.device = _Device(0)
    def fill_(self, v): return self
    def __del__(self):
        try: os.remove(self.path)
        except OSError: pass
class cuda:
    @staticmethod
    def is_available(): return bool(_visible())
    @staticmethod
    def device_count(): return len(_visible())
    @staticmethod
    def get_device_properties(i): return _Props(_visible()[i])
    @staticmethod
    def mem_get_info(i):
        phys = _visible()[i]; return ((TOTAL - _used(phys)) * 2**20, TOTAL * 2**20)
    @staticmethod
    def synchronize(): pass
    @staticmethod
    def empty_cache(): pass
    @staticmethod
    def current_device(): return 0
def empty(n, dtype=None, device=None): return _Tensor(n, _visible()[0])
