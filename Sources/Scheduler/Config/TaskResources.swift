/// A config's `resources:` map, as written:
///
///     resources:
///       gpus: 2              # GPUs at once, one slot on each (default 1 in a GPU run)
///       device: cpu          # run in the CPU pool (--cpu-slots), never on a GPU slot
///       mpi: {np: 4}         # run under the MPI launcher with 4 processes: 4 CPU slots
///       gpu_memory: 20GiB    # free memory each of its GPUs must have (default --min-free-mem)
///       time: 2h             # its time limit (overrides --timeout): 90, 30m, 2h, 1d, 02:00:00, 1-12:00:00
public struct TaskResources: Equatable, Sendable {
    public var gpus: Int?
    public var cpu = false
    public var mpiProcesses: Int?
    public var gpuMemoryMiB: Int?
    /// The task's time limit in seconds (`time:`), instead of `--timeout`.
    public var time: Double?

    public init() {}

    /// Whether the task runs in the CPU pool of a GPU run (`device: cpu`, or MPI).
    public var wantsCPUPool: Bool { cpu || mpiProcesses != nil }

    /// The resources of the config at `path` (its text is `bytes`); none when it has no
    /// `resources:` key. The message names `file:line:col` and the key.
    public static func read(_ bytes: [UInt8], path: String) throws(UsageError) -> TaskResources {
        do {
            return try ConfigSchema.check(bytes, path: path, runone: false).resources
        } catch {
            throw UsageError(error.message)
        }
    }

    /// The `resources:` value of the config at `path`; errors name the key under `resources`.
    public static func parse(_ value: ConfigValue, path: String) throws(SchemaError) -> TaskResources {
        func fail(_ key: String, _ problem: String) -> SchemaError {
            SchemaError(source: path, key: "resources.\(key)", message: problem)
        }
        guard case .map(let entries) = value else {
            throw SchemaError(source: path, key: "resources", message: "must be a mapping (gpus, device, mpi, gpu_memory), found \(value.typeName)")
        }
        let known = ["gpus", "device", "mpi", "gpu_memory", "time"]
        var resources = TaskResources()
        for (key, item) in entries {
            switch key {
            case "gpus":
                guard let count = item.int, count >= 1 else { throw fail(key, "must be a whole number of GPUs, 1 or more (found \(item.scalarText ?? item.typeName))") }
                resources.gpus = count
            case "device":
                switch item.string {
                case "cpu": resources.cpu = true
                case "gpu": resources.cpu = false
                default: throw fail(key, "must be cpu or gpu (found \(item.scalarText ?? item.typeName))")
                }
            case "mpi":
                guard case .map = item, let np = item["np"]?.int, np >= 1 else {
                    throw fail(key, "must be a mapping with np, the number of MPI processes, e.g. mpi: {np: 4}")
                }
                if case .map(let fields) = item, let other = fields.first(where: { $0.key != "np" }) {
                    throw fail("mpi.\(other.key)", "is not known; mpi takes np only")
                }
                resources.mpiProcesses = np
            case "gpu_memory":
                guard let text = item.scalarText, let mib = ByteSize.mebibytes(text) else {
                    throw fail(key, "must be a size such as 20GiB or 512MiB (found \(item.scalarText ?? item.typeName))")
                }
                resources.gpuMemoryMiB = mib
            case "time":
                // A bare number is seconds, as for --timeout; YAML reads 2:00:00 as the
                // base-60 integer 7200, which is those seconds.
                let text: String?
                switch item {
                case .int(let value): text = String(value)
                case .double(let value): text = value.isFinite ? String(value) : nil
                case .string(let value): text = value
                default: text = nil
                }
                let checked = text.map(TimeLimit.check)
                guard let seconds = checked?.seconds else {
                    throw fail(key, "\(checked?.problem ?? TimeLimit.problem) (found \(item.scalarText ?? item.typeName))")
                }
                resources.time = seconds
            default:
                let hint = ConfigSchema.suggestion(for: key, among: known).map { "did you mean '\($0)'? " } ?? ""
                throw fail(key, "is not known; \(hint)resources takes gpus, device, mpi, gpu_memory and time")
            }
        }
        if resources.cpu || resources.mpiProcesses != nil {
            let why = resources.cpu ? "device cpu" : "mpi"
            if resources.gpus != nil { throw fail("gpus", "cannot be combined with \(why): such tasks run in the CPU pool") }
            if resources.gpuMemoryMiB != nil { throw fail("gpu_memory", "cannot be combined with \(why): such tasks run in the CPU pool") }
        }
        return resources
    }
}

/// Sizes as people write them: 20GiB, 20G (both binary), 20GB (decimal), 512MiB, 1.5TiB.
public enum ByteSize {
    /// The size in MiB, rounded up; nil when `text` is not a size with a unit.
    public static func mebibytes(_ text: String) -> Int? {
        let trimmed = text.trimming(" ")
        guard let split = trimmed.firstIndex(where: { !$0.isASCIIDigit && $0 != "." }) else { return nil }
        guard let number = Double(trimmed[..<split]), number.isFinite, number >= 0 else { return nil }
        let unit = trimmed[split...].trimming(" ").lowercased()
        let bytes: Double
        switch unit {
        case "b": bytes = 1
        case "k", "kib": bytes = 1024
        case "m", "mib": bytes = 1024 * 1024
        case "g", "gib": bytes = 1024 * 1024 * 1024
        case "t", "tib": bytes = 1024 * 1024 * 1024 * 1024
        case "kb": bytes = 1e3
        case "mb": bytes = 1e6
        case "gb": bytes = 1e9
        case "tb": bytes = 1e12
        default: return nil
        }
        let mib = (number * bytes / 1_048_576).rounded(.up)
        return mib < Double(Int32.max) ? Int(mib) : nil
    }

    public static func describe(mebibytes: Int) -> String {
        mebibytes % 1024 == 0 ? "\(mebibytes / 1024)GiB" : "\(mebibytes)MiB"
    }
}
