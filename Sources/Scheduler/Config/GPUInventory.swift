import Glibc

/// One GPU as nvidia-smi reports it.
public struct GPU: Equatable, Sendable {
    public let index: String
    public let uuid: String
    public let pciBusID: String
    public let name: String
    public let memoryTotalMiB: Int
    public let memoryUsedMiB: Int

    public init(index: String, uuid: String, pciBusID: String = "", name: String = "", memoryTotalMiB: Int = 0, memoryUsedMiB: Int = 0) {
        self.index = index
        self.uuid = uuid
        self.pciBusID = pciBusID
        self.name = name
        self.memoryTotalMiB = memoryTotalMiB
        self.memoryUsedMiB = memoryUsedMiB
    }
}

/// Finds the machine's GPUs with nvidia-smi, strictly: a nvidia-smi that fails or prints
/// something unexpected is an error, never a silent "no GPUs".
public enum GPUInventory {
    /// A reading given up for a signal that the caller's loop must handle first.
    public static let interrupted = UsageError("nvidia-smi was interrupted by a signal")

    public static let arguments = ["--query-gpu=index,uuid,pci.bus_id,name,memory.total,memory.used",
                                   "--format=csv,noheader,nounits"]

    /// The GPUs found; nil when nvidia-smi is not installed. `timeout`: seconds it may
    /// take before it counts as hung (`--probe-timeout`, 10 by default).
    /// `interruptedBy`: a loop's signalfd (see `ProcessCapture.run`); then an interrupted
    /// reading throws `interrupted`.
    public static func discover(timeout: Double = 10, interruptedBy signals: Int32? = nil) throws(UsageError) -> [GPU]? {
        guard let program = ExecutableLookup.resolve("nvidia-smi") else { return nil }
        let output: ProcessCapture.Output
        do {
            output = try ProcessCapture.run(program, arguments, timeout: timeout, interruptedBy: signals)
        } catch where error.code == EINTR {
            throw interrupted
        } catch where error.code == ETIMEDOUT {
            throw UsageError("nvidia-smi did not answer within \(Clock.duration(timeout)) (\(program)); check the NVIDIA driver (run nvidia-smi by hand), raise --probe-timeout, or pass -gpu false -d N to run on the CPU")
        } catch {
            throw UsageError("could not run nvidia-smi to find GPUs (\(error)); to run on the CPU instead, pass -gpu false -d N")
        }
        guard output.exit.exitCode == 0 else {
            let detail = output.stderr.split(separator: "\n").first.map { ": \($0)" } ?? ""
            let how = output.exit.exitCode.map { "exit code \($0)" } ?? "signal \(output.exit.signal ?? 0)"
            throw UsageError("nvidia-smi failed (\(how))\(detail); check the NVIDIA driver, or pass -gpu false -d N to run on the CPU")
        }
        return try parse(output.stdout)
    }

    public static func parse(_ text: String) throws(UsageError) -> [GPU] {
        var gpus: [GPU] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimming(" \t\r")
            if trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimming(" \t") }
            guard fields.count == 6, !fields[0].isEmpty, fields[0].allSatisfy(\.isASCIIDigit), !fields[1].isEmpty,
                  let total = Int(fields[4]), let used = Int(fields[5]), total >= 0, used >= 0 else {
                throw UsageError("nvidia-smi printed an unexpected line \(number + 1): '\(trimmed)' (expected 'index, uuid, pci.bus_id, name, memory.total, memory.used' in MiB); pass -gpu false -d N to run on the CPU")
            }
            gpus.append(GPU(index: fields[0], uuid: fields[1], pciBusID: fields[2], name: fields[3], memoryTotalMiB: total, memoryUsedMiB: used))
        }
        return gpus
    }
}

/// The GPUs a run may use, in `-d` order: every GPU nvidia-smi lists, or, when multirun's
/// own environment has CUDA_VISIBLE_DEVICES (a Slurm allocation, a container, a user's
/// restriction), exactly the entries of that list.
public struct DeviceUniverse: Sendable {
    public struct Entry: Sendable {
        /// The entry as inherited (an index, a `GPU-` or a `MIG-` UUID), or nvidia-smi's index.
        public let id: String
        /// What nvidia-smi says of it; nil for MIG instances and entries it does not list.
        public let gpu: GPU?

        public var uuid: String? { id.hasPrefix("GPU-") || id.hasPrefix("MIG-") ? id : gpu?.uuid }
    }

    public enum IDKind: String, Sendable { case index, uuid }

    public let entries: [Entry]
    /// Where the list came from, for messages: "nvidia-smi" or "CUDA_VISIBLE_DEVICES=…".
    public let source: String

    public init(entries: [Entry], source: String) {
        self.entries = entries
        self.source = source
    }

    /// `inherited`: the parent's CUDA_VISIBLE_DEVICES, if set; `gpus`: nvidia-smi's list (nil
    /// when it is not installed).
    public static func make(inherited: String?, gpus: [GPU]?) throws(UsageError) -> DeviceUniverse {
        guard let inherited else {
            guard let gpus, !gpus.isEmpty else {
                throw UsageError("no GPU found (nvidia-smi is \(gpus == nil ? "not installed" : "listing none")); to run on the CPU, pass -gpu false -d N")
            }
            return DeviceUniverse(entries: gpus.map { Entry(id: $0.index, gpu: $0) }, source: "nvidia-smi")
        }
        let source = "CUDA_VISIBLE_DEVICES=\(inherited)"
        let ids = inherited.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimming(" ") }
        if inherited.trimming(" ").isEmpty || ids.contains("") || ids.contains("-1") {
            throw UsageError("\(source) hides every GPU (or has an empty entry); unset it or list devices, or pass -gpu false -d N to run on the CPU")
        }
        if Set(ids).count != ids.count {
            throw UsageError("\(source) lists a device twice; list each GPU once")
        }
        var entries: [Entry] = []
        for id in ids {
            let known = gpus?.first { $0.index == id || $0.uuid == id }
            if known == nil && !id.hasPrefix("MIG-") {
                let isIndex = id.allSatisfy(\.isASCIIDigit), isUUID = id.hasPrefix("GPU-")
                if !isIndex && !isUUID {
                    throw UsageError("\(source): '\(id)' is neither a GPU index nor a GPU-/MIG- UUID; fix CUDA_VISIBLE_DEVICES")
                }
                if let gpus {
                    let listed = gpus.map(\.index).joined(separator: ", ")
                    throw UsageError("\(source): nvidia-smi lists no GPU '\(id)' (it lists \(listed.isEmpty ? "none" : listed)); fix CUDA_VISIBLE_DEVICES")
                }
            }
            entries.append(Entry(id: id, gpu: known))
        }
        return DeviceUniverse(entries: entries, source: source)
    }

    /// What tasks get in CUDA_VISIBLE_DEVICES for each position.
    public func ids(_ kind: IDKind) throws(UsageError) -> [String] {
        var ids: [String] = []
        for (position, entry) in entries.enumerated() {
            switch kind {
            case .index:
                ids.append(entry.id)
            case .uuid:
                guard let uuid = entry.uuid else {
                    throw UsageError("--cvd uuid: no UUID known for GPU '\(entry.id)' (position \(position)); install nvidia-smi or use --cvd index")
                }
                ids.append(uuid)
            }
        }
        return ids
    }
}

extension StringProtocol {
    /// Drops the given characters from both ends.
    func trimming(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
