import CSystem
import Glibc

/// The queue subcommands: daemon, submit, status, cancel, wait, drain.
enum QueueCommands {
    // An array, not a Set: a Set<String> costs the runtime a scan of every protocol
    // conformance in the binary the first time, on every run's way to its first task.
    static let names = ["daemon", "submit", "status", "cancel", "wait", "drain", "log", "restart"]

    static func run(_ name: String, _ arguments: [String]) throws(UsageError) -> Int32 {
        if name == "log" { return try LogCommand.run(arguments) }
        if name == "restart" { return try RestartCommand.run(arguments) }
        let options = try OptionsParser.parse(arguments, requireTasks: name == "submit", allowPositionals: name == "cancel" || name == "wait", command: name)
        if options.showHelp {
            Console.standardOutput.block(CommandTable.helpPage(CommandTable.subcommand(name)!))
            return 0
        }
        let folder = QueueFolder.resolve(options.queue)
        switch name {
        case "daemon": return try daemon(options, folder)
        case "submit": return try submit(options, folder)
        case "status": return try status(options, folder)
        case "cancel": return try cancel(options, folder)
        case "wait": return try wait(options, folder)
        default: return try drain(folder)
        }
    }

    // MARK: - daemon

    static func daemon(_ options: Options, _ folder: QueueFolder) throws(UsageError) -> Int32 {
        if options.retry.retries > 0 || options.retry.codes != nil {
            throw UsageError("daemon: --retries and --retry-on belong to each task; give them to 'multirun submit', e.g. multirun submit -c REGEX --retries 2")
        }

        // Check the slots before touching the queue folder: a bad -d leaves nothing behind.
        let placement = try Placement.make(options)
        try folder.prepare()
        let lock: FileLock
        do {
            guard let taken = try FileLock(path: folder.schedulerLock, mode: .exclusive, wait: false) else {
                // cron's --exit-when-idle finds the scheduler it would have been: nothing to do.
                if options.exitWhenIdle { return 0 }
                Console.standardError.line("multirun: a scheduler\(schedulerPID(folder).map { " (pid \($0))" } ?? "") already runs queue \(folder.name); stop it first, or use another --queue")
                return 1
            }
            lock = taken
        } catch {
            throw UsageError("cannot lock the queue folder: \(error)")
        }
        FileLock.record(pid: getpid(), in: lock.fd)
        guard let own = ExecutableLookup.ownPath() else { throw UsageError("cannot find the multirun binary (/proc/self/exe)") }
        let log = SchedulerLog(path: folder.schedulerLog, echo: isatty(2) == 1)
        do {
            let scheduler = try QueueScheduler(
                folder: folder, pool: placement.pool,
                settings: .init(gpuIDs: placement.gpuIDs, timeout: options.timeout, grace: options.grace,
                                exitWhenIdle: options.exitWhenIdle, supervisor: own, policy: placement.policy,
                                memoryProbe: placement.universe.map { MemoryProbe($0, timeout: options.probeTimeout) },
                                halt: options.halt,
                                onEmpty: options.onEmpty, onFinish: options.onFinish, hookTimeout: options.onFinishTimeout,
                                // A daemon appends: cron starts one every few minutes.
                                joblog: options.joblog.map { $0.hasPrefix("+") ? $0 : "+" + $0 }),
                signals: try SignalChannel(), log: log)
            log.line("Scheduler \(getpid()) owns queue \(folder.name) with \(placement.pool.count) slot(s)")
            let code = try scheduler.run()
            _ = lock
            return code
        } catch {
            if let damage = error.damage {
                // Nothing more starts until the file is repaired; running attempts keep
                // running (their supervisors hold them) and the next scheduler adopts them.
                log.line("Scheduler stopped: \(damage)")
                // One line on stderr (the log already echoed it to a terminal).
                if isatty(2) != 1 { Console.standardError.line("multirun: \(damage)") }
                return 2
            }
            log.line("Scheduler failed: \(error)")
            Console.standardError.line("multirun: scheduler failed: \(error)")
            return 1
        }
    }

    /// A damaged queue file's own one-line message, else `message`.
    static func failure(_ error: SystemError, _ message: String) -> UsageError {
        UsageError(error.damage?.description ?? message)
    }

