/// What one task holds while it runs: one slot on each of `gpus` distinct GPUs, or
/// `cpuSlots` slots of the CPU pool. Read from the config's `resources:` map.
public struct Demand: Hashable, Sendable {
    /// GPUs the task needs at once, one slot on each; 0 for a CPU task.
    public var gpus: Int
    /// CPU-pool slots (1, or the process count of an MPI task); 0 for a GPU task.
    public var cpuSlots: Int
    /// Free memory the task needs on each of its GPUs, in MiB; 0 places it without looking.
    public var memoryMiB: Int

    public init(gpus: Int, cpuSlots: Int, memoryMiB: Int = 0) {
        self.gpus = gpus
        self.cpuSlots = cpuSlots
        self.memoryMiB = memoryMiB
    }

    public static func gpu(_ count: Int = 1, memoryMiB: Int = 0) -> Demand { Demand(gpus: count, cpuSlots: 0, memoryMiB: memoryMiB) }
    public static func cpu(_ slots: Int = 1) -> Demand { Demand(gpus: 0, cpuSlots: slots) }

    public var isCPU: Bool { gpus == 0 }
}
