/// What every task sees in its environment, for the one-shot run and the daemon alike:
/// the parent's variables, less the ones multirun sets, plus its device and slot.
enum TaskEnvironment {
    /// Prefixes of the variables multirun sets per task; inherited ones are dropped.
    private static let ours = ["CUDA_VISIBLE_DEVICES=", "CUDA_DEVICE_ORDER=", "MULTIRUN_"]

    /// The parent's environment without our variables, copied once per run.
    static func inherited() -> CStringArray {
        CStringArray(Environment.entries().filter { entry in !ours.contains { entry.hasPrefix($0) } })
    }

    /// The CUDA_VISIBLE_DEVICES value for `slot`: its GPU's id, or empty on the CPU.
    static func gpu(for slot: Slot, ids: [String]?) -> String {
        if case .gpu(let position) = slot.device, let ids { return ids[position] }
        return ""
    }

    /// The per-task variables; `ids` is nil in CPU mode (GPUs hidden, no device order).
    static func variables(slot: Slot, ids: [String]?, config: String?, output: String?) -> [String] {
        let gpu = gpu(for: slot, ids: ids)
        var variables = ["CUDA_VISIBLE_DEVICES=\(gpu)", "MULTIRUN_SLOT=\(slot.number)", "MULTIRUN_GPU=\(gpu)"]
        if ids != nil { variables.append("CUDA_DEVICE_ORDER=PCI_BUS_ID") }
        if let config { variables.append("MULTIRUN_CONFIG=\(config)") }
        if let output { variables.append("MULTIRUN_OUTPUT=\(output)") }
        return variables
    }
}
