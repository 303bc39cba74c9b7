import CSystem
import Glibc

/// The event loop of a one-shot run. It sleeps in poll(2) on a signalfd until a child exits,
/// a signal arrives or a deadline (timeout, grace) is due; then it reaps, records, and fills
/// every free slot at once. Scheduling decisions come from the pure `Dispatcher`.
public final class TaskRunner {
    public struct Settings: Sendable {
        /// CUDA_VISIBLE_DEVICES value for each GPU position; nil in CPU mode.
        public var gpuIDs: [String]?
        public var timeout: Double?
        public var grace: Double
        public var runID: String
        /// Reads GPU memory for the free-memory gate; nil when no task asks for memory.
        public var memoryProbe: MemoryProbe?
        /// This multirun binary: each task runs under its `__reap` (`TaskReaper`).
        public var reaper: String

        public init(gpuIDs: [String]?, timeout: Double?, grace: Double, runID: String, memoryProbe: MemoryProbe? = nil, reaper: String) {
            self.gpuIDs = gpuIDs
            self.timeout = timeout
            self.grace = grace
            self.runID = runID
            self.memoryProbe = memoryProbe
            self.reaper = reaper
        }
    }

    private struct Running {
        let task: Int
        let slots: [Slot]
        let command: String
        let startMonotonic: UInt64
        let startWall: Int64
        var timedOut = false
        var interrupted = false
    }

    /// A reaped task whose record is written up after the free slots are filled.
    private struct Reaped {
        let entry: Running
        let pid: pid_t
        let exit: TaskExit
        let status: TaskStatus
        let endWall: Int64
        let endMonotonic: UInt64
        let k: Int
    }

    private let tasks: [TaskSpec]
    private let settings: Settings
    private let reporter: RunReporter
    private let signals: SignalChannel
    private let spawner: Spawner
    /// The next child's argv and environment (the parent's, less what we set per task,
    /// copied once for the whole run), refilled for every launch.
    private var exec: ExecStrings
    private var dispatcher: Dispatcher
    private var running: [pid_t: Running] = [:]
    private var timers: ProcessGroupTimers
    /// Log folders made, but the last one, which is checked first: most logs share it,
    /// comparing beats hashing, and the first log then makes no Set (whose first insert
    /// costs the runtime a conformance scan before the first task).
    private var createdFolders: Set<String> = []
    private var lastFolder = ""
    /// Log files opened ahead for the next tasks, so creating a file (slow on some disks)
    /// happens while tasks run instead of between one task's end and the next one's start.
    private var preparedLogs: [Int: Int32] = [:]
    /// Config tasks' results-folder locks taken ahead of their launch (-1: none), whether
    /// this run ever claimed each folder, and who held the folders it could not claim.
    private var claims: [Int32]
    private var claimedEver: [Bool]
    private var holders: [Int: AttemptRecord.Holder] = [:]
    private let ownPID = String(getpid())
    private var stopSignal: Int32?
    /// What happened since the loop last woke, reported once the free slots are filled:
    /// the next task starts before we spend time writing about the last one (its JSON line,
    /// and in config mode its fsynced completion marker). The terminal still reads in order.
    private var reapedSinceWake: [Reaped] = []
    private var endedSinceWake: [(record: TaskRecord, spec: TaskSpec, k: Int)] = []
    private var startedSinceWake: [TaskSpec] = []
    /// When the free-memory gate reads nvidia-smi; nil when no task asks for memory.
    private let memoryPolling: MemoryPolling?

    public init(tasks: [TaskSpec], pool: SlotPool, settings: Settings, reporter: RunReporter,
                signals: SignalChannel) throws(SystemError) {
        self.tasks = tasks
        self.settings = settings
        self.reporter = reporter
        self.signals = signals
        self.spawner = try Spawner()
        self.dispatcher = Dispatcher(demands: tasks.map(\.demand), pool: pool,
                                     memory: settings.memoryProbe == nil ? nil : MemoryGate(),
                                     after: tasks.contains { !$0.after.isEmpty } ? tasks.map(\.after) : [])
        self.memoryPolling = settings.memoryProbe.map(MemoryPolling.init)
        self.timers = ProcessGroupTimers(grace: settings.grace)
        self.claims = Array(repeating: -1, count: tasks.count)
        self.claimedEver = Array(repeating: false, count: tasks.count)
        // What we set per task replaces anything inherited under the same name.
        self.exec = ExecStrings(inheriting: TaskEnvironment.inherited())
    }

