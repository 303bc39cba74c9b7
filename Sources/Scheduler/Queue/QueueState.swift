/// The queue as the journal describes it, folded event by event. Pure: no I/O, so tests
/// and the scheduler's crash recovery apply the same rules.
public struct QueueState: Sendable {
    public enum Phase: Equatable, Sendable {
        case queued
        case running(attempt: Int, device: String, slot: Int, pid: Int32, since: Int64)
        case ended(TaskStatus, exitCode: Int32?, signal: Int32?, at: Int64)
        case cancelled(at: Int64)

        /// Queued or running: not yet ended.
        public var isOpen: Bool {
            switch self {
            case .queued, .running: return true
            case .ended, .cancelled: return false
            }
        }
    }

    public struct Entry: Sendable {
        public var task: QueueTask
        public var phase: Phase
        /// Attempts started so far; the next one is `attempts + 1`.
        public var attempts: Int
        public var cancelRequested: Bool
        /// Failed attempts that were retried (`submit --retries`): an interrupted attempt
        /// spends no retry.
        public var failures = 0
    }

    /// Tasks in submission order; `position` finds one by id. (Entries are large: keeping
    /// them in an array rather than a dictionary's buckets halves a big queue's memory.)
    public private(set) var entries: [Entry] = []
    private var position: [String: Int] = [:]
    /// Tasks per phase name (queued, running, succeeded, failed, timed_out, cancelled),
    /// kept as events apply so counts never need a scan.
    public private(set) var counts: [String: Int] = [:]
    /// Index into `entries` before which nothing is queued (keeps `nextQueued` cheap).
    private var queuedFrom = 0
    /// The same per pool (0: GPU-pool tasks, 1: tasks whose resources ask for the CPU pool).
    private var poolFrom = [0, 0]
    private var interned: Set<String> = []
    /// Some task has a priority or dependencies: the scheduler then picks by
    /// `orderedQueued` rather than in plain submission order.
    public private(set) var hasOrdering = false

    private mutating func intern(_ text: String) -> String {
        if let existing = interned.firstIndex(of: text) { return interned[existing] }
        interned.insert(text)
        return text
    }

    public static func name(of phase: Phase) -> String {
        switch phase {
        case .queued: return "queued"
        case .running: return "running"
        case .ended(let status, _, _, _): return status.rawValue
        case .cancelled: return "cancelled"
        }
    }

    private mutating func set(_ id: String, _ entry: inout Entry, to phase: Phase) {
        counts[Self.name(of: entry.phase), default: 0] -= 1
        counts[Self.name(of: phase), default: 0] += 1
        entry.phase = phase
        store(id, entry)
    }

    private mutating func store(_ id: String, _ entry: Entry) {
        if let index = position[id] { entries[index] = entry }
    }

    public init() {}

    public subscript(id: String) -> Entry? { position[id].map { entries[$0] } }

    /// Room for about `count` tasks, so folding a long journal does not grow (and copy)
    /// the entries array a dozen times.
    public mutating func reserve(_ count: Int) {
        entries.reserveCapacity(count)
        position.reserveCapacity(count)
    }

    /// Task ids in submission order.
    public var order: [String] { entries.map(\.task.id) }
    public var count: Int { entries.count }

