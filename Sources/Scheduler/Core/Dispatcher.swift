/// The scheduling core of a one-shot run: which task runs next and where, and how many
/// have ended. Pure state transitions, no I/O, so tests drive it step by step.
///
/// Tasks are numbered 0..<taskCount. GPU tasks and CPU tasks wait in two queues, so
/// neither kind blocks the other; within a queue `Placer`'s rule decides. The caller
/// starts a task for each launch it is given, reports each end with `taskEnded`, and
/// calls `stop()` on shutdown; after that no task is launched again.
public struct Dispatcher: Sendable {
    public enum TaskState: Equatable, Sendable {
        case queued
        case running([Slot])
        case ended(TaskStatus)
    }

    public let taskCount: Int
    public private(set) var pool: SlotPool
    public private(set) var states: [TaskState]
    public private(set) var runningCount = 0
    /// k of the `[k/N]` log lines: every ended task counts, whatever its status.
    public private(set) var endedCount = 0
    public private(set) var isStopping = false
    /// Free GPU memory, when some task asks for it; readings come from the caller.
    public private(set) var memory: MemoryGate?
    /// The first GPU task in line has its slots but waits for memory.
    public private(set) var waitingOnMemory = false
    /// `--retries`/`--retry-on`: which failed attempts run again.
    public var retry = RetryPolicy()
    /// `--halt`: when the run stops starting tasks (and, `now`, stops the running ones).
    public var halt: HaltPolicy?
    /// Set once the halt condition holds: the run starts nothing more.
    public private(set) var halted: HaltPolicy?
    /// Each task's attempt number: the running or last attempt (1-based), 0 before the first.
    public private(set) var attempts: [Int]
    /// Tasks whose last attempt failed or timed out, and that succeeded (final ends only).
    public private(set) var failedCount = 0
    public private(set) var succeededCount = 0
    private let demands: [Demand]
    private var queues: [[Int]] = [[], []]
    /// Per queue: tasks before this index have all started.
    private var heads = [0, 0]
    /// Per task: the tasks it runs after (`after:`), and the tasks that run after it.
    private let prerequisites: [[Int]]
    private var dependants: [[Int]]
    /// Per task: how many of its prerequisites have not succeeded yet.
    private var unmet: [Int]
    /// Tasks ended as `dependencyFailed` (with their k) that the caller has not taken yet.
    private var blockedEnds: [(task: Int, k: Int, cause: Int)] = []

    /// Every task needs one slot: a GPU slot when the pool has GPUs, else a CPU slot.
    public init(taskCount: Int, pool: SlotPool) {
        let hasGPU = pool.devices.contains { $0 != .cpu }
        self.init(demands: Array(repeating: hasGPU ? .gpu() : .cpu(), count: taskCount), pool: pool)
    }

    /// `after[i]`: the tasks task i starts only after (all must succeed; the graph must
    /// have no cycle, see `DependencyGraph.cycle`). Empty: no dependencies.
    public init(demands: [Demand], pool: SlotPool, memory: MemoryGate? = nil, after: [[Int]] = []) {
        precondition(pool.count > 0, "a dispatcher needs at least one slot")
        self.prerequisites = after.isEmpty ? [] : after
        var dependants = Array(repeating: [Int](), count: after.isEmpty ? 0 : demands.count)
        for (task, before) in after.enumerated() { for prerequisite in before { dependants[prerequisite].append(task) } }
        self.dependants = dependants
        self.unmet = after.map(\.count)
        self.taskCount = demands.count
        self.demands = demands
        self.pool = pool
        self.memory = memory
        self.states = Array(repeating: .queued, count: demands.count)
        self.attempts = Array(repeating: 0, count: demands.count)
        for (task, demand) in demands.enumerated() { queues[demand.isCPU ? 1 : 0].append(task) }
    }

