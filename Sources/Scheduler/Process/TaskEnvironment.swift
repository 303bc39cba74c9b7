/// What every task sees in its environment, for the one-shot run and the daemon alike:
/// the parent's variables, less the ones multirun sets, plus its device and slot.
enum TaskEnvironment {
    /// Prefixes of the variables multirun sets per task; inherited ones are dropped.
    private static let ours = ["CUDA_VISIBLE_DEVICES=", "CUDA_DEVICE_ORDER=", "MULTIRUN_"]

    /// The parent's environment without our variables, copied once per run.
    static func inherited() -> CStringArray {
        CStringArray(Environment.entries().filter { entry in !isOurs(entry.utf8) })
    }

    /// Whether `entry` (`NAME=value`) is one of the variables multirun sets per task, which
    /// a task never inherits (from its parent, or from an environment captured at submit):
    /// its slot's values always win.
    static func isOurs(_ entry: some Collection<UInt8>) -> Bool {
        ours.contains { prefix in entry.starts(with: prefix.utf8) }
    }

    /// The CUDA_VISIBLE_DEVICES value for a task on `slots`: its GPUs' ids, comma-separated,
    /// or empty on the CPU (GPUs hidden).
    static func gpu(for slots: [Slot], ids: [String]?) -> String {
        guard let ids else { return "" }
        return slots.compactMap { $0.device.gpuPosition.map { ids[$0] } }.joined(separator: ",")
    }

    /// `gpu0`, `gpu0+gpu2`, or `cpu`: where a task ran, for summaries.
    static func deviceName(_ slots: [Slot]) -> String {
        slots.first?.device == .cpu ? "cpu" : slots.map(\.device.description).joined(separator: "+")
    }

    /// The per-task variables, added to `strings`. GPU tasks also get
    /// CUDA_DEVICE_ORDER=PCI_BUS_ID, so CUDA numbers GPUs as nvidia-smi does; CPU tasks get
    /// no GPU at all. `gpu`: the task's CUDA_VISIBLE_DEVICES value (`gpu(for:ids:)`);
    /// `slot`: its first slot.
    /// `identity`: a config task's `ConfigIdentity.digest`, which runone compares with
    /// its own record (MULTIRUN_TASK_IDENTITY).
    static func add(gpu: String, slot: Slot, config: String?, output: String?, identity: String?, to strings: inout ExecStrings) {
        strings.variable("CUDA_VISIBLE_DEVICES", gpu)
        strings.variable("MULTIRUN_SLOT", slot.number)
        strings.variable("MULTIRUN_GPU", gpu)
        if !gpu.isEmpty { strings.variable("CUDA_DEVICE_ORDER", "PCI_BUS_ID") }
        if let config { strings.variable("MULTIRUN_CONFIG", config) }
        if let output { strings.variable("MULTIRUN_OUTPUT", output) }
        if let identity { strings.variable("MULTIRUN_TASK_IDENTITY", identity) }
    }
}
