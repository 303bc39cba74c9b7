import Glibc

/// What `multirun status` prints: counts, the running tasks, the head of the queue and the
/// last failures. It is small whatever the queue's size, so it can be kept as a snapshot
/// (`cache/status.json`) tagged with the journal prefix it was folded from: `status` on a
/// queue of 100,000 tasks then reads one small file instead of folding the whole journal.
public struct StatusSummary: Equatable, Sendable {
    public struct Running: Equatable, Sendable {
        public var id: String, label: String, attempt: Int, device: String, slot: Int, pid: Int32, since: Int64
    }

    public struct Queued: Equatable, Sendable {
        public var id: String, label: String
    }

    public struct Failure: Equatable, Sendable {
        public var id: String, label: String, status: TaskStatus, exitCode: Int32?, signal: Int32?, attempts: Int
    }

    public var counts: [String: Int]
    public var running: [Running]
    /// The next `listed` queued tasks, in the order they will start.
    public var queued: [Queued]
    /// The last `listed` tasks that ended without success, oldest first.
    public var failures: [Failure]
    public var failureCount: Int

    public static let listed = 10

    public init(_ state: QueueState) {
        counts = state.counts
        running = state.running.compactMap { entry in
            guard case .running(let attempt, let device, let slot, let pid, let since) = entry.phase else { return nil }
            return Running(id: entry.task.id, label: entry.task.label, attempt: attempt, device: device, slot: slot, pid: pid, since: since)
        }
        queued = state.firstQueued(Self.listed).map { Queued(id: $0.task.id, label: $0.task.label) }
        failureCount = state.counts.filter { !["queued", "running", "cancelled", TaskStatus.succeeded.rawValue].contains($0.key) }.values.reduce(0, +)
        var failures: [Failure] = []
        for entry in state.entries.reversed() where failures.count < min(Self.listed, failureCount) {
            guard case .ended(let status, let exitCode, let signal, _) = entry.phase, status != .succeeded else { continue }
            failures.append(Failure(id: entry.task.id, label: entry.task.label, status: status, exitCode: exitCode,
                                    signal: signal, attempts: entry.attempts))
        }
        self.failures = failures.reversed()
    }

    // MARK: - Snapshot

    /// The snapshot, if it was folded from exactly the journal as it is now (same file,
    /// same length: the journal only grows, and a compaction swaps in a new file).
    public static func readSnapshot(_ folder: QueueFolder) -> StatusSummary? {
        Journal.Mark.current(folder).flatMap { snapshot(folder, taggedWith: $0) }
    }

    private static func snapshot(_ folder: QueueFolder, taggedWith mark: Journal.Mark) -> StatusSummary? {
        // A cache: anything odd in it (damage, values out of range) only means it is
        // folded again from the journal.
        guard let bytes = try? FileIO.read(folder.statusSnapshot), bytes.count < 1 << 20, FlatJSON.isWellFormed(bytes[...]),
              let value = try? ConfigParser.parse(bytes: bytes, dialect: .json, source: folder.statusSnapshot),
              value["journal_inode"]?.int == Int(truncatingIfNeeded: mark.inode), value["journal_size"]?.int == mark.size
        else { return nil }
        return StatusSummary(snapshot: value)
    }

    /// After a submit appended `tasks` as exactly the journal bytes from `before` to `after`:
    /// carries a snapshot that was current at `before` (or none, for a new journal) forward,
    /// so `status` stays one small read while submits feed a queue no scheduler runs yet.
    /// New tasks queue behind every queued one, so they join the listed head only when it
    /// is short. Any other snapshot is left for `status` to replace.
    static func advanceSnapshot(_ folder: QueueFolder, submitted tasks: [QueueTask], from before: Journal.Mark, to after: Journal.Mark) {
        guard var summary = before.size == 0 ? StatusSummary(QueueState()) : snapshot(folder, taggedWith: before) else { return }
        summary.counts["queued", default: 0] += tasks.count
        for task in tasks.prefix(max(0, listed - summary.queued.count)) {
            summary.queued.append(Queued(id: task.id, label: task.label))
        }
        summary.writeSnapshot(folder, mark: after)
    }