    public mutating func apply(_ event: QueueEvent) {
        switch event {
        case .submitted(let task):
            guard position[task.id] == nil else { return }
            var task = task
            // Most tasks share their folder and program: keep one copy of each string.
            task.cwd = intern(task.cwd)
            if !task.argv.isEmpty { task.argv[0] = intern(task.argv[0]) }
            if task.command == task.label { task.command = task.label }
            position[task.id] = entries.count
            if task.priority != 0 || !task.after.isEmpty { hasOrdering = true }
            entries.append(Entry(task: task, phase: .queued, attempts: 0, cancelRequested: false))
            counts["queued", default: 0] += 1
        case .started(let id, let attempt, let device, let slot, let pid, let time):
            guard var entry = self[id], attempt > entry.attempts else { return }
            entry.attempts = attempt
            if case .queued = entry.phase {
                set(id, &entry, to: .running(attempt: attempt, device: device, slot: slot, pid: pid, since: time))
            } else {
                store(id, entry)
            }
        case .ended(let id, let attempt, let exitCode, let signal, let status, let time):
            guard var entry = self[id], isCurrent(entry, attempt) else { return }
            if !entry.cancelRequested && entry.task.retry.retries(attempt: entry.failures + 1, status: status, exit: TaskExit(exitCode: exitCode, signal: signal)) {
                // Retried: queued again, in its place in line (`submit --retries`).
                entry.failures += 1
                set(id, &entry, to: .queued)
                requeued(id)
                return
            }
            set(id, &entry, to: entry.cancelRequested ? .cancelled(at: time) : .ended(status, exitCode: exitCode, signal: signal, at: time))
        case .interrupted(let id, let attempt, let time):
            guard var entry = self[id], isCurrent(entry, attempt) else { return }
            set(id, &entry, to: entry.cancelRequested ? .cancelled(at: time) : .queued)
            requeued(id)
        case .cancelled(let id, let time):
            guard var entry = self[id] else { return }
            switch entry.phase {
            case .queued: set(id, &entry, to: .cancelled(at: time))
            case .running:
                entry.cancelRequested = true
                store(id, entry)
            case .ended, .cancelled: return
            }
        case .restarted(let id, let env, let overwrite, _):
            guard var entry = self[id], !entry.phase.isOpen else { return }
            entry.cancelRequested = false
            if let env { entry.task.environment = env }
            if overwrite { entry.task.overwrite = true }
            set(id, &entry, to: .queued)
            if let index = position[id] {
                queuedFrom = min(queuedFrom, index)
                poolFrom = poolFrom.map { min($0, index) }
            }
        case .drain:
            // A drain is for the scheduler running when it was asked, not for later ones:
            // the scheduler acts on it as it reads it (QueueScheduler.apply(external:)).
            break
        case .dependencyFailed(let id, _, let time):
            guard var entry = self[id], entry.phase == .queued else { return }
            set(id, &entry, to: .ended(.dependencyFailed, exitCode: nil, signal: nil, at: time))
        }
    }

    /// Whether a queued task may start as far as its `after:` goes.
    public enum Readiness: Equatable, Sendable {
        case ready
        case waiting
        /// It never will: this task it runs after ended without succeeding, or is unknown.
        case blocked(by: String)
    }

    public func readiness(_ task: QueueTask) -> Readiness {
        var waiting = false
        for id in task.after {
            guard let entry = self[id] else { return .blocked(by: id) }
            switch entry.phase {
            case .ended(.succeeded, _, _, _): continue
            case .queued, .running: waiting = true
            case .ended, .cancelled: return .blocked(by: id)
            }
        }
        return waiting ? .waiting : .ready
    }

    /// Queued tasks at or after `start` (of one pool; nil: both) that may start now, by
    /// priority (higher first), ties in submission order. Used once `hasOrdering`; it
    /// scans the queue, which only queues with priorities or dependencies pay for.
    public func orderedQueued(from start: Int, cpuPool: Bool?) -> [Int] {
        var ready: [Int] = []
        var index = start
        while index < entries.count {
            let entry = entries[index]
            if entry.phase == .queued && (cpuPool == nil || entry.task.resources.wantsCPUPool == cpuPool)
                && (entry.task.after.isEmpty || readiness(entry.task) == .ready) {
                ready.append(index)
            }
            index += 1
        }
        // A stable sort: equal priorities keep submission order.
        return ready.enumerated().sorted { a, b in
            let (pa, pb) = (entries[a.element].task.priority, entries[b.element].task.priority)
            return pa != pb ? pa > pb : a.offset < b.offset
        }.map(\.element)
    }

    /// Queued tasks that will never start because of their `after:`, each with the task
    /// that blocks it.
    public func blockedByDependencies() -> [(id: String, by: String)] {
        entries.compactMap { entry in
            guard entry.phase == .queued, !entry.task.after.isEmpty, case .blocked(let by) = readiness(entry.task) else { return nil }
            return (entry.task.id, by)
        }
    }

    private mutating func requeued(_ id: String) {
        if let index = position[id] {
            queuedFrom = min(queuedFrom, index)
            poolFrom = poolFrom.map { min($0, index) }
        }
    }

