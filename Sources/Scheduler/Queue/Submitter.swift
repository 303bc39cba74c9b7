import Glibc

/// `multirun submit`: adds tasks to a queue folder and returns at once. Submits are
/// serialised by submit.lock and made idempotent by the key index (one read, one append),
/// never by reading or rewriting the queue's journal.
public enum Submitter {
    public struct Outcome: Sendable {
        public var added: [QueueTask] = []
        /// (label, why) for each task not added.
        public var skipped: [(String, String)] = []
        /// Configs whose results folder a queued or running task of another config (or
        /// another version of it) writes: when there are any, nothing was queued.
        public var collisions: [String] = []
        /// Dependencies that name nothing this queue has (`after:`, `--after`): when there
        /// are any, nothing was queued.
        public var unmetDependencies: [String] = []
        /// Why the key index could not record the tasks queued (they are queued all the same).
        public var keysNotRecorded: String?
        /// Damage found and repaired on the way (a `next-id` file rebuilt from the journal).
        public var warnings: [String] = []
    }

    /// Adds `plan`'s tasks; a task whose key exists (queued or running; for a command line,
    /// also completed) is skipped unless `force`. A config that completed was already left
    /// out of the plan by its marker.
    /// `captureEnvironment`: the tasks run with this process's environment (written once,
    /// to one env file for the whole submit), not the scheduler's.
    /// `priority`: every task's (`--priority`), else each config's. `after`: task ids every
    /// task starts only after (`--after`), beside its config's `after:`.
    static func submit(_ plan: RunPlan, to folder: QueueFolder, force: Bool, captureEnvironment: Bool = true,
                       retry: RetryPolicy = RetryPolicy(), priority: Int? = nil, after: [String] = []) throws(SystemError) -> Outcome {
        guard let lock = try FileLock(path: folder.path + "/submit.lock", mode: .exclusive, wait: true) else { return Outcome() }
        defer { _ = lock }
        let cwd = currentDirectory()
        let index = KeyIndex(folder: folder)
        let taken = index.load()
        var outcome = Outcome()
        var seen: Set<String> = []
        // Per planned task: where it went (added: its index in `added`; queued before: its
        // id), so `after:` between planned tasks becomes ids.
        var addedIndex: [Int: Int] = [:]
        var queuedID: [Int: String] = [:]
        for (planIndex, spec) in plan.tasks.enumerated() {
            var task = queueTask(for: spec, cwd: cwd)
            task.retry = retry
            task.priority = priority ?? spec.priority
            if !force && (taken[task.key] != nil || seen.contains(task.key)) {
                outcome.skipped.append((spec.label, "already queued, running or completed with the same content"))
                queuedID[planIndex] = taken[task.key]
                continue
            }
            // It may have completed since the plan looked (the scheduler writes the marker
            // before it releases the key): under the lock, the marker is the last word.
            if !force, let identity = task.identity, CompletionMarker.certifies(identity) {
                outcome.skipped.append((spec.label, "completed: its results folder holds a completion marker for it (pass -w to run it again)"))
                continue
            }
            seen.insert(task.key)
            if let identity = task.identity, let owner = taken[KeyIndex.folderKey(identity.resultsFolder)], taken[task.key] != owner {
                outcome.collisions.append("config \(spec.label): task \(owner) of queue \(folder.name), queued or running, writes the same results folder \(identity.resultsFolder)/; wait for it to end, or cancel it (multirun cancel \(owner))")
            }
            // A config it runs after that this submit does not hold: queued or running here.
            for other in spec.afterElsewhere {
                if let owner = taken[KeyIndex.folderKey(absolute(other.resultsFolder, cwd))] {
                    task.after.append(owner)
                } else {
                    outcome.unmetDependencies.append("config \(spec.label) runs after \(other.config), which -c did not select, which has not completed, and which is not queued or running in queue \(folder.name); add it to -c, or submit it first")
                }
            }
            addedIndex[planIndex] = outcome.added.count
            outcome.added.append(task)
        }
        try checkTaskIDs(after, in: folder, into: &outcome)
        // All or nothing: a submit that would put two writers on one folder, or that names a
        // dependency the queue lacks, queues nothing.
        if !outcome.collisions.isEmpty || !outcome.unmetDependencies.isEmpty { return outcome }
        for record in plan.skipped {
            outcome.skipped.append((record.config ?? record.command,
                                    record.error ?? "completed: its results folder holds a completion marker for it (pass -w to run it again)"))
        }
        var warnings: [String] = []
        let first = try TaskIDs.reserve(outcome.added.count, in: folder) { warnings.append($0) }
        outcome.warnings += warnings
        for i in outcome.added.indices { outcome.added[i].id = String(first + i) }
        for (planIndex, spec) in plan.tasks.enumerated() {
            guard let i = addedIndex[planIndex] else { continue }
            // A task it runs after that completed earlier was left out of the plan: nothing to wait for.
            let inPlan = spec.after.compactMap { addedIndex[$0].map { outcome.added[$0].id } ?? queuedID[$0] }
            for id in inPlan + after where !outcome.added[i].after.contains(id) { outcome.added[i].after.append(id) }
        }
        // One file for the whole submit, durable before the journal names it.
        if captureEnvironment, !outcome.added.isEmpty {
            let name = EnvironmentFile.name(firstTask: String(first))
            try EnvironmentFile.write(EnvironmentFile.currentBytes(), as: name, in: folder)
            for i in outcome.added.indices { outcome.added[i].environment = name }
        }
        // Journal first (the truth), then keys; a crash in between is healed by the scheduler.
        // All or nothing on a full disk: room for the keys is reserved first, and the journal
        // append lands whole or not at all.
        try index.reserve(outcome.added.flatMap(KeyIndex.openKeys))
        let span = try Journal(folder: folder).append(outcome.added.map { .submitted($0) })
        do { try index.add(outcome.added.flatMap(KeyIndex.openKeys)) } catch {
            // Queued all the same (the journal is the truth); a scheduler's start rebuilds the index.
            outcome.keysNotRecorded = "\(error)"
        }
        if let span { StatusSummary.advanceSnapshot(folder, submitted: outcome.added, from: span.before, to: span.after) }
        return outcome
    }