    static func schedulerPID(_ folder: QueueFolder) -> Int32? {
        FileLock.isHeld(folder.schedulerLock) ? FileLock.recordedPID(folder.schedulerLock) : nil
    }

    // MARK: - submit

    static func submit(_ options: Options, _ folder: QueueFolder) throws(UsageError) -> Int32 {
        if let halt = options.halt {
            throw UsageError("submit: --halt stops a scheduler, not a submit; give it to the daemon, e.g. multirun daemon --halt \(halt.text) -d ...")
        }
        guard Submitter.currentDirectoryIsUTF8() else {
            throw UsageError("the working folder's name is not valid UTF-8 (or it is gone), so its tasks could not be started in it; submit from a folder with a UTF-8 name")
        }
        try ResultsPaths.check([ConfigSelector.normalized(options.resultsDir)])
        let plan = try RunPlan.make(options, placement: nil, runFolder: folder.path)
        try ResultsPaths.check(plan.tasks.lazy.compactMap { $0.config?.resultsFolder })
        if options.dryRun { return dryRunSubmit(plan, options, folder) }
        // A queue that does not exist yet has no task to run after: refused before the
        // folder is made, so a refusal leaves nothing behind.
        if let id = options.after.first, !FileIO.exists(folder.journal) {
            throw UsageError("--after \(id): queue \(folder.name) has no task \(id); see multirun status for the ids; nothing was queued")
        }
        try folder.prepare()
        let outcome: Submitter.Outcome
        do { outcome = try Submitter.submit(plan, to: folder, force: options.overwrite, captureEnvironment: !options.noEnvironment,
                                                           retry: options.retry, priority: options.priority, after: options.after) } catch {
            throw failure(error, "cannot submit to \(folder.name): \(error); nothing was queued")
        }
        for warning in outcome.warnings { Console.standardError.line("multirun: " + warning) }
        let refusals = outcome.collisions + outcome.unmetDependencies
        if !refusals.isEmpty {
            throw UsageError(problems: refusals.count == 1 ? [refusals[0] + "; nothing was queued"] : refusals,
                             outcome: "nothing was queued")
        }
        let out = Console.standardOutput
        for task in outcome.added { out.line("Queued \(task.id) \(task.label)") }
        for (label, why) in outcome.skipped { out.line("Not queued \(label): \(why)") }
        let who = schedulerPID(folder).map { "the scheduler (pid \($0)) starts them as slots free up" }
            ?? "no scheduler runs on \(folder.name) yet; start one with: multirun daemon -d N ... (or --exit-when-idle from cron)"
        out.line("Submitted \(outcome.added.count) task(s), \(outcome.skipped.count) not queued; \(who)")
        if let why = outcome.keysNotRecorded {
            Console.standardError.line("multirun: the tasks above are queued, but keys.idx could not record them (\(why)); start a scheduler (it rebuilds the index) before submitting them again")
            return 1
        }
        return 0
    }

    /// `submit --dry-run`: what a submit would queue, in queue order, and what not and why
    /// (completed, or already queued as the key index says); writes nothing, not even the
    /// queue folder. `after:` and `--after` are checked by the real submit.
    static func dryRunSubmit(_ plan: RunPlan, _ options: Options, _ folder: QueueFolder) -> Int32 {
        let out = Console.standardOutput
        out.line("Dry run: nothing is queued and nothing is written.")
        let taken = options.overwrite ? [:] : KeyIndex(folder: folder).load()
        let cwd = Submitter.currentDirectory()
        var queued = 0
        var notQueued = 0
        for spec in plan.tasks {
            let task = Submitter.queueTask(for: spec, cwd: cwd)
            if let owner = taken[task.key] {
                out.line("Would not queue \(spec.label): already task \(owner) of queue \(folder.name) (queued, running or completed with the same content)")
                notQueued += 1
                continue
            }
            let priority = options.priority ?? spec.priority
            out.line("Would queue \(spec.label)\(priority != 0 ? " (priority \(priority))" : ""): \(task.command)")
            queued += 1
        }
        for record in plan.skipped {
            out.line("Would not queue \(record.config ?? record.command): \(record.error ?? "completed: its results folder holds a completion marker for it (pass -w to run it again)")")
            notQueued += 1
        }
        out.line("Dry run: \(queued) to queue, \(notQueued) not queued. Run without --dry-run to submit them.")
        return 0
    }

