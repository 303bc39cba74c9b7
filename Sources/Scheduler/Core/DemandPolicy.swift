/// Turns a task's `resources:` into what it holds on one run's (or one daemon's) devices,
/// or says why it never could. Pure, so a one-shot run checks every config before
/// anything starts, and the daemon applies the same rule to what was submitted.
public struct DemandPolicy: Sendable {
    /// False in CPU mode (-gpu false): every task runs in the CPU pool.
    public let gpuMode: Bool
    /// GPUs that have at least one slot.
    public let usableGPUs: Int
    public let cpuSlots: Int
    /// --min-free-mem, in MiB (0: none).
    public let defaultMemoryMiB: Int
    /// The largest total memory among GPUs with slots; nil when nvidia-smi reports none
    /// for one of them (a MIG instance, a GPU it does not list).
    public let largestMemoryMiB: Int?

    public init(gpuMode: Bool, usableGPUs: Int, cpuSlots: Int, defaultMemoryMiB: Int, largestMemoryMiB: Int?) {
        self.gpuMode = gpuMode
        self.usableGPUs = usableGPUs
        self.cpuSlots = cpuSlots
        self.defaultMemoryMiB = defaultMemoryMiB
        self.largestMemoryMiB = largestMemoryMiB
    }

    /// What a task with `resources` holds while it runs; `config` names it in errors.
    public func demand(_ resources: TaskResources, config: String) throws(UsageError) -> Demand {
        if resources.wantsCPUPool || !gpuMode {
            let need = resources.mpiProcesses ?? 1
            let key = resources.mpiProcesses != nil ? "mpi" : "device cpu"
            if !gpuMode, let gpus = resources.gpus {
                throw UsageError("config \(config): resources.gpus \(gpus) asks for GPUs, but this run is CPU only (-gpu false); drop -gpu false, or the key")
            }
            if !gpuMode, resources.gpuMemoryMiB != nil {
                throw UsageError("config \(config): resources.gpu_memory asks for a GPU, but this run is CPU only (-gpu false); drop -gpu false, or the key")
            }
            if cpuSlots == 0 {
                throw UsageError("config \(config): resources.\(key) runs in the CPU pool, and this run has none; pass --cpu-slots N")
            }
            if need > cpuSlots {
                throw UsageError("config \(config): resources.mpi.np \(need) needs \(need) CPU slots at once, but the CPU pool has \(cpuSlots); raise \(gpuMode ? "--cpu-slots" : "-d") to \(need) or more")
            }
            return .cpu(need)
        }
        let gpus = resources.gpus ?? 1
        if gpus > usableGPUs {
            throw UsageError("config \(config): resources.gpus \(gpus), but this run has \(usableGPUs) GPU(s) with slots; give more GPUs slots with -d, or lower gpus")
        }
        if let asked = resources.gpuMemoryMiB {
            try checkMemory(asked, asked: "config \(config): resources.gpu_memory \(ByteSize.describe(mebibytes: asked))")
        }
        return .gpu(gpus, memoryMiB: resources.gpuMemoryMiB ?? defaultMemoryMiB)
    }

    /// A memory request must be readable (nvidia-smi reports every GPU with slots) and fit.
    public func checkMemory(_ mib: Int, asked: String) throws(UsageError) {
        guard let largest = largestMemoryMiB else {
            throw UsageError("\(asked): nvidia-smi reports no memory for a GPU with slots (a MIG instance, or one it does not list), so the gate cannot work; drop the request or give that GPU 0 slots with -d")
        }
        if mib > largest {
            throw UsageError("\(asked) is more than any GPU here has (largest: \(ByteSize.describe(mebibytes: largest))); lower it")
        }
    }
}
