import Glibc

/// Reads the memory a task on this machine may use: the smaller of MemTotal
/// (/proc/meminfo) and the memory limit of the cgroup multirun runs in (cgroup v2
/// `memory.max` of its cgroup and every ancestor; cgroup v1 `memory.limit_in_bytes`).
/// See the kernel's Documentation/admin-guide/cgroup-v2.rst, "memory.max".
public enum HostMemory {
    /// The budget, or nil when /proc/meminfo cannot be read (then nothing is checked).
    public static func budget() -> MemoryBudget? {
        guard let total = memTotal() else { return nil }
        var budget = MemoryBudget(bytes: total, source: "MemTotal in /proc/meminfo")
        for (limit, file) in cgroupLimits() where limit < budget.bytes {
            budget = MemoryBudget(bytes: limit, source: "cgroup limit in \(file)")
        }
        return budget
    }

    static func memTotal() -> Int? {
        guard let text = try? FileIO.readText("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kib = Int(fields[1]), kib > 0, kib < Int.max / 1024 else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// Every memory limit set on this process's cgroups, with its file.
    static func cgroupLimits() -> [(Int, String)] {
        guard let text = try? FileIO.readText("/proc/self/cgroup") else { return [] }
        var limits: [(Int, String)] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty {
                // v2: the limit of the cgroup and of each ancestor applies.
                var path = String(parts[2])
                while true {
                    let file = "/sys/fs/cgroup" + (path == "/" ? "" : path) + "/memory.max"
                    if let limit = readLimit(file) { limits.append((limit, file)) }
                    guard path != "/", let cut = path.lastIndex(of: "/") else { break }
                    path = cut == path.startIndex ? "/" : String(path[..<cut])
                }
            } else if parts[1].split(separator: ",").contains("memory") {
                for file in ["/sys/fs/cgroup/memory" + parts[2] + "/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
                    if let limit = readLimit(file) { limits.append((limit, file)); break }
                }
            }
        }
        return limits
    }

    /// A limit file's value in bytes; nil for `max`, unreadable or out-of-range text.
    static func readLimit(_ file: String) -> Int? {
        guard let text = try? FileIO.readText(file) else { return nil }
        let trimmed = text.trimming(" \n")
        guard let value = Int(trimmed), value > 0 else { return nil }
        return value
    }
}