    /// The next task to start and its slots, or nil when nothing fits, the queue is
    /// empty, or the run is stopping. Call until nil after every change.
    public mutating func nextLaunch(now: UInt64 = 0) -> (task: Int, slots: [Slot])? {
        guard !isStopping else { return nil }
        waitingOnMemory = false
        for queue in 0..<2 {
            while heads[queue] < queues[queue].count, states[queues[queue][heads[queue]]] != .queued { heads[queue] += 1 }
        }
        // The queue whose first task came first in the task order goes first.
        let cpuFirst = heads[1] < queues[1].count && (heads[0] == queues[0].count || queues[1][heads[1]] < queues[0][heads[0]])
        for queue in cpuFirst ? [1, 0] : [0, 1] {
            switch Self.place(queues[queue][heads[queue]...], states: states, demands: demands, unmet: unmet, pool: &pool, memory: &memory, now: now) {
            case .launch(let task, let slots):
                states[task] = .running(slots)
                attempts[task] += 1
                runningCount += 1
                return (task, slots)
            case .wait(let onMemory):
                if queue == 0 { waitingOnMemory = onMemory }
            }
        }
        return nil
    }

    /// Borrows `states` only for the decision, so recording the launch does not copy it.
    private static func place(_ queue: ArraySlice<Int>, states: [TaskState], demands: [Demand], unmet: [Int], pool: inout SlotPool,
                              memory: inout MemoryGate?, now: UInt64) -> Placer.Decision {
        Placer.next(Waiting(rest: queue, states: states, demands: demands, unmet: unmet), pool: &pool, memory: &memory, now: now)
    }

    /// A queue's tasks still waiting, in order, as `Placer` reads them. A type of our own:
    /// a lazy filter-and-map chain made the runtime build its iterator's metadata, with
    /// conformance scans, on the way to the first task.
    private struct Waiting: Sequence, IteratorProtocol {
        var rest: ArraySlice<Int>
        let states: [TaskState]
        let demands: [Demand]
        let unmet: [Int]

        mutating func next() -> (key: Int, demand: Demand)? {
            while let task = rest.popFirst() {
                if states[task] == .queued && (unmet.isEmpty || unmet[task] == 0) { return (task, demands[task]) }
            }
            return nil
        }
    }

    /// Records the end of a running task, frees its slots, and returns its k. No retry.
    @discardableResult
    public mutating func taskEnded(_ task: Int, status: TaskStatus) -> Int {
        guard case .final(let k) = attemptEnded(task, status: status, exit: TaskExit(), retryable: false) else { preconditionFailure() }
        return k
    }

    /// How an attempt's end was taken: the task's last attempt, with its k of `[k/N]`, or
    /// one that runs again (as attempt `next`, first in its queue).
    public enum AttemptOutcome: Equatable, Sendable {
        case final(k: Int)
        case retry(next: Int)
    }

    /// Records the end of a running attempt and frees its slots. A failure the retry
    /// policy covers puts the task back in line (unless the run is stopping); otherwise the
    /// task has ended, counts for k and for the halt condition, which may halt the run.
    public mutating func attemptEnded(_ task: Int, status: TaskStatus, exit: TaskExit, retryable: Bool = true) -> AttemptOutcome {
        guard case .running(let slots) = states[task] else {
            preconditionFailure("task \(task) ended but was not running")
        }
        for slot in slots { pool.release(slot) }
        memory?.taskEnded(task)
        runningCount -= 1
        if retryable && !isStopping && retry.retries(attempt: attempts[task], status: status, exit: exit) {
            states[task] = .queued
            let queue = demands[task].isCPU ? 1 : 0
            if let index = queues[queue].firstIndex(of: task), index < heads[queue] { heads[queue] = index }
            return .retry(next: attempts[task] + 1)
        }
        states[task] = .ended(status)
        endedCount += 1
        let k = endedCount
        settleDependants(of: task, succeeded: status == .succeeded)
        if status == .succeeded { succeededCount += 1 }
        if status == .failed || status == .timedOut { failedCount += 1 }
        if halted == nil, let halt, status != .notStarted, halt.holds(failed: failedCount, succeeded: succeededCount, ended: failedCount + succeededCount) {
            halted = halt
            isStopping = true
        }
        return .final(k: k)
    }

