import CSystem
import Glibc

/// `multirun daemon`: the one scheduler of a queue folder. It folds the journal, recovers
/// attempts that were running when the last scheduler died, then sleeps in poll(2) on a
/// signalfd, an inotify watch of the queue folder and the pidfds of adopted attempts.
public final class QueueScheduler {
    public struct Settings: Sendable {
        public var gpuIDs: [String]?
        public var timeout: Double?
        public var grace: Double
        public var exitWhenIdle: Bool
        /// The multirun binary, which runs each attempt's supervisor.
        public var supervisor: String
        /// What submitted `resources:` mean on this scheduler's devices.
        public var policy: DemandPolicy
        /// Reads GPU memory for the free-memory gate (GPU mode with readings for every GPU).
        public var memoryProbe: MemoryProbe?
        /// `daemon --halt`: counts tasks that end while this scheduler runs.
        public var halt: HaltPolicy? = nil
        /// `--on-empty 'CMD'`: run under /bin/sh -c each time the queue becomes empty, with
        /// at most `hookTimeout` seconds (`--on-finish-timeout`).
        public var onEmpty: String? = nil
        /// `--on-finish 'CMD'`: run under /bin/sh -c after each task's last attempt, with the
        /// task's facts in MULTIRUN_* variables, as a one-shot run's hook.
        public var onFinish: String? = nil
        public var hookTimeout: Double = 60
        /// `daemon --joblog FILE`: GNU parallel's joblog, one line per attempt as it ends
        /// (Seq is the task id); as `JobLog` takes it (`+FILE` appends).
        public var joblog: String? = nil
    }

    /// One attempt we watch: started by us (a child), or adopted after a restart (a pidfd).
    private struct Attempt {
        let id: String
        let number: Int
        let slots: [Slot]
        var timedOut = false
        var interrupted = false
        var pidfd: Int32?
    }

    private let folder: QueueFolder
    private let settings: Settings
    private let journal: Journal
    private let signals: SignalChannel
    private let spawner: Spawner
    private let log: SchedulerLog
    private let baseEnvironment: CStringArray
    /// Environments captured at submit (`EnvironmentFile`), by journal name, read once each
    /// for all the tasks of a submit.
    private var submitEnvironments: [String: CStringArray] = [:]
    private let inotify: Int32
    private var state = QueueState()
    private var pool: SlotPool
    private var memory: MemoryGate?
    private let memoryPolling: MemoryPolling?
    private var waitingOnMemory = false
    private let joblog: JobLog?
    /// The task the last "Waiting for GPU memory" line was about (said once per task).
    private var saidMemoryWait: String?
    private var attempts: [pid_t: Attempt] = [:]
    private var timers: ProcessGroupTimers
    private var stopSignal: Int32?
    /// When the stop signal came (wall clock, as exit records are).
    private var stoppedAt: Int64?
    private var draining = false
    /// Final ends while this scheduler runs (for `--halt`), and why it halted.
    private var failedHere = 0
    private var succeededHere = 0
    private var halted: (reason: String, onFailure: Bool)?
    /// Running hooks (pid → which, and whether it ran past its limit), and whether the
    /// queue held work since the last `--on-empty`: that hook runs when the queue *becomes* empty.
    private var hooks: [pid_t: (hook: Hook, ranPastLimit: Bool)] = [:]
    private enum Hook {
        case empty
        /// `--on-finish` for the task with this id and label.
        case finish(id: String, label: String)
    }
    private var hadWork = false
    /// Tasks whose last attempt ended since the last launches, for `--on-finish`.
    private var finishedSinceLaunch: [(TaskRecord, QueueTask, Int, Double?)] = []
    private var eventsSinceCompaction = 0
    /// State changed since the status snapshot was last written, and when that was.
    private var snapshotStale = true
    private var lastSnapshot: UInt64 = 0
    private let startedAt = Clock.wall()

    public init(folder: QueueFolder, pool: SlotPool, settings: Settings, signals: SignalChannel, log: SchedulerLog) throws(SystemError) {
        joblog = try settings.joblog.map { path throws(SystemError) in try JobLog(path) }
        self.folder = folder
        self.pool = pool
        self.settings = settings
        self.signals = signals
        self.log = log
        journal = Journal(folder: folder)
        timers = ProcessGroupTimers(grace: settings.grace)
        memory = settings.memoryProbe == nil ? nil : MemoryGate()
        memoryPolling = settings.memoryProbe.map(MemoryPolling.init)
        spawner = try Spawner()
        baseEnvironment = TaskEnvironment.inherited()
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else { throw SystemError("inotify_init1", errno: errno) }
        // Appenders close the journal after writing: one event per submit, none while idle.
        guard inotify_add_watch(inotify, folder.path, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) >= 0 else {
            throw SystemError("inotify_add_watch \(folder.path)", errno: errno)
        }
    }

    deinit { close(inotify) }