    /// Runs every task (or until a stop signal), then reaps everything left. Returns the
    /// signal that interrupted the run, if any.
    public func run() -> Int32? {
        _ = csystem_set_child_subreaper()
        // A Ctrl-C while the plan was being made stops the run before anything starts.
        for signal in signals.drain() where signal != SIGCHLD { stop(on: signal) }
        launchWhatFits()
        report()
        prepareLogs()
        while !dispatcher.isDone {
            waitForEvents()
            // Reap first: a task that ended before a stop signal of the same wake-up keeps
            // its real outcome instead of being recorded as interrupted.
            let arrived = signals.drain()
            reap()
            for signal in arrived where signal != SIGCHLD { stop(on: signal) }
            for pid in timers.fire(now: Clock.monotonic()) { running[pid]?.timedOut = true }
            launchWhatFits()
            report()
            prepareLogs()
        }
        for task in dispatcher.notStarted {
            reporter.notRun(TaskRecord(number: task + 1, config: tasks[task].config?.path, command: tasks[task].label, status: .notStarted))
        }
        // Logs prepared for tasks that never started would only confuse: remove them, and
        // the claims on results folders those tasks never wrote to.
        for (task, fd) in preparedLogs {
            close(fd)
            unlink(tasks[task].logPath)
        }
        preparedLogs = [:]
        for task in dispatcher.notStarted where claimedEver[task] {
            if claims[task] >= 0 { close(claims[task]) }
            if let config = tasks[task].config { AttemptRecord.abandon(config.resultsFolder) }
        }
        killLeftovers()
        return stopSignal
    }

    // MARK: - Waiting