    /// Writes the snapshot for the journal prefix `mark`. A cache: atomic, not fsynced, and
    /// a failure only makes the next `status` fold the journal itself.
    public func writeSnapshot(_ folder: QueueFolder, mark: Journal.Mark) {
        let body = JSON.object([
            ("journal_inode", .int(Int64(truncatingIfNeeded: mark.inode))), ("journal_size", .int(Int64(mark.size))),
            ("counts", .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
            ("running", .array(running.map { row in
                .object([("id", .string(row.id)), ("label", .string(row.label)), ("attempt", .int(Int64(row.attempt))),
                         ("device", .string(row.device)), ("slot", .int(Int64(row.slot))), ("pid", .int(Int64(row.pid))),
                         ("since", .int(row.since))])
            })),
            ("queued", .array(queued.map { .object([("id", .string($0.id)), ("label", .string($0.label))]) })),
            ("failures", .array(failures.map { row in
                .object([("id", .string(row.id)), ("label", .string(row.label)), ("status", .string(row.status.rawValue)),
                         ("exit_code", .optional(row.exitCode)), ("signal", .optional(row.signal)),
                         ("attempts", .int(Int64(row.attempts)))])
            })),
            ("failure_count", .int(Int64(failureCount))),
        ])
        mkdir(folder.path + "/cache", 0o700)
        try? FileIO.writeAtomically(folder.statusSnapshot, body.bytes(newline: true), durable: false, access: .owner)
    }

    /// Every number range-checked as the journal's are; nil (fold the journal) otherwise.
    private init?(snapshot value: ConfigValue) {
        func int(_ value: ConfigValue?, _ range: ClosedRange<Int64>) -> Int? {
            guard let number = value?.int, range.contains(Int64(number)) else { return nil }
            return number
        }
        let count: ClosedRange<Int64> = 0...Int64(Int32.max)
        guard case .map(let counts)? = value["counts"], let failureCount = int(value["failure_count"], count) else { return nil }
        self.counts = [:]
        for (key, value) in counts {
            guard let number = int(value, count) else { return nil }
            self.counts[key] = number
        }
        self.failureCount = failureCount
        var running: [Running] = []
        for row in value["running"]?.items ?? [] {
            guard let id = row["id"]?.string, QueueLimits.isValidID(id), let label = row["label"]?.string,
                  let attempt = int(row["attempt"], QueueLimits.attempt), let device = row["device"]?.string,
                  let slot = int(row["slot"], QueueLimits.slot), let pid = int(row["pid"], QueueLimits.pid),
                  let since = int(row["since"], QueueLimits.time) else { return nil }
            running.append(Running(id: id, label: label, attempt: attempt, device: device, slot: slot, pid: Int32(pid), since: Int64(since)))
        }
        var queued: [Queued] = []
        for row in value["queued"]?.items ?? [] {
            guard let id = row["id"]?.string, QueueLimits.isValidID(id), let label = row["label"]?.string else { return nil }
            queued.append(Queued(id: id, label: label))
        }
        var failures: [Failure] = []
        for row in value["failures"]?.items ?? [] {
            guard let id = row["id"]?.string, QueueLimits.isValidID(id), let label = row["label"]?.string,
                  let status = row["status"]?.string.flatMap(TaskStatus.init(rawValue:)), let attempts = int(row["attempts"], count)
            else { return nil }
            var exitCode: Int32?, signal: Int32?
            if let code = row["exit_code"], code != .null {
                guard let code = int(code, QueueLimits.exitCode) else { return nil }
                exitCode = Int32(code)
            }
            if let number = row["signal"], number != .null {
                guard let number = int(number, QueueLimits.signal) else { return nil }
                signal = Int32(number)
            }
            failures.append(Failure(id: id, label: label, status: status, exitCode: exitCode, signal: signal, attempts: attempts))
        }
        self.running = running
        self.queued = queued
        self.failures = failures
    }
}
