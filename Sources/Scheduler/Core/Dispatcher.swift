/// The scheduling core: which task runs next and where, and how many have ended.
/// Pure state transitions, no I/O, so tests drive it step by step.
///
/// Tasks are numbered 0..<taskCount and start in that order. The caller starts a task for
/// each launch it is given, reports each end with `taskEnded`, and calls `stop()` on
/// shutdown; after that no task is launched again.
public struct Dispatcher: Sendable {
    public enum TaskState: Equatable, Sendable {
        case queued
        case running(Slot)
        case ended(TaskStatus)
    }

    public let taskCount: Int
    public private(set) var pool: SlotPool
    public private(set) var states: [TaskState]
    public private(set) var runningCount = 0
    /// k of the `[k/N]` log lines: every ended task counts, whatever its status.
    public private(set) var endedCount = 0
    public private(set) var isStopping = false
    private var nextQueued = 0

    public init(taskCount: Int, pool: SlotPool) {
        precondition(pool.count > 0, "a dispatcher needs at least one slot")
        self.taskCount = taskCount
        self.pool = pool
        self.states = Array(repeating: .queued, count: taskCount)
    }

    /// The next task to start and its slot, or nil when no slot is free, the queue is
    /// empty, or the run is stopping. Call until nil after every change.
    public mutating func nextLaunch() -> (task: Int, slot: Slot)? {
        guard !isStopping, nextQueued < taskCount, let slot = pool.acquire() else { return nil }
        let task = nextQueued
        nextQueued += 1
        states[task] = .running(slot)
        runningCount += 1
        return (task, slot)
    }

    /// Records the end of a running task, frees its slot, and returns its k.
    @discardableResult
    public mutating func taskEnded(_ task: Int, status: TaskStatus) -> Int {
        guard case .running(let slot) = states[task] else {
            preconditionFailure("task \(task) ended but was not running")
        }
        pool.release(slot)
        states[task] = .ended(status)
        runningCount -= 1
        endedCount += 1
        return endedCount
    }

    /// Start nothing more; running tasks still end through `taskEnded`.
    public mutating func stop() { isStopping = true }

    /// Nothing runs and nothing more will start.
    public var isDone: Bool { runningCount == 0 && (isStopping || nextQueued == taskCount) }

    /// Tasks that never started (left in the queue by `stop()`).
    public var notStarted: Range<Int> { nextQueued..<taskCount }

    /// The next `count` tasks to start, in order (none once stopping).
    public func upcoming(_ count: Int) -> Range<Int> {
        isStopping ? nextQueued..<nextQueued : nextQueued..<min(taskCount, nextQueued + count)
    }

    public func count(of status: TaskStatus) -> Int {
        states.lazy.filter { $0 == .ended(status) }.count
    }
}
