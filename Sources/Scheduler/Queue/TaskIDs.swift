import Glibc

/// Task ids: 1, 2, 3, … in submission order, unique within a queue folder, short enough to
/// type into `cancel`. The next one is kept in `next-id` and reserved (written durably,
/// under submit.lock) *before* the journal append, so a crash can skip ids but never hand
/// one out twice. A second `submitted` event with a taken id is dropped as a replay, so a
/// reused id would lose a task: random 32-bit ids did, about once per 100,000 tasks.
/// Ids stay below `QueueLimits.taskIDLimit` (10^15).
public enum TaskIDs {
    /// Reserves `count` ids and returns the first. Call with submit.lock held.
    /// `warn` hears about a damaged `next-id`, which is replaced (see `next`).
    static func reserve(_ count: Int, in folder: QueueFolder, warn: (String) -> Void = { _ in }) throws(SystemError) -> Int {
        let first = try next(in: folder, warn: warn)
        guard count >= 0, count < QueueLimits.taskIDLimit - first else {
            throw SystemError("cannot reserve \(count) task id(s) from \(first): ids stop below \(QueueLimits.taskIDLimit); start a new queue folder", errno: EOVERFLOW)
        }
        if count > 0 { try FileIO.writeAtomically(folder.nextID, Array("\(first + count)\n".utf8), access: .owner) }
        return first
    }

    /// Reads a `next-id` file's content: decimal digits, then at most one line break; the
    /// value is 1 or more and below `QueueLimits.taskIDLimit`. Throws on anything else,
    /// never traps.
    public static func parseNextID(bytes: ArraySlice<UInt8>) throws(QueueDecodeError) -> Int {
        var digits = bytes
        if digits.last == UInt8(ascii: "\n") { digits = digits.dropLast() }
        guard !digits.isEmpty else { throw QueueDecodeError("empty") }
        guard digits.allSatisfy(QueueLimits.isDigit) else {
            throw QueueDecodeError("not a decimal number ('\(QueueText.shown(String(decoding: digits, as: UTF8.self)))')")
        }
        let text = String(decoding: digits, as: UTF8.self)
        guard let value = QueueLimits.numericID(text) else {
            throw QueueDecodeError("out of range (\(QueueText.shown(text))); ids are 1 to \(QueueLimits.taskIDLimit - 1)")
        }
        return value
    }

    /// The next free id: from `next-id`, or, when that file is missing (a queue made before
    /// it existed) or damaged, one past the largest numeric id in the journal. That is
    /// safe: every id handed out is in the journal (compaction keeps every task), and ids
    /// reserved by a submit that never reached the journal were never used. A damaged
    /// file is reported to `warn`; the next `reserve` replaces it.
    static func next(in folder: QueueFolder, warn: (String) -> Void = { _ in }) throws(SystemError) -> Int {
        var damage: String?
        if let bytes = try? FileIO.read(folder.nextID) {
            do { return try parseNextID(bytes: bytes[...]) } catch { damage = error.problem }
        }
        var largest = 0
        try Journal(folder: folder).readAll(light: true) { event in
            if case .submitted(let task) = event, let number = QueueLimits.numericID(task.id) { largest = max(largest, number) }
        }
        if let damage {
            warn("next-id file \(QueueText.shown(folder.nextID, limit: 4096)): \(damage); it is damaged, so the next id comes from the journal (\(largest + 1)) and the file is rewritten")
        }
        return largest + 1
    }
}
