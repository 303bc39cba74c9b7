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
        /// `--retries`/`--retry-on` and `--halt`.
        public var retry = RetryPolicy()
        public var halt: HaltPolicy?

        /// `--on-finish`: a shell command run after each task ends, off the dispatch path.
        public var onFinish: OnFinish?

        public struct OnFinish: Sendable {
            public var command: String
            public var timeout: Double
            /// Where the hooks' stdout and stderr are appended.
            public var log: String
            public init(command: String, timeout: Double, log: String) {
                self.command = command
                self.timeout = timeout
                self.log = log
            }
        }

        public init(gpuIDs: [String]?, timeout: Double?, grace: Double, runID: String, memoryProbe: MemoryProbe? = nil, reaper: String,
                    retry: RetryPolicy = RetryPolicy(), halt: HaltPolicy? = nil, onFinish: OnFinish? = nil) {
            self.retry = retry
            self.halt = halt
            self.onFinish = onFinish
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
        let attempt: Int
        let logPath: String
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
        let outcome: Dispatcher.AttemptOutcome
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
    /// The halt condition, once it held and the run acted on it.
    public private(set) var halted: String?
    private var haltLine: String?
    /// What happened since the loop last woke, reported once the free slots are filled:
    /// the next task starts before we spend time writing about the last one (its JSON line,
    /// and in config mode its fsynced completion marker). The terminal still reads in order.
    private var reapedSinceWake: [Reaped] = []
    private var endedSinceWake: [(record: TaskRecord, spec: TaskSpec, k: Int)] = []
    private var startedSinceWake: [TaskSpec] = []
    /// When the free-memory gate reads nvidia-smi; nil when no task asks for memory.
    private let memoryPolling: MemoryPolling?
    /// Running `--on-finish` hooks: pid → the task they are about, and whether they ran
    /// past their limit. Hooks never hold a slot; the run waits for them only at its end.
    private var hooks: [pid_t: (task: Int, timedOut: Bool)] = [:]
    private var hookLog: Int32 = -1
    private var hookExec: ExecStrings?
    /// The last memory readings, and the task whose wait for memory was said.
    private var lastReadings: [Int: MemoryGate.Reading] = [:]
    private var saidMemoryWait: Int?

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
        dispatcher.retry = settings.retry
        dispatcher.halt = settings.halt
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
        haltIfDue()
        report()
        prepareLogs()
        while !dispatcher.isDone || !hooks.isEmpty {
            waitForEvents()
            // Reap first: a task that ended before a stop signal of the same wake-up keeps
            // its real outcome instead of being recorded as interrupted.
            let arrived = signals.drain()
            reap()
            for signal in arrived where signal != SIGCHLD { stop(on: signal) }
            for pid in timers.fire(now: Clock.monotonic()) {
                running[pid]?.timedOut = true
                hooks[pid]?.timedOut = true
            }
            haltIfDue()
            launchWhatFits()
            // A task that could not start may have met the halt rule too.
            haltIfDue()
            report()
            prepareLogs()
        }
        for task in dispatcher.notStarted {
            var record = TaskRecord(number: task + 1, config: tasks[task].config?.path, command: tasks[task].label, status: .notStarted)
            record.attempt = dispatcher.attempts[task]
            reporter.notRun(record)
        }
        // Logs prepared for tasks that never started would only confuse: remove them, and
        // the claims on results folders those tasks never wrote to.
        for (task, fd) in preparedLogs {
            close(fd)
            unlink(Self.logPath(tasks[task].logPath, attempt: dispatcher.attempts[task] + 1))
        }
        preparedLogs = [:]
        for task in dispatcher.notStarted where claimedEver[task] {
            if claims[task] >= 0 { close(claims[task]) }
            if let config = tasks[task].config { AttemptRecord.abandon(config.resultsFolder) }
        }
        killLeftovers()
        if hookLog >= 0 { close(hookLog) }
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
        if let readings {
            dispatcher.recordMemory(readings, now: now)
            lastReadings = readings
        }
        var launched = false
        while let (task, slots) = dispatcher.nextLaunch(now: now) {
            launch(task, on: slots)
            launched = true
        }
        memoryPolling?.placed(launched: launched, waitingOnMemory: dispatcher.waitingOnMemory, afterReading: readings != nil)
        if dispatcher.waitingOnMemory { sayMemoryWait() }
    }

    /// Says once per task that the first GPU task in line waits for free memory: which
    /// task, how much it needs on how many GPUs, and what the GPUs had free at the last reading.
    private func sayMemoryWait() {
        guard let task = dispatcher.states.indices.first(where: { dispatcher.states[$0] == .queued && !tasks[$0].demand.isCPU }),
              saidMemoryWait != task else { return }
        saidMemoryWait = task
        let demand = tasks[task].demand
        let free = lastReadings.keys.sorted().map { gpu -> String in
            let reading = lastReadings[gpu]!
            return "gpu\(gpu) \(ByteSize.describe(mebibytes: max(0, reading.totalMiB - reading.usedMiB)))"
        }
        let gpus = demand.gpus == 1 ? "a GPU" : "each of \(demand.gpus) GPUs"
        let seen = free.isEmpty ? "no reading yet" : "free now: " + free.joined(separator: ", ")
        reporter.line("Waiting for GPU memory: [\(task + 1)/\(tasks.count)] \(tasks[task].label) needs \(ByteSize.describe(mebibytes: demand.memoryMiB)) free on \(gpus) (\(seen), less what tasks just started may take)")
    }

    /// Only what the spawn needs comes before it: the rest waits until the child runs.
    private func launch(_ task: Int, on slots: [Slot]) {
        let spec = tasks[task]
        let attempt = dispatcher.attempts[task]
        let logPath = Self.logPath(spec.logPath, attempt: attempt)
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
        if settings.retry.retries > 0 { exec.variable("MULTIRUN_ATTEMPT", attempt) }
        let startWall = Clock.wall()
        let startMonotonic = Clock.monotonic()
        do {
            let logFD = try preparedLogs.removeValue(forKey: task) ?? openLog(logPath)
            defer { close(logFD) }
            var lock: Int32 = -1
            if let config = spec.config {
                lock = claims[task] >= 0 ? claims[task] : try claim(task)
                claims[task] = -1
                if lock < 0 {
                    // Another run (or the daemon, or a killed run's task) runs it right now.
                    var record = heldElsewhere(task, argv: argv, slots: slots, at: startWall)
                    record.attempt = attempt
                    endedSinceWake.append((record, spec, dispatcher.taskEnded(task, status: .notStarted)))
                    return
                }
                // From here on its results are this attempt's: no marker may vouch for them.
                CompletionMarker.invalidate(config.resultsFolder)
            }
            defer { if lock >= 0 { close(lock) } }
            // The reaper holds the results folder's lock (its descriptor 3) while any of the
            // task lives, and writes its pid and the task's end into the record.
            let pid = try spawner.spawn(path: settings.reaper, strings: &exec, stdout: logFD, stderr: logFD, passing: lock >= 0 ? [lock] : [])
            running[pid] = Running(task: task, slots: slots, command: spec.display(argv), attempt: attempt, logPath: logPath,
                                   startMonotonic: startMonotonic, startWall: startWall)
            // A config's `resources: {time: ...}` overrides --timeout.
            timers.started(pid, now: startMonotonic, timeout: spec.resources.time ?? settings.timeout)
            startedSinceWake.append(spec)
        } catch {
            var record = TaskRecord(number: task + 1, config: spec.config?.path, command: spec.display(argv), status: .failed)
            record.device = TaskEnvironment.deviceName(slots)
            record.slot = slots[0].number
            record.startWall = startWall
            record.endWall = startWall
            record.duration = 0
            record.exit = TaskExit(exitCode: 127)
            record.logPath = logPath
            record.attempt = attempt
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
            switch reaped.outcome {
            case .final(let k):
                while let first = blocked.first, first.k < k { reportDependencyFailure(blocked.removeFirst()) }
                reporter.ended(record(reaped), spec: tasks[reaped.entry.task], k: k)
            case .retry(let next): reporter.retried(record(reaped), next: next, of: settings.retry.retries + 1)
            }
        }
        for (record, spec, k) in endedSinceWake {
            while let first = blocked.first, first.k < k { reportDependencyFailure(blocked.removeFirst()) }
            reporter.ended(record, spec: spec, k: k)
        }
        for failure in blocked { reportDependencyFailure(failure) }
        if let line = haltLine {
            reporter.line(line)
            haltLine = nil
        }
        // A hook follows a task's last attempt; none start once a stop was asked for.
        if settings.onFinish != nil && stopSignal == nil {
            for reaped in reapedSinceWake {
                if case .final = reaped.outcome { startHook(record(reaped), task: reaped.entry.task) }
            }
            for (record, _, _) in endedSinceWake where record.status != .notStarted { startHook(record, task: record.number - 1) }
        }
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
        if settings.onFinish != nil && stopSignal == nil { startHook(record, task: failure.task) }
    }

    /// Opens the logs of the next tasks (one per slot) and claims their results folders
    /// before the loop sleeps.
    private func prepareLogs() {
        for task in dispatcher.upcoming(dispatcher.pool.count) where preparedLogs[task] == nil {
            // A failure here is reported when the task launches and tries again.
            if let fd = try? openLog(Self.logPath(tasks[task].logPath, attempt: dispatcher.attempts[task] + 1)) { preparedLogs[task] = fd }
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

    // MARK: - Hooks

    /// Starts the `--on-finish` hook for an ended task: `/bin/sh -c CMD` in a session of its
    /// own, the facts in its environment, output appended to the hooks' log. A hook that
    /// cannot start is said in one line; the run goes on.
    private func startHook(_ record: TaskRecord, task: Int) {
        guard let hook = settings.onFinish else { return }
        if hookLog < 0 {
            hookLog = (try? FileIO.openForWriting(hook.log, O_WRONLY | O_APPEND, access: .shared)) ?? -1
        }
        if hookExec == nil { hookExec = ExecStrings(inheriting: TaskEnvironment.inherited()) }
        var strings = hookExec!
        hookExec = nil
        defer { hookExec = strings }
        strings.reset()
        for word in ["sh", "-c", hook.command] { strings.argument(word) }
        strings.variable("MULTIRUN_TASK", task + 1, of: tasks.count)
        strings.variable("MULTIRUN_RUN_ID", settings.runID)
        strings.variable("MULTIRUN_CONFIG", record.config ?? "")
        strings.variable("MULTIRUN_COMMAND", record.command)
        strings.variable("MULTIRUN_STATUS", record.status.rawValue)
        strings.variable("MULTIRUN_EXIT_CODE", record.exit.exitCode.map(String.init) ?? "")
        strings.variable("MULTIRUN_SIGNAL", record.exit.signal.map(String.init) ?? "")
        strings.variable("MULTIRUN_DURATION", record.duration.map { JobLog.millis(Int(($0 * 1000).rounded())) } ?? "0.000")
        strings.variable("MULTIRUN_DEVICE", record.device ?? "")
        strings.variable("MULTIRUN_LOG", record.logPath ?? "")
        strings.variable("MULTIRUN_ATTEMPT", record.attempt)
        strings.variable("MULTIRUN_OUTPUT", tasks[task].config?.resultsFolder ?? "")
        let out = hookLog >= 0 ? hookLog : open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { if hookLog < 0 { close(out) } }
        do {
            let pid = try spawner.spawn(path: "/bin/sh", strings: &strings, stdout: out, stderr: out)
            hooks[pid] = (task, false)
            timers.started(pid, now: Clock.monotonic(), timeout: hook.timeout)
        } catch {
            reporter.line("Warning: the --on-finish hook for [\(task + 1)/\(tasks.count)] could not start (\(error)); the run goes on")
        }
    }

    /// A hook ended: a failure is said in one line, never more.
    private func hookEnded(_ pid: pid_t, _ hook: (task: Int, timedOut: Bool), status: Int32) {
        timers.ended(pid)
        let exit = TaskExit(waitStatus: status)
        let log = settings.onFinish.map { " (output: \($0.log))" } ?? ""
        let which = "the --on-finish hook for [\(hook.task + 1)/\(tasks.count)] \(tasks[hook.task].label)"
        if hook.timedOut {
            reporter.line("Warning: \(which) ran past --on-finish-timeout and was stopped\(log); the run goes on")
        } else if let signal = exit.signal, stopSignal == nil {
            reporter.line("Warning: \(which) was killed by signal \(signal) (\(signalName(signal)))\(log); the run goes on")
        } else if let code = exit.exitCode, code != 0 {
            reporter.line("Warning: \(which) failed with exit code \(code)\(log); the run goes on")
        }
    }

    // MARK: - Ending

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if let hook = hooks.removeValue(forKey: pid) {
                hookEnded(pid, hook, status: status)
                continue
            }
            // Anything else we reap is an orphan re-parented to us (we are a subreaper).
            guard let entry = running.removeValue(forKey: pid) else { continue }
            timers.ended(pid)
            let exit = TaskExit(waitStatus: status)
            // A reaper killed from outside left its task to us: end it before the slot is reused.
            if exit.signal != nil { TaskReaper.killOrphans { running[$0] != nil || hooks[$0] != nil } }
            finish(entry, pid: pid, exit: exit)
        }
    }

    /// Frees the task's slots at once; its record waits for `report()`.
    private func finish(_ entry: Running, pid: pid_t, exit: TaskExit) {
        let status = exit.status(timedOut: entry.timedOut, interrupted: entry.interrupted)
        let outcome = dispatcher.attemptEnded(entry.task, status: status, exit: exit)
        memoryPolling?.taskEnded()
        reapedSinceWake.append(Reaped(entry: entry, pid: pid, exit: exit, status: status, endWall: Clock.wall(),
                                      endMonotonic: Clock.monotonic(), outcome: outcome))
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
        record.logPath = entry.logPath
        record.attempt = entry.attempt
        if spec.underShell, reaped.status == .failed, let signal = reaped.exit.signalReportedByShell { record.noteShellSignal(signal) }
        return record
    }

    // MARK: - Stopping

    /// The log of attempt `attempt`: the task's log for the first, `NAME.attempt-K.log`
    /// beside it for the others, so no attempt's output is lost.
    static func logPath(_ path: String, attempt: Int) -> String {
        guard attempt > 1 else { return path }
        let base = path.hasSuffix(".log") ? String(path.dropLast(4)) : path
        return "\(base).attempt-\(attempt).log"
    }

    /// Acts once on a halt condition the dispatcher found: it already starts nothing
    /// more; `now` also stops the running tasks (recorded as interrupted, so they run
    /// again next time).
    private func haltIfDue() {
        guard halted == nil, stopSignal == nil, let policy = dispatcher.halted else { return }
        let reason = policy.reason(failed: dispatcher.failedCount, succeeded: dispatcher.succeededCount)
        halted = reason
        if policy.when == .now {
            haltLine = "Halting (\(reason)): stopping \(running.count) running task(s); they will run again next time"
            let now = Clock.monotonic()
            for pid in Array(running.keys) {
                running[pid]?.interrupted = true
                timers.terminate(pid, now: now)
            }
        } else {
            haltLine = "Halting (\(reason)): starting no more tasks" + (running.isEmpty ? "" : "; waiting for \(running.count) running task(s)")
        }
    }

    /// First signal: start nothing more, TERM every task's group, KILL after the grace
    /// period. A second signal kills at once.
    private func stop(on signal: Int32) {
        let now = Clock.monotonic()
        if stopSignal != nil {
            for (pid, _) in running { timers.killNow(pid, now: now) }
            for pid in hooks.keys { timers.killNow(pid, now: now) }
            return
        }
        stopSignal = signal
        dispatcher.stop()
        reporter.line("Received \(signalName(signal)): stopping \(running.count) running task(s); they will run again next time")
        for pid in Array(running.keys) {
            running[pid]?.interrupted = true
            timers.terminate(pid, now: now)
        }
        for pid in hooks.keys { timers.terminate(pid, now: now) }
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
