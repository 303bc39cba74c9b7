import Glibc

/// The queue's append-only event log (JSON lines). Appenders hold journal.lock shared;
/// compaction holds it exclusive while it swaps in a shorter journal, so no append is
/// ever written into a file that is being replaced.
public final class Journal {
    public let folder: QueueFolder
    /// Bytes of the journal already read by `readNew`.
    private var offset = 0
    /// The journal's inode when `offset` was taken: a compaction swaps the file.
    private var inode: ino_t = 0
    private var partial: [UInt8] = []
    /// Complete lines read so far (line numbers in messages about a damaged line).
    private var lines = 0

    public init(folder: QueueFolder) { self.folder = folder }

    /// A prefix of the journal file: which file (a compaction swaps it) and how many bytes.
    public struct Mark: Equatable, Sendable {
        public var inode: UInt64
        public var size: Int

        /// The whole journal as it is now.
        public static func current(_ folder: QueueFolder) -> Mark? {
            var info = stat()
            guard stat(folder.journal, &info) == 0 else { return nil }
            return Mark(inode: UInt64(info.st_ino), size: Int(info.st_size))
        }
    }

    /// The complete lines read so far: what a caller that applied every event has folded.
    public var mark: Mark { Mark(inode: UInt64(inode), size: offset - partial.count) }

    /// Appends events as whole lines in one write, fsynced before returning: the caller
    /// acts on an event only once it is durable. Returns the journal just before and just
    /// after the write when nobody else appended in between (so these events are exactly
    /// the bytes between the two), else nil.
    @discardableResult
    public func append(_ events: [QueueEvent], sync: Bool = true) throws(SystemError) -> (before: Mark, after: Mark)? {
        guard !events.isEmpty else { return nil }
        let bytes = QueueEvent.lines(events)
        guard let lock = try FileLock(path: folder.journalLock, mode: .shared, wait: true) else { return nil }
        defer { _ = lock }
        let fd = try FileIO.openForWriting(folder.journal, O_RDWR | O_APPEND, access: .owner)
        defer { close(fd) }
        // Appenders take turns on the journal itself (journal.lock is shared among them):
        // a torn tail is repaired, and a failed write removed, by one appender at a time.
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        let before = Self.mark(of: fd)
        try FileIO.appendWholeLines(fd, bytes, path: folder.journal, sync: sync)
        guard let before, let after = Self.mark(of: fd), after.size - before.size == bytes.count else { return nil }
        return (before, after)
    }

    private static func mark(of fd: Int32) -> Mark? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return Mark(inode: UInt64(info.st_ino), size: Int(info.st_size))
    }

    /// Every event in the journal. A torn last line (a crash mid-write: no line break after
    /// it) is skipped; any other line that is not an event throws a `SystemError` whose
    /// `damage` names the journal and the line.
    /// `light`: what `status` needs only (see `QueueEvent(line:light:)`).
    public func readAll(light: Bool = false) throws(SystemError) -> [QueueEvent] {
        var events: [QueueEvent] = []
        try readAll(light: light) { events.append($0) }
        return events
    }

    /// The same, handing each event to `body` as it is read: memory stays at one chunk
    /// however long the journal is.
    public func readAll(light: Bool = false, _ body: (QueueEvent) -> Void) throws(SystemError) {
        offset = 0
        inode = 0
        partial = []
        lines = 0
        try readNew(light: light, body)
    }

    /// Events appended since the last read. Starts over after a compaction replaced the
    /// file (replaying is harmless: events are idempotent).
    public func readNew(light: Bool = false) throws(SystemError) -> [QueueEvent] {
        var events: [QueueEvent] = []
        try readNew(light: light) { events.append($0) }
        return events
    }

    public func readNew(light: Bool = false, _ body: (QueueEvent) -> Void) throws(SystemError) {
        var info = stat()
        guard stat(folder.journal, &info) == 0 else { return }
        if info.st_ino != inode || info.st_size < offset {
            inode = info.st_ino
            offset = 0
            partial = []
            lines = 0
        }
        guard info.st_size > offset else { return }
        let fd = open(folder.journal, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open \(folder.journal)", errno: errno) }
        defer { close(fd) }
        // 1 MB at a time; an unfinished last line waits for the next chunk (or the next
        // read: it may still be being written).
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            offset += count
            var bytes = partial
            bytes.append(contentsOf: chunk[..<count])
            let end = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            var start = 0
            while start < end {
                let newline = bytes[start..<end].firstIndex(of: UInt8(ascii: "\n")) ?? end
                let line = bytes[start..<newline]
                // A blank line (one left by a hand edit) says nothing; skip it.
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    do {
                        body(try QueueEvent.decode(line: line, light: light))
                    } catch {
                        // Stop before it: the next read finds the same line again.
                        offset -= bytes.count - start
                        partial = []
                        throw SystemError(QueueFileError(.journal, path: folder.journal, line: lines + 1, problem: error.problem))
                    }
                }
                lines += 1
                start = newline + 1
            }
            partial = Array(bytes[end...])
        }
    }

    /// Replaces the journal with `events` (the folded state): write, fsync, rename, under
    /// the exclusive lock so no append is lost in between. Returns events appended since
    /// the caller's last read, which the caller must still apply.
    @discardableResult
    public func compact(to events: [QueueEvent]) throws(SystemError) -> [QueueEvent] {
        guard let lock = try FileLock(path: folder.journalLock, mode: .exclusive, wait: true) else { return [] }
        defer { _ = lock }
        // Appends that landed since our last read are folded in by the caller next time;
        // carry them over so they are not lost with the old file.
        let read = (offset, inode, partial, lines)
        let late = try readNew()
        do { try FileIO.writeAtomically(folder.journal, QueueEvent.lines(events + late), access: .owner) } catch {
            // Not compacted (a full disk): the late events are read again by the next readNew.
            (offset, inode, partial, lines) = read
            throw error
        }
        var info = stat()
        if stat(folder.journal, &info) == 0 {
            inode = info.st_ino
            offset = Int(info.st_size)
            partial = []
            lines = events.count + late.count
        }
        return late
    }
}