    private func waitForEvents() {
        var entry = pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)
        let now = Clock.monotonic()
        let memory = memoryPolling?.timeout(now: now, waitingOnMemory: dispatcher.waitingOnMemory)
        _ = poll(&entry, 1, sooner(timers.pollTimeout(now: now), memory))
    }

    // MARK: - Starting

    private func launchWhatFits() {
        let now = Clock.monotonic()
        let readings = memoryPolling?.readIfDue(wanted: dispatcher.wantsMemoryReading, now: now, signals: signals.fd) { reporter.line($0) }
        if let readings { dispatcher.recordMemory(readings, now: now) }
        var launched = false
        while let (task, slots) = dispatcher.nextLaunch(now: now) {
            launch(task, on: slots)
            launched = true
        }
        memoryPolling?.placed(launched: launched, waitingOnMemory: dispatcher.waitingOnMemory, afterReading: readings != nil)
    }

    /// Only what the spawn needs comes before it: the rest waits until the child runs.
    private func launch(_ task: Int, on slots: [Slot]) {
        let spec = tasks[task]
        let gpu = TaskEnvironment.gpu(for: slots, ids: settings.gpuIDs)
        let argv = spec.argv(gpu: gpu, slot: slots[0].number)
        exec.reset()
        // multirun __reap PROGRAM -- ARGV: every process of the task ends before its slot
        // is freed, those that left its process group too.
        for word in ["multirun", TaskReaper.command, "--parent", ownPID] { exec.argument(word) }
        if spec.config != nil { exec.argument("--record") }
        for word in [spec.executable, "--"] { exec.argument(word) }
        for word in argv { exec.argument(word) }
        TaskEnvironment.add(gpu: gpu, slot: slots[0], config: spec.config?.path, output: spec.config?.resultsFolder,
                            identity: spec.config?.digest, to: &exec)
        exec.variable("MULTIRUN_TASK", task + 1, of: tasks.count)
        exec.variable("MULTIRUN_RUN_ID", settings.runID)
        let startWall = Clock.wall()
        let startMonotonic = Clock.monotonic()
        do {
            let logFD = try preparedLogs.removeValue(forKey: task) ?? openLog(spec.logPath)
            defer { close(logFD) }
            var lock: Int32 = -1
            if let config = spec.config {
                lock = claims[task] >= 0 ? claims[task] : try claim(task)
                claims[task] = -1
                if lock < 0 {
                    // Another run (or the daemon, or a killed run's task) runs it right now.
                    endedSinceWake.append((heldElsewhere(task, argv: argv, slots: slots, at: startWall), spec, dispatcher.taskEnded(task, status: .notStarted)))
                    return
                }
                // From here on its results are this attempt's: no marker may vouch for them.
                CompletionMarker.invalidate(config.resultsFolder)
            }
            defer { if lock >= 0 { close(lock) } }
            // The reaper holds the results folder's lock (its descriptor 3) while any of the
            // task lives, and writes its pid and the task's end into the record.
            let pid = try spawner.spawn(path: settings.reaper, strings: &exec, stdout: logFD, stderr: logFD, passing: lock >= 0 ? [lock] : [])
            running[pid] = Running(task: task, slots: slots, command: spec.display(argv), startMonotonic: startMonotonic, startWall: startWall)
            timers.started(pid, now: startMonotonic, timeout: settings.timeout)
            startedSinceWake.append(spec)
        } catch {
            var record = TaskRecord(number: task + 1, config: spec.config?.path, command: spec.display(argv), status: .failed)
            record.device = TaskEnvironment.deviceName(slots)
            record.slot = slots[0].number
            record.startWall = startWall
            record.endWall = startWall
            record.duration = 0
            record.exit = TaskExit(exitCode: 127)
            record.logPath = spec.logPath
            record.error = "\(error)"
            endedSinceWake.append((record, spec, dispatcher.taskEnded(task, status: .failed)))
        }
    }

    /// Logs and records what ended and started since the loop woke, in that order (reaped
    /// tasks took their k before any launch that failed).
    private func report() {
        // Tasks that ended without starting (a task they run after failed) are told in k order.
        var blocked = dispatcher.takeDependencyFailures()[...]
        for reaped in reapedSinceWake {
            while let first = blocked.first, first.k < reaped.k { reportDependencyFailure(blocked.removeFirst()) }
            reporter.ended(record(reaped), spec: tasks[reaped.entry.task], k: reaped.k)
        }
        for (record, spec, k) in endedSinceWake {
            while let first = blocked.first, first.k < k { reportDependencyFailure(blocked.removeFirst()) }
            reporter.ended(record, spec: spec, k: k)
        }
        for failure in blocked { reportDependencyFailure(failure) }
        for spec in startedSinceWake { reporter.started(spec) }
        reapedSinceWake.removeAll(keepingCapacity: true)
        endedSinceWake.removeAll(keepingCapacity: true)
        startedSinceWake.removeAll(keepingCapacity: true)
    }

    /// A task that never starts because a task it runs `after:` did not succeed.
    private func reportDependencyFailure(_ failure: (task: Int, k: Int, cause: Int)) {
        let spec = tasks[failure.task]
        var record = TaskRecord(number: failure.task + 1, config: spec.config?.path, command: spec.label, status: .dependencyFailed)
        record.error = "\(tasks[failure.cause].label), which it runs after, did not succeed"
        reporter.ended(record, spec: spec, k: failure.k)
    }

    /// Opens the logs of the next tasks (one per slot) and claims their results folders
    /// before the loop sleeps.
    private func prepareLogs() {
        for task in dispatcher.upcoming(dispatcher.pool.count) where preparedLogs[task] == nil {
            // A failure here is reported when the task launches and tries again.
            if let fd = try? openLog(tasks[task].logPath) { preparedLogs[task] = fd }
            // A claim that fails here (held elsewhere) is tried again, and reported, at launch.
            if tasks[task].config != nil && claims[task] < 0, let fd = try? claim(task), fd >= 0 { claims[task] = fd }
        }
    }

    /// Takes a config task's results folder (`AttemptRecord.claim`): the locked record's
    /// descriptor, or -1 when a running attempt elsewhere holds it.
    private func claim(_ task: Int) throws(SystemError) -> Int32 {
        guard let config = tasks[task].config else { return -1 }
        switch try AttemptRecord.claim(config, runID: settings.runID) {
        case .claimed(let fd):
            claimedEver[task] = true
            return fd
        case .held(let holder):
            holders[task] = holder
            return -1
        }
    }

    /// The record of a task left out because its results folder's lock is held.
    private func heldElsewhere(_ task: Int, argv: [String], slots: [Slot], at time: Int64) -> TaskRecord {
        let spec = tasks[task]
        var record = TaskRecord(number: task + 1, config: spec.config?.path, command: spec.display(argv), status: .notStarted)
        record.startWall = time
        record.endWall = time
        record.error = "still running from an earlier or another run (\(holders[task]?.description ?? "pid unknown")); it was left out"
        return record
    }

    private func openLog(_ path: String) throws(SystemError) -> Int32 {
        if let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) {
            let folder = String(path[..<slash])
            if folder != lastFolder {
                if !createdFolders.contains(folder) { try FileIO.makeDirectories(folder) }
                if !lastFolder.isEmpty { createdFolders.insert(lastFolder) }
                lastFolder = folder
            }
        }
        return try FileIO.openForWriting(path, O_WRONLY | O_TRUNC, access: .shared)
    }

    // MARK: - Ending

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            // Anything else we reap is an orphan re-parented to us (we are a subreaper).
            guard let entry = running.removeValue(forKey: pid) else { continue }
            timers.ended(pid)
            let exit = TaskExit(waitStatus: status)
            // A reaper killed from outside left its task to us: end it before the slot is reused.
            if exit.signal != nil { TaskReaper.killOrphans { running[$0] != nil } }
            finish(entry, pid: pid, exit: exit)
        }
    }

    /// Frees the task's slots at once; its record waits for `report()`.
    private func finish(_ entry: Running, pid: pid_t, exit: TaskExit) {
        let status = exit.status(timedOut: entry.timedOut, interrupted: entry.interrupted)
        let k = dispatcher.taskEnded(entry.task, status: status)
        memoryPolling?.taskEnded()
        reapedSinceWake.append(Reaped(entry: entry, pid: pid, exit: exit, status: status, endWall: Clock.wall(),
                                      endMonotonic: Clock.monotonic(), k: k))
    }

    private func record(_ reaped: Reaped) -> TaskRecord {
        let entry = reaped.entry
        let spec = tasks[entry.task]
        var record = TaskRecord(number: entry.task + 1, config: spec.config?.path, command: entry.command, status: reaped.status)
        record.device = TaskEnvironment.deviceName(entry.slots)
        record.slot = entry.slots[0].number
        record.pid = reaped.pid
        record.startWall = entry.startWall
        record.endWall = reaped.endWall
        record.duration = Double(reaped.endMonotonic - entry.startMonotonic) / 1e9
        record.exit = reaped.exit
        record.logPath = spec.logPath
        if spec.underShell, reaped.status == .failed, let signal = reaped.exit.signalReportedByShell { record.noteShellSignal(signal) }
        return record
    }

    // MARK: - Stopping

    /// First signal: start nothing more, TERM every task's group, KILL after the grace
    /// period. A second signal kills at once.
    private func stop(on signal: Int32) {
        let now = Clock.monotonic()
        if stopSignal != nil {
            for (pid, _) in running { timers.killNow(pid, now: now) }
            return
        }
        stopSignal = signal
        dispatcher.stop()
        reporter.line("Received \(signalName(signal)): stopping \(running.count) running task(s); they will run again next time")
        for pid in Array(running.keys) {
            running[pid]?.interrupted = true
            timers.terminate(pid, now: now)
        }
    }

    /// Descendants that escaped their process group were re-parented to us: kill and reap
    /// them so nothing of any task outlives multirun.
    private func killLeftovers() {
        while true {
            let children = Self.childPIDs()
            if children.isEmpty { return }
            for child in children { kill(child, SIGKILL) }
            var status: Int32 = 0
            while waitpid(-1, &status, 0) > 0 {}
        }
    }

    /// Our children, from every thread's /proc children list.
    static func childPIDs() -> [pid_t] {
        guard let threads = opendir("/proc/self/task") else { return [] }
        defer { closedir(threads) }
        var pids: [pid_t] = []
        while let entry = readdir(threads) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard !tid.hasPrefix("."), let text = try? FileIO.readText("/proc/self/task/\(tid)/children") else { continue }
            pids += text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
        }
        return pids
    }
}