    /// `submit --after ID...`: each id must be a task of the queue that has not ended
    /// without succeeding (tasks after it could never start).
    private static func checkTaskIDs(_ ids: [String], in folder: QueueFolder, into outcome: inout Outcome) throws(SystemError) {
        guard !ids.isEmpty else { return }
        var state = QueueState()
        if FileIO.exists(folder.journal) {
            do { try Journal(folder: folder).readAll(light: true) { state.apply($0) } } catch {
                throw SystemError("cannot read the queue journal to check --after: \(error)", errno: EIO)
            }
        }
        for id in ids {
            guard let entry = state[id] else {
                outcome.unmetDependencies.append("--after \(id): queue \(folder.name) has no task \(id); see multirun status for the ids")
                continue
            }
            switch entry.phase {
            case .ended(.succeeded, _, _, _), .queued, .running: continue
            default:
                outcome.unmetDependencies.append("--after \(id): task \(id) (\(entry.task.label)) already ended as \(QueueState.name(of: entry.phase)), so these tasks could never start; restart it first (multirun restart \(id)), or drop --after \(id)")
            }
        }
    }

    /// A queue task for a planned task: absolute paths, placeholders for launch-time values.
    /// Its id is given once it is known to be added (`TaskIDs`).
    static func queueTask(for spec: TaskSpec, cwd: String) -> QueueTask {
        var argv: [String]
        var command: String
        var overwrite = false
        var commandWithOverwrite: String?
        switch spec.command {
        case .words(let words):
            argv = words
            command = spec.display(argv)
        case .runner(let template, var values):
            values.gpu = "{gpu}"
            argv = template.expand(values, keepingSlot: true, keepingOverwrite: true)
            command = spec.display(template.expand(values, keepingSlot: true))
            overwrite = values.overwrite
            if !overwrite {
                values.overwrite = true
                let shown = spec.display(template.expand(values, keepingSlot: true))
                if shown != command { commandWithOverwrite = shown }
            }
        }
        argv[0] = spec.program.hasPrefix("/") ? spec.program : cwd + "/" + spec.program
        // An MPI task: the launcher (found at submit, on the submitter's PATH) runs the runner.
        var launcherPrefix = ""
        if let launcher = spec.launcher {
            launcherPrefix = displayCommand(launcher.words) + " "
            command = launcherPrefix + command
            argv = [launcher.program] + launcher.words.dropFirst() + argv
        }
        let identity: String
        if let config = spec.config {
            identity = "config\0\(absolute(config.path, cwd))\0\(config.digest)"
        } else {
            // The same line of the same file is the same task; two equal lines are two tasks.
            identity = "command\0\(cwd)\0\(spec.source ?? "")\0\(spec.label)"
        }
        var task = QueueTask(id: "", key: SHA256.hex(Array(identity.utf8)), label: spec.label, command: command, argv: argv, cwd: cwd,
                             config: spec.config?.path, output: spec.config?.resultsFolder, submitted: Clock.wall(),
                             resources: spec.resources)
        task.underShell = spec.underShell
        task.overwrite = overwrite
        task.commandWithOverwrite = commandWithOverwrite.map { launcherPrefix + $0 }
        task.identity = spec.config.map { config in
            ConfigIdentity(path: config.path, name: config.name, sha256: config.sha256, resultsFolder: absolute(config.resultsFolder, cwd),
                           contentSHA256: config.contentSHA256, runner: config.runner)
        }
        return task
    }

    static func absolute(_ path: String, _ cwd: String) -> String { path.hasPrefix("/") ? path : cwd + "/" + path }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the working folder's name is valid UTF-8: the journal stores it as text, and
    /// a name that is not would be stored changed, so its tasks could never enter it.
    static func currentDirectoryIsUTF8() -> Bool {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return false }
        return String(validating: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) != nil
    }
}