    // MARK: - status

    static func fold(_ folder: QueueFolder, light: Bool = false) throws(UsageError) -> QueueState {
        try fold(folder, light: light, journal: Journal(folder: folder)).state
    }

    /// The folded journal, and how much of the journal file it covers.
    static func fold(_ folder: QueueFolder, light: Bool, journal: Journal) throws(UsageError) -> (state: QueueState, mark: Journal.Mark) {
        var state = QueueState()
        guard FileIO.exists(folder.journal) else { return (state, journal.mark) }
        state.reserve(Int(FileIO.size(folder.journal) / 250) + 16)
        do {
            try journal.readAll(light: light) { state.apply($0) }
        } catch {
            throw failure(error, "cannot read the queue journal: \(error)")
        }
        return (state, journal.mark)
    }

    /// What the scheduler last wrote for the journal as it is now, or a fold of the journal
    /// (kept as the snapshot for the next call).
    static func summary(_ folder: QueueFolder) throws(UsageError) -> StatusSummary {
        if let summary = StatusSummary.readSnapshot(folder) { return summary }
        let journal = Journal(folder: folder)
        let (state, mark) = try fold(folder, light: true, journal: journal)
        let summary = StatusSummary(state)
        if FileIO.exists(folder.journal) { summary.writeSnapshot(folder, mark: mark) }
        return summary
    }

    static func status(_ options: Options, _ folder: QueueFolder) throws(UsageError) -> Int32 {
        try folder.prepare(create: false)
        let scheduler = schedulerPID(folder)
        let now = Clock.wall()
        let out = Console.standardOutput
        var kinds = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"]
        // Listed only in queues that had one, so other queues' status reads as before.
        let dependencyFailed = TaskStatus.dependencyFailed.rawValue
        if options.json {
            let state = try fold(folder, light: true)
            if state.counts[dependencyFailed, default: 0] > 0 { kinds.append(dependencyFailed) }
            var tasks: [JSON] = []
            for entry in state.entries {
                let id = entry.task.id
                var fields: [(String, JSON)] = [("id", .string(id)), ("label", .string(entry.task.label)),
                                                ("state", .string(QueueState.name(of: entry.phase))), ("attempts", .int(Int64(entry.attempts)))]
                switch entry.phase {
                case .running(let attempt, let device, let slot, let pid, let since):
                    fields += [("device", .string(device)), ("slot", .int(Int64(slot))), ("pid", .int(Int64(taskPID(pid, folder.taskPID(id, attempt))))),
                               ("elapsed_s", .double(Double(now - since) / 1e9)), ("log", .string(folder.log(id, attempt)))]
                case .ended(_, let exitCode, let signal, _):
                    fields += [("exit_code", .optional(exitCode)), ("signal", .optional(signal)),
                               ("log", .string(folder.log(id, max(entry.attempts, 1))))]
                default: break
                }
                tasks.append(.object(fields))
            }
            let body = JSON.object([
                ("queue", .string(folder.path)),
                ("scheduler_pid", scheduler.map { .int(Int64($0)) } ?? .null),
                ("counts", .object(kinds.map { ($0, .int(Int64(state.counts[$0, default: 0]))) })),
                ("tasks", .array(tasks)),
            ])
            out.line(body.encoded())
            return 0
        }
        let summary = try summary(folder)
        if summary.counts[dependencyFailed, default: 0] > 0 { kinds.append(dependencyFailed) }
        out.line("Queue \(folder.name): " + (scheduler.map { "scheduler running (pid \($0))" } ?? "no scheduler running"))
        out.line("  " + kinds.map { "\(summary.counts[$0, default: 0]) \($0.replacing("_", with: " "))" }.joined(separator: ", "))
        if !summary.running.isEmpty {
            out.line("Running:")
            for task in summary.running {
                let pid = taskPID(task.pid, folder.taskPID(task.id, task.attempt))
                out.line("  \(task.id)  \(task.device) slot \(task.slot)  pid \(pid)  \(Clock.duration(Double(now - task.since) / 1e9))  \(task.label)")
                for line in lastLines(folder.log(task.id, task.attempt), count: 2) { out.line("      | \(line)") }
            }
        }
        let queuedCount = summary.counts["queued", default: 0]
        if queuedCount > 0 {
            out.line("Queued (next \(summary.queued.count) of \(queuedCount)):")
            for task in summary.queued { out.line("  \(task.id)  \(task.label)") }
        }
        if summary.failureCount > 0 {
            out.line("Failed (last \(summary.failures.count) of \(summary.failureCount)):")
            for task in summary.failures {
                let how = task.status == .dependencyFailed ? "a task it runs after did not succeed" : task.exitCode.map { "exit \($0)" } ?? task.signal.map { "killed by signal \($0), \(signalName($0))" } ?? "no exit recorded"
                let log = folder.log(task.id, max(task.attempts, 1))
                // A task that failed before it could start (resources this scheduler lacks) has no log.
                let where_ = FileIO.exists(log) ? "log: \(log)" : "no log (it never started; see \(folder.schedulerLog))"
                out.line("  \(task.id)  \(task.status.rawValue) (\(how))  \(task.label)  \(where_)")
                for line in lastLines(log, count: 2) { out.line("      | \(line)") }
            }
        }
        return 0
    }