    /// A prerequisite ended: its dependants are one step nearer to ready, or (when it did
    /// not succeed) end as `dependencyFailed`, and theirs after them, without starting.
    private mutating func settleDependants(of task: Int, succeeded: Bool) {
        guard !dependants.isEmpty else { return }
        if succeeded {
            for dependant in dependants[task] { unmet[dependant] -= 1 }
            return
        }
        var failed = [(task, task)]
        while let (ended, cause) = failed.popLast() {
            for dependant in dependants[ended] where states[dependant] == .queued {
                states[dependant] = .ended(.dependencyFailed)
                endedCount += 1
                blockedEnds.append((dependant, endedCount, cause))
                failed.append((dependant, cause))
            }
        }
    }

    /// Tasks ended as `dependencyFailed` since the last call, in the order they took their
    /// k, each with the task whose failure caused it. The caller reports them.
    public mutating func takeDependencyFailures() -> [(task: Int, k: Int, cause: Int)] {
        defer { blockedEnds.removeAll() }
        return blockedEnds
    }

    /// The tasks `task` runs after (empty without dependencies).
    public func prerequisites(of task: Int) -> [Int] { prerequisites.isEmpty ? [] : prerequisites[task] }

    /// A new nvidia-smi reading of each GPU's memory.
    public mutating func recordMemory(_ readings: [Int: MemoryGate.Reading], now: UInt64) {
        memory?.record(readings, now: now)
    }

    /// Whether a placement decision waits on memory that only a reading can tell: a GPU
    /// task that asks for memory is first in line and some GPU has a free slot.
    public var wantsMemoryReading: Bool {
        guard !isStopping, memory != nil else { return false }
        let head = queues[0][heads[0]...].first { states[$0] == .queued && (unmet.isEmpty || unmet[$0] == 0) }
        return MemoryGate.wantsReading(firstInLine: head.map { demands[$0] }, pool: pool)
    }

    /// Start nothing more; running tasks still end through `taskEnded`.
    public mutating func stop() { isStopping = true }

    /// Nothing runs and nothing more will start.
    public var isDone: Bool { runningCount == 0 && (isStopping || endedCount == taskCount) }

    /// Tasks that never started (left in the queue by `stop()`).
    public var notStarted: [Int] { states.indices.filter { states[$0] == .queued } }

    /// The next `count` tasks of each queue, likely to start next (none once stopping).
    public func upcoming(_ count: Int) -> [Int] {
        guard !isStopping else { return [] }
        var found: [Int] = []
        for queue in 0..<2 {
            var index = heads[queue]
            let limit = found.count + count
            while index < queues[queue].count && found.count < limit {
                let task = queues[queue][index]
                if states[task] == .queued && (unmet.isEmpty || unmet[task] == 0) { found.append(task) }
                index += 1
            }
        }
        return found
    }

    public func count(of status: TaskStatus) -> Int {
        states.lazy.filter { $0 == .ended(status) }.count
    }
}

/// The `after:` graph of a run's tasks: what must be refused before anything starts.
public enum DependencyGraph {
    /// One cycle of `after` (task i runs after the tasks `after[i]`), as the tasks in
    /// order with the first repeated at the end (`[a, b, a]`); nil when there is none.
    public static func cycle(_ after: [[Int]]) -> [Int]? {
        // 0: not seen, 1: on the current path, 2: done. Iterative, so a long chain is no recursion.
        var mark = Array(repeating: 0, count: after.count)
        for root in after.indices where mark[root] == 0 {
            var path: [(task: Int, next: Int)] = [(root, 0)]
            mark[root] = 1
            while let (task, next) = path.last {
                if next == after[task].count {
                    mark[task] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let prerequisite = after[task][next]
                if mark[prerequisite] == 1 {
                    let start = path.firstIndex { $0.task == prerequisite }!
                    return path[start...].map(\.task) + [prerequisite]
                }
                if mark[prerequisite] == 0 {
                    mark[prerequisite] = 1
                    path.append((prerequisite, 0))
                }
            }
        }
        return nil
    }

    /// Task indices ordered by priority, highest first; equal priorities keep their order.
    public static func byPriority(_ priorities: [Int]) -> [Int] {
        priorities.indices.sorted { priorities[$0] != priorities[$1] ? priorities[$0] > priorities[$1] : $0 < $1 }
    }
}
