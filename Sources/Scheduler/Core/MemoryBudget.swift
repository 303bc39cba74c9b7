/// The host memory one task may use, and the check of a built-in model's estimated peak
/// against it, made before the task starts (so a config that would exhaust the machine is
/// refused with its figures instead of meeting the OOM killer hours later). Pure: the
/// limit is read by `HostMemory`. Concurrency is not counted: each task is checked alone.
public struct MemoryBudget: Equatable, Sendable {
    /// min(MemTotal, the cgroup's memory.max), in bytes.
    public let bytes: Int
    /// Where `bytes` came from, for the message: `MemTotal in /proc/meminfo`, or the cgroup's file.
    public let source: String

    public init(bytes: Int, source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// Throws when `estimate` (bytes) exceeds the budget; `what` names the work in the message.
    public func check(estimate: Int, what: String) throws(SchemaError) {
        guard estimate > bytes else { return }
        throw SchemaError(source: "", key: nil,
                          message: "\(what) needs about \(Self.describe(estimate)) of memory at its peak, more than the \(Self.describe(bytes)) this machine allows a task (\(source)); make it smaller")
    }

    /// Bytes as people read them: 512.0 MiB, 23.5 GiB.
    public static func describe(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(bytes) bytes" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}

/// A built-in model that can say, before it starts, how many bytes it will hold at its
/// peak (an estimate from its parameters; the figure `MemoryBudget` checks).
public protocol MemoryEstimating {
    /// Estimated peak bytes; saturates at Int.max.
    var peakBytes: Int { get }
    /// What the estimate is of, for messages: `kuramoto with 100000 nodes at density 0.3`.
    var estimateDescription: String { get }
}