    /// An end or interruption counts only for the attempt that is running.

    private func isCurrent(_ entry: Entry, _ attempt: Int) -> Bool {
        if case .running(let running, _, _, _, _) = entry.phase { return running == attempt }
        return false
    }

    /// The first queued task in submission order.
    public mutating func nextQueued() -> QueueTask? {
        while queuedFrom < entries.count {
            if entries[queuedFrom].phase == .queued { return entries[queuedFrom].task }
            queuedFrom += 1
        }
        return nil
    }

    /// The task's index in `entries`.
    public func position(of id: String) -> Int? { position[id] }

    /// Where the queued tasks of one pool start (`cpuPool` nil: of both): every queued task
    /// of that pool is at this index or after it in `entries`.
    public mutating func queuedStart(cpuPool: Bool?) -> Int {
        guard let cpuPool else {
            _ = nextQueued()
            return queuedFrom
        }
        let pool = cpuPool ? 1 : 0
        while poolFrom[pool] < entries.count {
            let entry = entries[poolFrom[pool]]
            if entry.phase == .queued && entry.task.resources.wantsCPUPool == cpuPool { break }
            poolFrom[pool] += 1
        }
        return poolFrom[pool]
    }

    /// The next `count` queued tasks in submission order, without moving the cursor.
    public func firstQueued(_ count: Int) -> [Entry] {
        var found: [Entry] = []
        var index = queuedFrom
        while index < entries.count && found.count < count {
            if entries[index].phase == .queued { found.append(entries[index]) }
            index += 1
        }
        return found
    }

    public var running: [Entry] {
        entries.filter { if case .running = $0.phase { return true }; return false }
    }

    public var queuedCount: Int { counts["queued", default: 0] }
    public var runningCount: Int { counts["running", default: 0] }
    public var isIdle: Bool { queuedCount == 0 && runningCount == 0 }
    /// Tasks that ended (any status but cancelled), and all that are not cancelled: k and N.
    public var endedCount: Int { entries.count - queuedCount - runningCount - counts["cancelled", default: 0] }
    public var activeCount: Int { entries.count - counts["cancelled", default: 0] }

    /// Events that rebuild this state: what compaction writes in place of the journal.
    public var compacted: [QueueEvent] {
        var events: [QueueEvent] = []
        for entry in entries {
            let id = entry.task.id
            events.append(.submitted(entry.task))
            // Retried failures first, as attempts 1...failures that ended with a code the
            // task's --retry-on takes, so folding them counts the retries spent again.
            let code = entry.task.retry.codes?.first ?? 1
            for attempt in 1...max(entry.failures, 1) where entry.failures > 0 {
                events.append(.started(id: id, attempt: attempt, device: "", slot: 0, pid: 0, time: 0))
                events.append(.ended(id: id, attempt: attempt, exitCode: code, signal: nil, status: .failed, time: 0))
            }
            switch entry.phase {
            case .queued:
                // Keep the attempt count: the next start is attempt `attempts + 1`.
                if entry.attempts > 0 {
                    events.append(.started(id: id, attempt: entry.attempts, device: "", slot: 0, pid: 0, time: 0))
                    events.append(.interrupted(id: id, attempt: entry.attempts, time: 0))
                }
            case .running(let attempt, let device, let slot, let pid, let since):
                events.append(.started(id: id, attempt: attempt, device: device, slot: slot, pid: pid, time: since))
                if entry.cancelRequested { events.append(.cancelled(id: id, time: since)) }
            case .ended(.dependencyFailed, _, _, let at) where entry.attempts == 0:
                events.append(.dependencyFailed(id: id, after: "", time: at))
            case .ended(let status, let exitCode, let signal, let at):
                events.append(.started(id: id, attempt: max(entry.attempts, 1), device: "", slot: 0, pid: 0, time: at))
                events.append(.ended(id: id, attempt: max(entry.attempts, 1), exitCode: exitCode, signal: signal, status: status, time: at))
            case .cancelled(let at):
                events.append(.cancelled(id: id, time: at))
            }
        }
        return events
    }
}
