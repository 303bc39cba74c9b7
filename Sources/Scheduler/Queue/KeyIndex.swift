import Glibc

/// Which task keys are taken (queued, running, or completed with the same content), as
/// an append-only file of `+KEY ID` and `-KEY ID` lines. A submit reads it once, so the
/// check costs one sequential read of a few MB at 100,000 tasks, and adds its keys in one
/// fsynced write, instead of creating a file per task. The scheduler appends `-` lines
/// when a task fails or is cancelled, and rewrites the file from the journal at start,
/// which both heals a crash between a submit's journal write and its key write and
/// keeps the file short.
struct KeyIndex {
    let path: String

    init(folder: QueueFolder) { path = folder.path + "/keys.idx" }

    /// Key to owning task id, after applying every line in order.
    func load() -> [String: String] {
        guard let bytes = try? FileIO.read(path) else { return [:] }
        var owners: [String: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) where line.count > 2 {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { continue }
            let key = String(decoding: line[(line.startIndex + 1)..<space], as: UTF8.self)
            let id = String(decoding: line[(space + 1)...], as: UTF8.self)
            switch line.first {
            case UInt8(ascii: "+"): owners[key] = id
            case UInt8(ascii: "-"): if owners[key] == id { owners[key] = nil }
            default: continue
            }
        }
        return owners
    }

    /// The key that a queued or running config task holds on its results folder
    /// (`absoluteFolder`), so no second task that writes there is queued or run beside it.
    static func folderKey(_ absoluteFolder: String) -> String {
        "F" + SHA256.hex(Array(FileIO.lexicallyNormalized(absoluteFolder).utf8))
    }

    /// Every key `task` holds while it is queued or running: its own, and its folder's.
    static func openKeys(of task: QueueTask) -> [(key: String, id: String)] {
        [(task.key, task.id)] + (task.identity.map { [(folderKey($0.resultsFolder), task.id)] } ?? [])
    }

    /// Gives up the folder key of a task that ended or was cancelled.
    func releaseFolder(of task: QueueTask) {
        guard let identity = task.identity else { return }
        try? remove(key: Self.folderKey(identity.resultsFolder), id: task.id)
    }

    func add(_ entries: [(key: String, id: String)]) throws(SystemError) {
        try append(entries.map { "+\($0.key) \($0.id)\n" }.joined())
    }

    func remove(key: String, id: String) throws(SystemError) {
        try append("-\(key) \(id)\n")
    }

    /// Replaces the file with exactly `entries` (temp, fsync, rename), built in one buffer.
    func rewrite(_ entries: some Sequence<(String, String)>) throws(SystemError) {
        var bytes: [UInt8] = []
        for (key, id) in entries {
            bytes.append(UInt8(ascii: "+"))
            bytes += key.utf8
            bytes.append(UInt8(ascii: " "))
            bytes += id.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
        try FileIO.writeAtomically(path, bytes, access: .owner)
    }

    private func append(_ text: String) throws(SystemError) {
        guard !text.isEmpty else { return }
        try AppendOnlyFile(path: path, access: .owner).appendWhole(Array(text.utf8), sync: true)
    }

    /// Reserves room for appending `entries` (a submit does this before its journal append,
    /// so a full disk stops it before anything is queued, not between journal and keys).
    func reserve(_ entries: [(key: String, id: String)]) throws(SystemError) {
        let length = entries.reduce(0) { $0 + $1.key.utf8.count + $1.id.utf8.count + 3 }
        guard try AppendOnlyFile(path: path, access: .owner).reserve(length) else { throw SystemError("cannot reserve room in \(path)", errno: ENOSPC) }
    }
}