    /// Runs until idle (with --exit-when-idle), drained, or stopped; returns the exit code.
    public func run() throws(SystemError) -> Int32 {
        // Orphans of a supervisor that was killed come to us, to be ended (`settle`).
        _ = csystem_set_child_subreaper()
        removeAbandonedRewrites()
        // A submitted line is about 250 bytes; most of a journal is submitted lines.
        state.reserve(Int(FileIO.size(folder.journal) / 250) + 16)
        try journal.readAll { state.apply($0) }
        eventsSinceCompaction = state.count
        try recover()
        while true {
            if stopSignal == nil && !draining { try launchWhatFits() }
            // Hooks start after the launches their tasks' ends made room for.
            for (ended, task, attempt, duration) in finishedSinceLaunch { startFinishHook(ended, task: task, attempt: attempt, duration: duration) }
            finishedSinceLaunch.removeAll()
            if !attempts.isEmpty || state.queuedCount > 0 { hadWork = true }
            if attempts.isEmpty && state.queuedCount == 0 && hadWork && stopSignal == nil {
                hadWork = false
                startEmptyHook()
            }
            if attempts.isEmpty {
                // A drain or halt lets the last tasks' --on-finish hooks end; a stop does not.
                if stopSignal != nil || (draining && hooks.isEmpty) { break }
                if settings.exitWhenIdle && state.queuedCount == 0 && hooks.isEmpty { break }
            }
            waitForEvents(atMost: try writeSnapshotIfDue())
            // What ended is reaped before a stop signal of the same wake-up is acted on, so
            // an attempt that ended just before it keeps its real outcome.
            let arrived = signals.drain()
            if arrived.contains(SIGCHLD) { try reapChildren() }
            for signal in arrived where signal != SIGCHLD {
                if signal == SIGHUP { beginDrain("SIGHUP") } else { stop(on: signal) }
            }
            try readJournal()
            try finishAdoptedThatEnded()
            for pid in timers.fire(now: Clock.monotonic()) {
                attempts[pid]?.timedOut = true
                hooks[pid]?.ranPastLimit = true
            }
        }
        // A hook still running when the scheduler stops ends with it.
        for pid in hooks.keys {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        try writeSnapshot()
        if let halted, stopSignal == nil {
            log.line("Halted (\(halted.reason)); queued tasks stay queued for the next start")
            return halted.onFailure ? 1 : 0
        }
        if let stopSignal {
            log.line("Stopped by \(signalName(stopSignal)); interrupted tasks run again at the next start")
            return 128 + stopSignal
        }
        log.line(draining ? "Drained: every running task finished" : "Queue is empty; exiting")
        return 0
    }

    // MARK: - Recovery

    /// The pid in a held run lock. A scheduler killed just after a spawn leaves a lock the
    /// new supervisor holds before it has written its pid (its first step, a millisecond
    /// later): wait for it while the lock stays held, rather than take the attempt for dead.
    private func supervisorPID(holding lock: String) -> pid_t? {
        for _ in 0..<500 {
            if let pid = FileLock.recordedPID(lock), pid > 0 { return pid }
            guard FileLock.isHeld(lock) else { return nil }
            usleep(10_000)
        }
        return FileLock.recordedPID(lock)
    }

    /// Rewrites of the journal and the key index (compaction, reconciliation) that a killed
    /// scheduler left half-written: only a scheduler rewrites them, and we hold its lock.
    private func removeAbandonedRewrites() {
        for name in FileIO.names(in: folder.path) ?? []
        where name.hasPrefix("journal.jsonl.tmp-") || name.hasPrefix("keys.idx.tmp-") {
            unlink(folder.path + "/" + name)
        }
    }

    /// Attempts the journal says started but never ended: record those that ended while no
    /// scheduler ran, adopt those still running, queue again those that vanished.
    private func recover() throws(SystemError) {
        for entry in state.running {
            guard case .running(let number, let device, let slot, _, let since) = entry.phase else { continue }
            let id = entry.task.id
            if let record = try Supervisor.readRecord(folder.exitRecord(id, number)) {
                try finish(id: id, number: number, record: record, attempt: nil)
                continue
            }
            if FileLock.isHeld(folder.runLock(id, number)), let pid = supervisorPID(holding: folder.runLock(id, number)) {
                let pidfd = csystem_pidfd_open(pid)
                // Still held once the pidfd is open: the pid is the supervisor's, not a reuse.
                if pidfd >= 0 && !FileLock.isHeld(folder.runLock(id, number)) { close(pidfd) }
                if pidfd >= 0 && FileLock.isHeld(folder.runLock(id, number)) {
                    attempts[pid] = Attempt(id: id, number: number, slots: retake(device: device, slot: slot, task: entry.task), pidfd: pidfd)
                    // The deadline counts from the attempt's start (journaled), not from now.
                    if let timeout = entry.task.resources.time ?? settings.timeout {
                        timers.started(pid, now: Clock.monotonic(), timeout: max(0, timeout - Double(Clock.wall() - since) / 1e9))
                    }
                    log.line("Adopted the running process of \(entry.task.label) (pid \(pid))")
                    continue
                }
            }
            // The lock may have been released just now by a supervisor that finished.
            if let record = try Supervisor.readRecord(folder.exitRecord(id, number)) {
                try finish(id: id, number: number, record: record, attempt: nil)
                continue
            }
            try commit([.interrupted(id: id, attempt: number, time: Clock.wall())])
            log.line("The process of \(entry.task.label) did not survive; it is queued again")
        }
        try reconcileKeys()
    }

    /// The key index holds exactly the queued and running tasks and the command lines that
    /// succeeded, and the folder keys of queued and running config tasks (a crash
    /// between a submit's journal append and its key append is healed here).
    private func reconcileKeys() throws(SystemError) {
        guard let lock = try FileLock(path: folder.path + "/submit.lock", mode: .exclusive, wait: true) else { return }
        defer { _ = lock }
        // Submits append under this lock: what they wrote before we took it must be in
        // the state we rewrite the index from, or their keys would be dropped.
        try journal.readNew { apply(external: $0) }
        try KeyIndex(folder: folder).rewrite(state.entries.lazy.flatMap { entry -> [(String, String)] in
            switch entry.phase {
            case .queued, .running: return KeyIndex.openKeys(of: entry.task).map { ($0.key, $0.id) }
            case .ended(.succeeded, _, _, _): return entry.task.identity == nil ? [(entry.task.key, entry.task.id)] : []
            case .ended, .cancelled: return []
            }
        })
        removeUnusedEnvironments()
    }

    /// Env files that no queued or running task names (every task of their submit ended)
    /// are removed, at start and after each compaction. Under submit.lock, with every
    /// submit's events applied: a submit writes its file before it appends its events.
    private func removeUnusedEnvironments() {
        var used: Set<String> = []
        for entry in state.entries where entry.phase.isOpen {
            if let name = entry.task.environment { used.insert(name) }
        }
        EnvironmentFile.removeUnused(keeping: used, in: folder)
        submitEnvironments = submitEnvironments.filter { used.contains($0.key) }
    }

    // MARK: - Journal

    /// Appends events durably, then applies them.
    private func commit(_ events: [QueueEvent]) throws(SystemError) {
        try journal.append(events)
        snapshotStale = true
        for event in events { state.apply(event) }
        eventsSinceCompaction += events.count
    }

    private func readJournal() throws(SystemError) {
        try journal.readNew { apply(external: $0) }
        if eventsSinceCompaction > 20_000 && eventsSinceCompaction > 2 * state.count {
            do {
                for event in try journal.compact(to: state.compacted) { apply(external: event) }
            } catch {
                // The journal stays as it is, whole; it is compacted once there is room.
                log.line("Cannot compact the journal (\(error)); it is left as it is and compacted later")
                eventsSinceCompaction = state.count
                return
            }
            eventsSinceCompaction = state.count
            if let lock = try FileLock(path: folder.path + "/submit.lock", mode: .exclusive, wait: true) {
                try journal.readNew { apply(external: $0) }
                removeUnusedEnvironments()
                _ = lock
            }
        }
    }

    /// An event someone else wrote (submit, cancel, drain), or one of ours read back.
    private func apply(external event: QueueEvent) {
        snapshotStale = true
        switch event {
        case .cancelled(let id, _):
            let wasRequested = state[id]?.cancelRequested ?? false
            state.apply(event)
            if !wasRequested, state[id]?.cancelRequested == true,
               let pid = attempts.first(where: { $0.value.id == id })?.key {
                log.line("Cancel: stopping \(state[id]?.task.label ?? id)")
                timers.terminate(pid, now: Clock.monotonic())
            }
        case .drain(let time):
            // Only a drain asked for after this scheduler started is meant for it.
            if time >= startedAt { beginDrain("multirun drain") }
        default:
            state.apply(event)
        }
    }

    // MARK: - Starting

    /// Slots for an attempt adopted after a restart, where it ran before: `device` is
    /// `gpu0`, `gpu0+gpu2` or `cpu`. Slots this scheduler does not have are left out.
    private func retake(device: String, slot: Int, task: QueueTask) -> [Slot] {
        if let exact = pool.acquire(number: slot) {
            if exact.device.description == device { return [exact] }
            pool.release(exact)
        }
        if device == "cpu" {
            let count = (try? settings.policy.demand(task.resources, config: task.label).cpuSlots) ?? 1
            return (0..<max(count, 1)).compactMap { _ in pool.take(on: .cpu) }
        }
        return device.split(separator: "+").compactMap { name in
            Int(name.dropFirst(3)).flatMap { pool.take(on: .gpu($0)) }
        }
    }

    /// Starts what fits, by `Placer`'s rule: GPU tasks and CPU-pool tasks in queues of their
    /// own, each in submission order, the first in line reserving what it waits for.
    private func launchWhatFits() throws(SystemError) {
        let now = Clock.monotonic()
        let readings = memoryPolling?.readIfDue(wanted: wantsMemoryReading(), now: now, signals: signals.fd) { log.line($0) }
        if let readings { memory?.record(readings, now: now) }
        var launched = false
        var waiting = false
        if state.hasOrdering { try failBlockedDependants() }
        // In CPU mode every task is in the CPU pool: one queue.
        for cpuPool in settings.policy.gpuMode ? [false, true] : [nil] {
            while true {
                let decision: Placer.Decision
                if state.hasOrdering {
                    decision = try placeOrdered(cpuPool: cpuPool, now: now)
                } else {
                    try failImpossibleHead(cpuPool: cpuPool)
                    let start = state.queuedStart(cpuPool: cpuPool)
                    decision = Self.place(state: state, from: start, cpuPool: cpuPool,
                                          policy: settings.policy, pool: &pool, memory: &memory, now: now)
                }
                guard case .launch(let index, let slots) = decision else {
                    if case .wait(let onMemory) = decision, cpuPool != true { waiting = onMemory }
                    break
                }
                try launch(state.entries[index].task, on: slots)
                launched = true
            }
        }
        waitingOnMemory = waiting
        memoryPolling?.placed(launched: launched, waitingOnMemory: waiting, afterReading: readings != nil)
        if waiting { sayMemoryWait(now: now) }
    }

    /// Says once per task, in scheduler.log, that the first GPU task in line waits for free
    /// memory: which task, how much it needs on how many GPUs, and what they had free.
    private func sayMemoryWait(now: UInt64) {
        let start = state.queuedStart(cpuPool: false)
        let index = state.hasOrdering ? state.orderedQueued(from: start, cpuPool: false).first : (start < state.entries.count ? start : nil)
        guard let index else { return }
        let task = state.entries[index].task
        guard saidMemoryWait != task.id, let demand = try? settings.policy.demand(task.resources, config: task.label) else { return }
        // Said once the GPUs have been read, so the line can say what they had free.
        let readings = pool.devices.compactMap(\.gpuPosition).map { gpu in (gpu, memory?.free(gpu, now: now)) }
        guard !readings.contains(where: { $0.1 == nil }) else { return }
        saidMemoryWait = task.id
        let free = readings.map { "gpu\($0.0) " + ByteSize.describe(mebibytes: max(0, $0.1!)) }
        let gpus = demand.gpus == 1 ? "a GPU" : "each of \(demand.gpus) GPUs"
        log.line("Waiting for GPU memory: task \(task.id) \(task.label) needs \(ByteSize.describe(mebibytes: demand.memoryMiB)) free on \(gpus) (free now: \(free.joined(separator: ", ")), less what tasks just started may take)")
    }

    /// Borrows the state only for the decision, so the launch that follows does not copy it.
    private static func place(state: QueueState, from start: Int, cpuPool: Bool?, policy: DemandPolicy, pool: inout SlotPool,
                              memory: inout MemoryGate?, now: UInt64) -> Placer.Decision {
        let entries = state.entries
        let waiting = (start..<entries.count).lazy
            .filter { entries[$0].phase == .queued && (cpuPool == nil || entries[$0].task.resources.wantsCPUPool == cpuPool) }
            // A task that can never fit here is failed when it comes first in line; until then
            // it waits behind others without reserving anything.
            .map { (key: $0, demand: (try? policy.demand(entries[$0].task.resources, config: "")) ?? .gpu(Int.max)) }
        return Placer.next(waiting, pool: &pool, memory: &memory, now: now)
    }

    /// A first-in-line task whose resources this scheduler can never give (3 GPUs on a
    /// 2-GPU daemon, `device: cpu` without --cpu-slots) fails at once, saying why.
    private func failImpossibleHead(cpuPool: Bool?) throws(SystemError) {
        while true {
            let start = state.queuedStart(cpuPool: cpuPool)
            guard start < state.entries.count, try failIfImpossible(state.entries[start].task) else { return }
        }
    }

    /// Fails `task` when this scheduler can never give what it asks; false when it can.
    private func failIfImpossible(_ task: QueueTask) throws(SystemError) -> Bool {
        do {
            _ = try settings.policy.demand(task.resources, config: task.label)
            return false
        } catch {
            let number = (state[task.id]?.attempts ?? 0) + 1
            if try gaveUp(task, attempt: number) { return true }
            try commit([.started(id: task.id, attempt: number, device: "", slot: 0, pid: 0, time: Clock.wall()),
                        .ended(id: task.id, attempt: number, exitCode: 2, signal: nil, status: .failed, time: Clock.wall())])
            releaseKeys(of: task.id, keepingOwn: false)
            log.line("The process could not start (\(error.message)): \(task.shownCommand) [\(state.endedCount)/\(state.activeCount)]")
            return true
        }
    }

    /// `Placer`'s rule over a queue with priorities or dependencies: the tasks that may
    /// start, higher priority first, ties in submission order.
    private func placeOrdered(cpuPool: Bool?, now: UInt64) throws(SystemError) -> Placer.Decision {
        while true {
            let order = state.orderedQueued(from: state.queuedStart(cpuPool: cpuPool), cpuPool: cpuPool)
            if let head = order.first, try failIfImpossible(state.entries[head].task) { continue }
            let entries = state.entries
            let policy = settings.policy
            let waiting = order.lazy.map { (key: $0, demand: (try? policy.demand(entries[$0].task.resources, config: "")) ?? .gpu(Int.max)) }
            return Placer.next(waiting, pool: &pool, memory: &memory, now: now)
        }
    }

    /// Queued tasks whose `after:` can never be met end as dependency_failed without
    /// starting, and theirs after them.
    private func failBlockedDependants() throws(SystemError) {
        while true {
            let blocked = state.blockedByDependencies()
            if blocked.isEmpty { return }
            for (id, by) in blocked {
                try commit([.dependencyFailed(id: id, after: by, time: Clock.wall())])
                guard let task = state[id]?.task else { continue }
                releaseKeys(of: id, keepingOwn: false)
                var record = TaskRecord(number: 0, config: task.config, command: task.shownCommand, status: .dependencyFailed)
                record.error = state[by].map { "task \(by) \($0.task.label), which it runs after, did not succeed" }
                    ?? "task \(by), which it runs after, is not in the queue"
                log.line(RunReporter.endLine(record, k: state.endedCount, of: state.activeCount))
                if settings.onFinish != nil { finishedSinceLaunch.append((record, task, 0, nil)) }
            }
        }
    }

    /// A GPU task that asks for memory is first in line and some GPU has a free slot.
    private func wantsMemoryReading() -> Bool {
        guard memory != nil, settings.policy.gpuMode else { return false }
        let start = state.queuedStart(cpuPool: false)
        let head = start < state.entries.count ? state.entries[start].task : nil
        return MemoryGate.wantsReading(firstInLine: head.flatMap { try? settings.policy.demand($0.resources, config: $0.label) }, pool: pool)
    }

    /// A task whose next attempt number would be past `QueueLimits.attempt` (a journal
    /// edited by hand) is cancelled rather than started: that number could not be read back.
    private func gaveUp(_ task: QueueTask, attempt number: Int, releasing slots: [Slot] = []) throws(SystemError) -> Bool {
        guard number > Int(QueueLimits.attempt.upperBound) else { return false }
        for slot in slots { pool.release(slot) }
        if !slots.isEmpty, let index = state.position(of: task.id) { memory?.taskEnded(index) }
        try commit([.cancelled(id: task.id, time: Clock.wall())])
        releaseKeys(of: task.id, keepingOwn: false)
        log.line("Cancelled \(task.label): it has had \(number - 1) attempts, the most a queue records")
        return true
    }

    private func launch(_ task: QueueTask, on slots: [Slot]) throws(SystemError) {
        let number = (state[task.id]?.attempts ?? 0) + 1
        if try gaveUp(task, attempt: number, releasing: slots) { return }
        let slot = slots[0]
        try commit([.started(id: task.id, attempt: number, device: TaskEnvironment.deviceName(slots), slot: slot.number, pid: 0, time: Clock.wall())])
        let gpu = TaskEnvironment.gpu(for: slots, ids: settings.gpuIDs)
        let argv = RunnerTemplate.launchArgv(task.argv, gpu: gpu, slot: slot.number, overwrite: task.overwrite)
        do {
            var strings = ExecStrings(inheriting: try environment(of: task))
            for word in [settings.supervisor, Supervisor.command, folder.exitRecord(task.id, number),
                         folder.log(task.id, number), task.cwd, "--"] + argv { strings.argument(word) }
            TaskEnvironment.add(gpu: gpu, slot: slot, config: task.config, output: task.output, identity: task.identity?.digest, to: &strings)
            strings.variable("MULTIRUN_TASK", task.id)
            strings.variable("MULTIRUN_ATTEMPT", number)
            // The results folder's lock (as in a one-shot run): the supervisor holds it, as
            // its descriptor 4, while any process of the task lives.
            var folderLock: Int32 = -1
            defer { if folderLock >= 0 { close(folderLock) } }
            if let identity = task.identity {
                switch try AttemptRecord.claim(identity, runID: "queue-\(task.id)-\(number)") {
                case .claimed(let fd): folderLock = fd
                case .held(let holder):
                    throw SystemError("\(identity.path) is still running in another run (\(holder.description)); submit it again once that ends", errno: EBUSY)
                }
                // The results folder is this attempt's from now on: no marker may vouch for it.
                CompletionMarker.invalidate(identity.resultsFolder)
            }
            // The run lock is taken here and handed to the supervisor as fd 3, so it is held
            // from before the spawn until the supervisor dies.
            guard let lock = try FileLock(path: folder.runLock(task.id, number), mode: .exclusive, wait: false) else {
                throw SystemError("run lock of \(task.id) is held", errno: EBUSY)
            }
            let pid = try spawner.spawn(path: settings.supervisor, strings: &strings, stdout: 2, stderr: 2,
                                        passing: folderLock >= 0 ? [lock.fd, folderLock] : [lock.fd])
            FileLock.record(pid: pid, in: lock.fd)
            if folderLock >= 0, let identity = task.identity {
                AttemptRecord.record(identity, runID: "queue-\(task.id)-\(number)", pid: pid, in: folderLock)
            }
            attempts[pid] = Attempt(id: task.id, number: number, slots: slots)
            // A config's `resources: {time: ...}` overrides --timeout.
            timers.started(pid, now: Clock.monotonic(), timeout: task.resources.time ?? settings.timeout)
            log.line("Start the process with \(task.label)")
        } catch {
            for slot in slots { pool.release(slot) }
            if let index = state.position(of: task.id) { memory?.taskEnded(index) }
            try commit([.ended(id: task.id, attempt: number, exitCode: 127, signal: nil, status: .failed, time: Clock.wall())])
            if let entry = state[task.id], entry.phase == .queued {
                // `submit --retries` covers a start that failed too (code 127).
                log.line("The process could not start (\(error)), retrying (attempt \(entry.failures + 1) of \(task.retry.retries + 1)): \(task.shownCommand)")
                return
            }
            releaseKeys(of: task.id, keepingOwn: false)
            log.line("The process could not start (\(error)): \(task.shownCommand) [\(state.endedCount)/\(state.activeCount)]")
        }
    }

    /// What a task starts with before its own variables: the environment captured at its
    /// submit, or (`submit --no-env`, older journals) the scheduler's. A captured file that
    /// is missing or unreadable is an error: the task fails to start, saying so.
    private func environment(of task: QueueTask) throws(SystemError) -> CStringArray {
        guard let name = task.environment else { return baseEnvironment }
        if let known = submitEnvironments[name] { return known }
        let loaded = try EnvironmentFile.load(name, in: folder)
        // Tasks of one submit start one after another; a few submits' worth is plenty.
        if submitEnvironments.count >= 16 { submitEnvironments.removeAll(keepingCapacity: true) }
        submitEnvironments[name] = loaded
        return loaded
    }

    // MARK: - Ending

    private func reapChildren() throws(SystemError) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if let ended = hooks.removeValue(forKey: pid) {
                timers.ended(pid)
                hookEnded(ended.hook, TaskExit(waitStatus: status), ranPastLimit: ended.ranPastLimit)
                continue
            }
            guard let attempt = attempts.removeValue(forKey: pid) else { continue }
            timers.ended(pid)
            try settle(attempt)
        }
    }

    private func finishAdoptedThatEnded() throws(SystemError) {
        for (pid, attempt) in attempts {
            guard let pidfd = attempt.pidfd else { continue }
            var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 0) > 0 else { continue }
            close(pidfd)
            attempts.removeValue(forKey: pid)
            timers.ended(pid)
            try settle(attempt)
        }
    }

    /// An attempt's supervisor is gone: its exit record says how the task ended.
    private func settle(_ attempt: Attempt) throws(SystemError) {
        for slot in attempt.slots { pool.release(slot) }
        if let index = state.position(of: attempt.id) { memory?.taskEnded(index) }
        memoryPolling?.taskEnded()
        var record = try Supervisor.readRecord(folder.exitRecord(attempt.id, attempt.number))
        // A supervisor killed from outside left its task to us (we are a child subreaper):
        // it ends before the attempt is queued again, so it never runs twice at once. If the
        // task itself had already exited on its own, its status is still ours to read.
        if record == nil && attempt.pidfd == nil {
            let task = FileLock.recordedPID(folder.taskPID(attempt.id, attempt.number))
            let orphans = TaskReaper.killOrphans { attempts[$0] != nil }
            if let task, let ended = orphans.first(where: { $0.pid == task })?.exit, ended.signal != SIGKILL {
                let now = Clock.wall()
                record = (ended, now, now, nil)
            }
        }
        try finish(id: attempt.id, number: attempt.number, record: record, attempt: attempt)
    }

    private func finish(id: String, number: Int, record: Supervisor.ExitRecord?, attempt: Attempt?) throws(SystemError) {
        guard let entry = state[id] else { return }
        let now = Clock.wall()
        let label = entry.task.label
        // A task that had already exited 0 when the stop came finished its work: a success.
        let finishedBeforeStop = record.map { $0.exit.exitCode == 0 && $0.end <= (stoppedAt ?? .max) } ?? false
        if (attempt?.interrupted == true && !finishedBeforeStop) || (record == nil && attempt?.timedOut != true && !entry.cancelRequested) {
            // Stopped by our shutdown, or its supervisor vanished without a record.
            try commit([.interrupted(id: id, attempt: number, time: now)])
            if state[id]?.phase == .queued { log.line("The process was interrupted: \(label) (queued again)") }
        } else {
            let exit = record?.exit ?? TaskExit(signal: SIGKILL)
            let status = exit.status(timedOut: attempt?.timedOut == true, interrupted: false)
            try commit([.ended(id: id, attempt: number, exitCode: exit.exitCode, signal: exit.signal, status: status, time: record?.end ?? now)])
            let progress = "[\(state.endedCount)/\(state.activeCount)]"
            var ended = TaskRecord(number: 0, config: entry.task.config, command: entry.task.shownCommand, status: status)
            ended.exit = exit
            ended.logPath = folder.log(id, number)
            ended.error = record?.error
            if let joblog {
                var line = ended
                line.number = Int(id) ?? 0
                line.startWall = record?.start
                line.duration = record.map { Double($0.end - $0.start) / 1e9 }
                do { try joblog.append(line) } catch { log.line("Warning: --joblog: \(error)") }
            }
            if entry.task.underShell, status == .failed, let signal = exit.signalReportedByShell { ended.noteShellSignal(signal) }
            if state[id]?.phase == .queued, let failures = state[id]?.failures {
                // Retried (`submit --retries`): no [k/N], the task has not ended.
                // It keeps its key and results folder: it is queued.
                log.line(RunReporter.retryLine(ended, next: failures + 1, of: entry.task.retry.retries + 1))
                unlink(folder.exitRecord(id, number))
                unlink(folder.runLock(id, number))
                unlink(folder.taskPID(id, number))
                return
            } else if case .cancelled = state[id]?.phase {
                log.line("The process was cancelled: \(entry.task.shownCommand) \(progress)")
            } else {
                log.line(RunReporter.endLine(ended, k: state.endedCount, of: state.activeCount))
                countForHalt(status)
                if settings.onFinish != nil {
                    ended.device = attempt.map { TaskEnvironment.deviceName($0.slots) }
                    finishedSinceLaunch.append((ended, entry.task, number, record.map { Double($0.end - $0.start) / 1e9 }))
                }
            }
            if status == .succeeded, !entry.cancelRequested, let identity = entry.task.identity {
                // The same marker a one-shot run writes: either mode skips what the other did.
                ended.endWall = record?.end
                ended.startWall = record?.start
                ended.duration = record.map { Double($0.end - $0.start) / 1e9 }
                if !CompletionMarker.stillDescribes(identity, file: Submitter.absolute(identity.path, entry.task.cwd)) {
                    log.line("Warning: \(label) changed after it was submitted; its results are not recorded as completed")
                } else {
                    do { try CompletionMarker.write(identity, record: ended, runID: "queue-\(id)-\(number)") } catch {
                        log.line("Warning: could not record \(label) as completed (\(error)); a one-shot run would run it again")
                    }
                }
            }
            // After the marker: a submit that finds the key free finds the marker there.
            // A command line that succeeded keeps its key (submitting the file again adds
            // nothing); a config's completion is its marker's to say, as in one-shot runs.
            releaseKeys(of: id, keepingOwn: status == .succeeded && !entry.cancelRequested && entry.task.identity == nil)
        }
        unlink(folder.exitRecord(id, number))
        unlink(folder.runLock(id, number))
        unlink(folder.taskPID(id, number))
    }

    /// A task that ended gives up its results folder; one that failed or was cancelled also
    /// its own key, so it may be submitted again.
    private func releaseKeys(of id: String, keepingOwn: Bool) {
        guard let task = state[id]?.task else { return }
        let index = KeyIndex(folder: folder)
        if !keepingOwn { try? index.remove(key: task.key, id: id) }
        index.releaseFolder(of: task)
    }

    // MARK: - Status snapshot

    /// Writes the status snapshot when the state changed and the last one is 100 ms old:
    /// a busy queue pays for it ten times a second, an idle one never. Returns how long
    /// the loop may sleep before the next one is due (-1: none is pending).
    private func writeSnapshotIfDue() throws(SystemError) -> Int32 {
        guard snapshotStale else { return -1 }
        let due = lastSnapshot + 100_000_000
        let now = Clock.monotonic()
        if now < due { return Int32((due - now + 999_999) / 1_000_000) }
        try writeSnapshot()
        return -1
    }

    private func writeSnapshot() throws(SystemError) {
        // Read our own appends back, so the state is exactly the journal's complete lines.
        try readJournal()
        StatusSummary(state).writeSnapshot(folder, mark: journal.mark)
        snapshotStale = false
        lastSnapshot = Clock.monotonic()
    }

    // MARK: - Waiting, stopping

    private func waitForEvents(atMost limit: Int32) {
        var fds = [pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)]
        for attempt in attempts.values { if let pidfd = attempt.pidfd { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) } }
        let timeout = timers.pollTimeout(now: Clock.monotonic())
        let memoryWait = memoryPolling?.timeout(now: Clock.monotonic(), waitingOnMemory: waitingOnMemory)
        _ = poll(&fds, nfds_t(fds.count), sooner(sooner(timeout, limit < 0 ? nil : limit), memoryWait))
        // Drain inotify: what changed is read from the journal itself.
        var buffer = [UInt8](repeating: 0, count: 4096)
        while read(inotify, &buffer, buffer.count) > 0 {}
    }

    /// `daemon --halt`: counts a task's final end; once the rule holds, `soon` starts
    /// nothing more and lets running tasks finish, `now` also stops them (they are queued
    /// again, as on SIGTERM). Queued tasks stay queued for the next scheduler.
    private func countForHalt(_ status: TaskStatus) {
        if status == .succeeded { succeededHere += 1 }
        if status == .failed || status == .timedOut { failedHere += 1 }
        guard halted == nil, stopSignal == nil, let policy = settings.halt,
              policy.holds(failed: failedHere, succeeded: succeededHere, ended: failedHere + succeededHere) else { return }
        let reason = policy.reason(failed: failedHere, succeeded: succeededHere)
        halted = (reason, policy.onFailure)
        draining = true
        guard policy.when == .now else {
            log.line("Halting (\(reason)): starting no more tasks; \(attempts.count) running task(s) will finish")
            return
        }
        log.line("Halting (\(reason)): stopping \(attempts.count) running task(s); they are queued again")
        stoppedAt = Clock.wall()
        let now = Clock.monotonic()
        for pid in Array(attempts.keys) {
            attempts[pid]?.interrupted = true
            timers.terminate(pid, now: now)
        }
    }

    private func beginDrain(_ reason: String) {
        guard !draining else { return }
        draining = true
        log.line("Draining (\(reason)): \(attempts.count) running task(s) will finish; nothing new starts")
    }

    /// The queue became empty: `--on-empty` runs in a session of its own, output appended
    /// to `.multirun/on-empty.log`, off the scheduling path.
    private func startEmptyHook() {
        guard let command = settings.onEmpty else { return }
        var strings = ExecStrings(inheriting: baseEnvironment)
        for word in ["sh", "-c", command] { strings.argument(word) }
        strings.variable("MULTIRUN_QUEUE", folder.path)
        strings.variable("MULTIRUN_EVENT", "empty")
        do {
            let pid = try spawnHook(&strings, .empty, log: "on-empty.log")
            log.line("Queue is empty; running --on-empty (pid \(pid))")
        } catch {
            log.line("Warning: --on-empty could not start (\(error)); the scheduler goes on")
        }
    }

    /// Starts a hook (`sh -c CMD` in `strings`) in a session of its own, its output appended
    /// to `log` in the queue folder (or dropped when that cannot be opened), under the
    /// hooks' time limit.
    private func spawnHook(_ strings: inout ExecStrings, _ hook: Hook, log name: String) throws(SystemError) -> pid_t {
        let out = (try? FileIO.openForWriting(folder.path + "/" + name, O_WRONLY | O_APPEND, access: .owner)) ?? -1
        defer { if out >= 0 { close(out) } }
        let sink = out >= 0 ? out : open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { if out < 0 { close(sink) } }
        let pid = try spawner.spawn(path: "/bin/sh", strings: &strings, stdout: sink, stderr: sink)
        hooks[pid] = (hook, false)
        timers.started(pid, now: Clock.monotonic(), timeout: settings.hookTimeout)
        return pid
    }

    /// A task's last attempt ended: `--on-finish` runs in a session of its own with the
    /// task's facts, output appended to `.multirun/on-finish.log`, off the scheduling path.
    private func startFinishHook(_ ended: TaskRecord, task: QueueTask, attempt: Int, duration: Double?) {
        guard let command = settings.onFinish else { return }
        var strings = ExecStrings(inheriting: baseEnvironment)
        for word in ["sh", "-c", command] { strings.argument(word) }
        strings.variable("MULTIRUN_QUEUE", folder.path)
        strings.variable("MULTIRUN_TASK", task.id)
        strings.variable("MULTIRUN_CONFIG", task.config ?? "")
        strings.variable("MULTIRUN_COMMAND", task.shownCommand)
        strings.variable("MULTIRUN_STATUS", ended.status.rawValue)
        strings.variable("MULTIRUN_EXIT_CODE", ended.exit.exitCode.map(String.init) ?? "")
        strings.variable("MULTIRUN_SIGNAL", ended.exit.signal.map(String.init) ?? "")
        strings.variable("MULTIRUN_DURATION", duration.map { JobLog.millis(Int(($0 * 1000).rounded())) } ?? "0.000")
        strings.variable("MULTIRUN_DEVICE", ended.device ?? "")
        strings.variable("MULTIRUN_LOG", ended.logPath ?? "")
        strings.variable("MULTIRUN_ATTEMPT", attempt)
        strings.variable("MULTIRUN_OUTPUT", task.output ?? "")
        do {
            _ = try spawnHook(&strings, .finish(id: task.id, label: task.label), log: "on-finish.log")
        } catch {
            log.line("Warning: the --on-finish hook for task \(task.id) could not start (\(error)); the scheduler goes on")
        }
    }

    /// A hook ended: a failure is said in one line, never more.
    private func hookEnded(_ hook: Hook, _ exit: TaskExit, ranPastLimit: Bool) {
        let which: String, output: String
        switch hook {
        case .empty: (which, output) = ("--on-empty", folder.path + "/on-empty.log")
        case .finish(let id, let label): (which, output) = ("the --on-finish hook for task \(id) \(label)", folder.path + "/on-finish.log")
        }
        if ranPastLimit {
            log.line("Warning: \(which) ran past --on-finish-timeout and was stopped (output: \(output)); the scheduler goes on")
        } else if let signal = exit.signal, stopSignal == nil {
            log.line("Warning: \(which) was killed by signal \(signal) (\(signalName(signal))) (output: \(output)); the scheduler goes on")
        } else if let code = exit.exitCode, code != 0 {
            log.line("Warning: \(which) failed with exit code \(code) (output: \(output)); the scheduler goes on")
        }
    }

    private func stop(on signal: Int32) {
        let now = Clock.monotonic()
        for pid in hooks.keys { timers.killNow(pid, now: now) }
        if stopSignal != nil {
            for pid in Array(attempts.keys) { timers.killNow(pid, now: now) }
            return
        }
        stopSignal = signal
        stoppedAt = Clock.wall()
        log.line("Received \(signalName(signal)): stopping \(attempts.count) running task(s)")
        for pid in Array(attempts.keys) {
            attempts[pid]?.interrupted = true
            timers.terminate(pid, now: now)
        }
    }
}

/// The scheduler's own lines: always to scheduler.log in the queue folder, and to stderr
/// when that is a terminal.
public final class SchedulerLog {
    private let file: AppendOnlyFile?
    private let echo: Bool

    public init(path: String, echo: Bool) {
        file = try? AppendOnlyFile(path: path, access: .owner)
        self.echo = echo
    }

    public func line(_ text: String) {
        file?.append(line: "\(Clock.iso8601(Clock.wall())) \(Console.escaped(text))")
        if echo { Console.standardError.line(text) }
    }
}
