import Glibc

/// The submitter's environment, captured once per submit (not per task) into
/// `env/<first-task-id>.env` in the queue folder: its `NAME=value` entries byte for byte,
/// each ended by a NUL. Each submitted event names the file its task uses (`"env"`), and the
/// scheduler starts the task with that environment instead of its own, less the variables
/// multirun sets per task (`TaskEnvironment.isOurs`).
enum EnvironmentFile {
    /// The journal's name for the file of a submit whose first task is `id` (ids are never
    /// reused, so neither is the name).
    static func name(firstTask id: String) -> String { "env/\(id).env" }

    /// This process's environment as the file holds it. Raw bytes: a value need not be UTF-8.
    static func currentBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        var pointer = environ
        while let entry = pointer.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { start in
                bytes.append(contentsOf: UnsafeBufferPointer(start: start, count: length))
            }
            bytes.append(0)
            pointer += 1
        }
        return bytes
    }

    /// Writes `bytes` as `name` (from `name(firstTask:)`): mode 0600 in a 0700 folder, a new
    /// file (O_EXCL|O_NOFOLLOW), written to a temp file, fsynced, renamed, and the folder
    /// fsynced, so it is durable before the journal names it.
    static func write(_ bytes: [UInt8], as name: String, in queue: QueueFolder) throws(SystemError) {
        let folder = queue.path + "/env"
        if !FileIO.isDirectory(folder) {
            try FileIO.makeDirectories(folder, mode: 0o700)
            // The new folder's own entry must be durable too.
            let parent = open(queue.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if parent >= 0 {
                fsync(parent)
                close(parent)
            }
        }
        try FileIO.writeAtomically(queue.path + "/" + name, bytes, access: .owner)
    }

    /// The file a journaled name stands for; nil unless the name is `env/FILE`.
    static func path(_ name: String, in queue: QueueFolder) -> String? {
        let file = name.utf8.dropFirst(4)
        guard name.hasPrefix("env/"), !file.isEmpty, !file.contains(UInt8(ascii: "/")),
              !file.elementsEqual(".".utf8), !file.elementsEqual("..".utf8) else { return nil }
        return queue.path + "/" + name
    }

    /// The environment a task of that submit starts with: the captured entries less ours
    /// (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, MULTIRUN_*), to which the per-task ones are added.
    static func load(_ name: String, in queue: QueueFolder) throws(SystemError) -> CStringArray {
        guard let path = path(name, in: queue) else {
            throw SystemError("the journal names the environment file '\(name)', which is not in the queue's env/ folder", errno: EINVAL)
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open the environment captured at submit, \(path)", errno: errno) }
        close(fd)
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch {
            throw SystemError("cannot read the environment captured at submit, \(path)", errno: error.code)
        }
        let entries = bytes.split(separator: 0).filter { entry in
            entry.contains(UInt8(ascii: "=")) && !TaskEnvironment.isOurs(entry)
        }
        return CStringArray(bytes: entries)
    }

    /// Removes the env files no queued or running task names (`used`), and temp files of
    /// submits that died before their rename. Call under submit.lock, with every submit's
    /// events applied: a submit writes its file before it appends its events.
    @discardableResult
    static func removeUnused(keeping used: Set<String>, in queue: QueueFolder) -> Int {
        var removed = 0
        for file in FileIO.names(in: queue.path + "/env") ?? [] where !used.contains("env/" + file) {
            if unlink(queue.path + "/env/" + file) == 0 { removed += 1 }
        }
        return removed
    }
}
