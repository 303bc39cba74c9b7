/// `multirun devices [--json]`: the GPUs as a run would see them: where the list came
/// from, each GPU's id, UUID, name and memory, and the slots `-d`/`--cpu-slots` give.
enum DevicesCommand {
    static func run(_ arguments: [String]) throws(UsageError) -> Int32 {
        let options = try OptionsParser.parse(arguments, requireTasks: false, command: "devices")
        let out = Console.standardOutput
        if options.showHelp { out.block(CommandTable.helpPage(CommandTable.subcommand("devices")!)); return 0 }
        let placement = try Placement.make(options)
        let ids = placement.gpuIDs ?? []
        let entries = placement.universe?.entries ?? []
        if options.json {
            let gpus: [JSON] = entries.enumerated().map { position, entry in
                let gpu = entry.gpu
                return .object([
                    ("position", .int(Int64(position))), ("id", .string(entry.id)), ("uuid", .optional(entry.uuid)),
                    ("pci_bus_id", .optional(gpu?.pciBusID)), ("name", .optional(gpu?.name)),
                    ("memory_total_mib", .optional(gpu?.memoryTotalMiB)), ("memory_used_mib", .optional(gpu?.memoryUsedMiB)),
                    ("slots", .int(Int64(placement.pool.capacity(of: .gpu(position))))),
                    ("cuda_visible_devices", .string(ids[position])),
                ])
            }
            out.line(JSON.object([
                ("source", placement.universe.map { .string($0.source) } ?? .null),
                ("gpus", .array(gpus)),
                ("cpu_slots", .int(Int64(placement.pool.capacity(of: .cpu)))),
            ]).encoded())
            return 0
        }
        guard let universe = placement.universe else {
            out.line("CPU only (-gpu false): \(placement.pool.capacity(of: .cpu)) slot(s)")
            return 0
        }
        out.line("GPUs from \(universe.source); tasks get CUDA_DEVICE_ORDER=PCI_BUS_ID and CUDA_VISIBLE_DEVICES as shown")
        for (position, entry) in entries.enumerated() {
            let gpu = entry.gpu
            let memory = gpu.map { "\($0.memoryUsedMiB)/\($0.memoryTotalMiB) MiB used" } ?? "memory unknown"
            out.line("  [\(position)] CUDA_VISIBLE_DEVICES=\(ids[position])  \(gpu?.name ?? "?")  \(entry.uuid ?? "no uuid")  \(gpu?.pciBusID ?? "")  \(memory)  slots \(placement.pool.capacity(of: .gpu(position)))")
        }
        out.line("CPU pool: \(placement.pool.capacity(of: .cpu)) slot(s)\(placement.pool.capacity(of: .cpu) == 0 ? " (--cpu-slots N adds one)" : "")")
        return 0
    }
}