    /// A running task's pid: the journal's, or (the `started` event is written before the
    /// spawn, with none) the one its supervisor wrote into `pidFile` once it spawned it.
    static func taskPID(_ journaled: Int32, _ pidFile: String) -> Int32 {
        journaled != 0 ? journaled : FileLock.recordedPID(pidFile) ?? 0
    }

    /// The last `count` lines of a log, read from its end (a log may be gigabytes), each cut
    /// to its last `width` bytes.
    static func lastLines(_ path: String, count: Int, window: Int = 65536, width: Int = 240) -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return [] }
        let start = max(0, Int(info.st_size) - window)
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) - start)
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard read > 0 else { return [] }
        var lines = bytes[..<read].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.suffix(count).map { line in
            // Control bytes (escape sequences a task printed) are shown, not sent to the terminal.
            let shown = line.suffix(width).map { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }
            return (line.count > width ? "…" : "") + String(decoding: shown, as: UTF8.self)
        }
    }

    // MARK: - cancel, wait, drain

    static func targets(_ options: Options, _ state: QueueState, command: String) throws(UsageError) -> [String] {
        if options.all { return state.order }
        if options.positionals.isEmpty {
            throw UsageError("\(command) needs task ids (see multirun status) or --all")
        }
        for id in options.positionals where state[id] == nil {
            throw UsageError("no task \(id) in queue; see multirun status for the ids")
        }
        return options.positionals
    }

    static func cancel(_ options: Options, _ folder: QueueFolder) throws(UsageError) -> Int32 {
        try folder.prepare(create: false)
        let state = try fold(folder)
        let ids = try targets(options, state, command: "cancel").filter { state[$0]?.phase.isOpen == true }
        let now = Clock.wall()
        do { try Journal(folder: folder).append(ids.map { .cancelled(id: $0, time: now) }) } catch {
            throw UsageError("cannot write the queue journal: \(error)")
        }
        let schedulerRuns = schedulerPID(folder) != nil
        var stopping: [(pid_t, String)] = []
        for id in ids {
            guard let entry = state[id] else { continue }
            switch entry.phase {
            case .queued:
                try? KeyIndex(folder: folder).remove(key: entry.task.key, id: id)
                KeyIndex(folder: folder).releaseFolder(of: entry.task)
                Console.standardOutput.line("Cancelled \(id) \(entry.task.label)")
            case .running(let attempt, _, _, _, _):
                Console.standardOutput.line("Stopping \(id) \(entry.task.label)")
                // Without a scheduler, nobody else will signal it.
                // Only a held lock names a live supervisor; pid 1 would make kill(-1, …) signal
                // every process of the user.
                if !schedulerRuns, FileLock.isHeld(folder.runLock(id, attempt)), let pid = FileLock.recordedPID(folder.runLock(id, attempt)), pid > 1 {
                    stopping.append((pid, folder.runLock(id, attempt)))
                }
            default: break
            }
        }
        for (pid, _) in stopping { kill(-pid, SIGTERM) }
        if !stopping.isEmpty {
            let deadline = Clock.monotonic() + UInt64(options.grace * 1e9)
            for (pid, lock) in stopping {
                let pidfd = csystem_pidfd_open(pid)
                if pidfd >= 0 && FileLock.isHeld(lock) {
                    let now = Clock.monotonic()
                    var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                    if deadline <= now || poll(&entry, 1, Int32((deadline - now) / 1_000_000)) == 0 { kill(-pid, SIGKILL) }
                }
                if pidfd >= 0 { close(pidfd) }
            }
        }
        return 0
    }

    /// Sleeps until the journal changes (inotify on the queue folder, events about
    /// journal.jsonl only: our own reads and lock files must not wake us) or a stop signal
    /// arrives (Ctrl-C: 130, SIGTERM: 143, SIGHUP: 129).
    static func wait(_ options: Options, _ folder: QueueFolder) throws(UsageError) -> Int32 {
        try folder.prepare(create: false)
        var state = try fold(folder)
        let ids = options.positionals.isEmpty ? state.order : try targets(options, state, command: "wait")
        let signals: SignalChannel
        do { signals = try SignalChannel() } catch { throw UsageError("cannot wait: \(error)") }
        let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0, inotify_add_watch(inotify, folder.path, UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)) >= 0 else {
            throw UsageError("cannot watch \(folder.name) for changes")
        }
        defer { close(inotify) }
        let journal = Journal(folder: folder)
        var warned = false
        while true {
            do { for event in try journal.readNew() { state.apply(event) } } catch {
                throw failure(error, "cannot read the queue journal: \(error)")
            }
            let open = ids.filter { state[$0]?.phase.isOpen == true }
            if open.isEmpty { break }
            if !warned && schedulerPID(folder) == nil {
                Console.standardError.line("multirun: no scheduler runs on \(folder.name) yet; waiting for one to run the \(open.count) open task(s)")
                warned = true
            }
            var journalChanged = false
            while !journalChanged {
                var entries = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)]
                _ = poll(&entries, 2, -1)
                if let stop = signals.drain().first(where: { $0 != SIGCHLD }) { return 128 + stop }
                journalChanged = Self.namesJournal(readingEventsOf: inotify)
            }
        }
        let allSucceeded = ids.allSatisfy { id in
            if case .ended(.succeeded, _, _, _)? = state[id]?.phase { return true }
            return false
        }
        return allSucceeded ? 0 : 1
    }

    /// Reads every pending inotify event; true if one is about journal.jsonl.
    static func namesJournal(readingEventsOf inotify: Int32) -> Bool {
        var found = false
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = read(inotify, &buffer, buffer.count)
            guard count > 0 else { return found }
            var offset = 0
            // struct inotify_event: wd, mask, cookie, len (4 bytes each), then len bytes of name.
            while offset + 16 <= count {
                let length = Int(buffer[offset + 12]) | Int(buffer[offset + 13]) << 8 | Int(buffer[offset + 14]) << 16 | Int(buffer[offset + 15]) << 24
                let nameEnd = min(offset + 16 + length, count)
                let name = buffer[(offset + 16)..<nameEnd].prefix { $0 != 0 }
                if name.elementsEqual("journal.jsonl".utf8) { found = true }
                offset = nameEnd
            }
        }
    }

    static func drain(_ folder: QueueFolder) throws(UsageError) -> Int32 {
        try folder.prepare(create: false)
        guard let pid = schedulerPID(folder) else {
            Console.standardOutput.line("No scheduler runs on \(folder.name); nothing to drain")
            return 0
        }
        do { try Journal(folder: folder).append([.drain(time: Clock.wall())]) } catch {
            throw UsageError("cannot write the queue journal: \(error)")
        }
        Console.standardOutput.line("Asked the scheduler (pid \(pid)) to drain: running tasks finish, nothing new starts, then it exits")
        return 0
    }
}
