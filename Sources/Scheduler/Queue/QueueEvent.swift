/// One line of the queue journal. Applying an event twice has the same effect as once,
/// so replaying a journal (or part of it) after a crash or a compaction is always safe.
public enum QueueEvent: Equatable, Sendable {
    /// A task was added: its argv, working folder, and the key that makes submits idempotent.
    case submitted(QueueTask)
    /// The scheduler is about to start attempt `attempt` on `device`/`slot` (written before
    /// the spawn, so a crash in between is seen as an attempt that never ran).
    case started(id: String, attempt: Int, device: String, slot: Int, pid: Int32, time: Int64)
    /// The attempt's process ended (exit record from its supervisor).
    case ended(id: String, attempt: Int, exitCode: Int32?, signal: Int32?, status: TaskStatus, time: Int64)
    /// The attempt did not finish (scheduler stopped, or its supervisor vanished): queue it again.
    case interrupted(id: String, attempt: Int, time: Int64)
    case cancelled(id: String, time: Int64)
    /// `multirun restart`: an ended or cancelled task is queued again (its next attempt
    /// is `attempts + 1`; earlier attempts' logs stay).
    /// `env`: the environment file it starts with from now on, when its submit's is gone.
    /// `overwrite`: `restart -w`; it runs as if submitted with -w from now on.
    case restarted(id: String, env: String?, overwrite: Bool = false, time: Int64)
    /// `multirun drain`: start nothing new, let running tasks finish, then exit.
    case drain(time: Int64)
    /// A queued task will never start: `after`, a task it runs after, ended without
    /// succeeding (or is not in the queue).
    case dependencyFailed(id: String, after: String, time: Int64)

    public var json: JSON {
        switch self {
        case .submitted(let task):
            return .object([
                ("e", .string("submitted")), ("id", .string(task.id)), ("key", .string(task.key)),
                ("label", .string(task.label)), ("command", .string(task.command)), ("argv", .array(task.argv.map { .string($0) })),
                ("cwd", .string(task.cwd)), ("config", .optional(task.config)), ("output", .optional(task.output)),
                ("t", .int(task.submitted)),
            ] + task.resources.fields + (task.underShell ? [("shell", .bool(true))] : [])
              + (task.retry.retries > 0 ? [("retries", .int(Int64(task.retry.retries)))] : [])
              + (task.retry.codes.map { [("retry_on", .string($0.map(String.init).joined(separator: ",")))] } ?? [])
              + (task.overwrite ? [("overwrite", .bool(true))] : [])
              + (task.commandWithOverwrite.map { [("command_w", .string($0))] } ?? [])
              + (task.priority != 0 ? [("priority", .int(Int64(task.priority)))] : [])
              + (task.after.isEmpty ? [] : [("after", .array(task.after.map { .string($0) }))])
              + (task.environment.map { [("env", .string($0))] } ?? []) + (task.identity.map { identity in
                [("config_name", .string(identity.name)), ("results", .string(identity.resultsFolder)), ("config_sha256", .string(identity.sha256)),
                 ("content_sha256", .string(identity.contentSHA256)), ("runner", .string(identity.runner))]
            } ?? []))
        case .started(let id, let attempt, let device, let slot, let pid, let time):
            return .object([("e", .string("started")), ("id", .string(id)), ("attempt", .int(Int64(attempt))),
                            ("device", .string(device)), ("slot", .int(Int64(slot))), ("pid", .int(Int64(pid))), ("t", .int(time))])
        case .ended(let id, let attempt, let exitCode, let signal, let status, let time):
            return .object([("e", .string("ended")), ("id", .string(id)), ("attempt", .int(Int64(attempt))),
                            ("exit_code", .optional(exitCode)), ("signal", .optional(signal)),
                            ("status", .string(status.rawValue)), ("t", .int(time))])
        case .interrupted(let id, let attempt, let time):
            return .object([("e", .string("interrupted")), ("id", .string(id)), ("attempt", .int(Int64(attempt))), ("t", .int(time))])
        case .cancelled(let id, let time):
            return .object([("e", .string("cancelled")), ("id", .string(id)), ("t", .int(time))])
        case .drain(let time):
            return .object([("e", .string("drain")), ("t", .int(time))])
        case .dependencyFailed(let id, let after, let time):
            return .object([("e", .string("dependency_failed")), ("id", .string(id)), ("after", .string(after)), ("t", .int(time))])
        case .restarted(let id, let env, let overwrite, let time):
            return .object([("e", .string("restarted")), ("id", .string(id))] + (env.map { [("env", .string($0))] } ?? [])
                           + (overwrite ? [("overwrite", .bool(true))] : []) + [("t", .int(time))])
        }
    }

    /// The journal's text for `events`: one JSON line each, as bytes ready to write.
    public static func lines(_ events: [QueueEvent]) -> [UInt8] {
        var bytes: [UInt8] = []
        for event in events { bytes += event.json.bytes(newline: true) }
        return bytes
    }

    /// Reads one journal line; nil for a line that is not a complete event (see `decode`).
    /// `light` skips what only a scheduler needs (argv, folder, output), for `status`.
    public init?(line: ArraySlice<UInt8>, light: Bool = false) {
        guard let event = try? Self.decode(line: line, light: light) else { return nil }
        self = event
    }

    /// Fields only a scheduler needs: `light` reads check them but do not build them.
    private static let heavyFields: Set<String> = ["command", "argv", "cwd", "config", "output", "results", "config_name",
                                                   "config_sha256", "content_sha256", "runner", "shell", "env", "command_w"]

    /// Reads one journal line (without its line break) from any bytes: throws what is wrong
    /// with it, and never traps. Every integer is checked against `QueueLimits`, every id
    /// against `QueueLimits.isValidID`; an unknown event kind is an error too (a journal of
    /// a newer multirun is not run by an older one). A field this version does not know
    /// is stepped over. `light` skips building what only a scheduler needs, for `status`.
    public static func decode(line: ArraySlice<UInt8>, light: Bool = false) throws(QueueDecodeError) -> QueueEvent {
        var fields = FlatFields()
        try FlatJSON.fields(line, wanted: { !light || !heavyFields.contains($0) }) { name, value throws(QueueDecodeError) in
            fields.values[name] = value
        }
        guard let kind = try fields.string("e") else { throw QueueDecodeError("field 'e' (the event kind) is missing") }
        let time = try fields.int("t", QueueLimits.time) ?? 0
        func id() throws(QueueDecodeError) -> String {
            guard let id = try fields.string("id") else { throw QueueDecodeError("field 'id' is missing") }
            guard QueueLimits.isValidID(id) else { throw QueueDecodeError("field 'id' is not a task id ('\(QueueText.shown(id))')") }
            return id
        }
        func attempt() throws(QueueDecodeError) -> Int {
            guard let attempt = try fields.int("attempt", QueueLimits.attempt) else { throw QueueDecodeError("field 'attempt' is missing") }
            return Int(attempt)
        }
        switch kind {
        case "submitted":
            let id = try id()
            guard let key = try fields.string("key"), !key.isEmpty else { throw QueueDecodeError("field 'key' is missing") }
            let label = try fields.string("label") ?? ""
            var resources = TaskResources()
            resources.gpus = try fields.int("gpus", QueueLimits.gpus).map { Int($0) }
            if let pool = try fields.string("pool") { resources.cpu = pool == "cpu" }
            resources.mpiProcesses = try fields.int("np", QueueLimits.mpiProcesses).map { Int($0) }
            resources.gpuMemoryMiB = try fields.int("gpu_memory_mib", QueueLimits.gpuMemoryMiB).map { Int($0) }
            resources.time = try fields.int("time_ms", QueueLimits.timeLimitMilliseconds).map { Double($0) / 1000 }
            var retry = RetryPolicy(retries: Int(try fields.int("retries", QueueLimits.retries) ?? 0))
            if let codes = try fields.string("retry_on") {
                guard let parsed = RetryPolicy.parseCodes(codes) else { throw QueueDecodeError("field 'retry_on' is not a list of exit codes from 1 to 255 ('\(QueueText.shown(codes))')") }
                retry.codes = parsed
            }
            let argv = try fields.strings("argv") ?? []
            guard light || !argv.isEmpty else { throw QueueDecodeError("field 'argv' is missing or empty") }
            let config = try fields.string("config")
            var task = QueueTask(id: id, key: key, label: label, command: try fields.string("command") ?? label, argv: argv,
                                 cwd: try fields.string("cwd") ?? "", config: config, output: try fields.string("output"),
                                 submitted: time, resources: resources)
            task.underShell = try fields.bool("shell") ?? false
            task.overwrite = try fields.bool("overwrite") ?? false
            task.commandWithOverwrite = light ? nil : try fields.string("command_w")
            task.priority = Int(try fields.int("priority", QueueLimits.priority) ?? 0)
            task.after = try fields.strings("after") ?? []
            if let bad = task.after.first(where: { !QueueLimits.isValidID($0) }) {
                throw QueueDecodeError("field 'after' holds something that is not a task id ('\(QueueText.shown(bad))')")
            }
            task.retry = retry
            task.environment = try fields.string("env")
            if let config, let configName = try fields.string("config_name"), let results = try fields.string("results"),
               let configSHA256 = try fields.string("config_sha256"), let contentSHA256 = try fields.string("content_sha256"),
               let runner = try fields.string("runner") {
                task.identity = ConfigIdentity(path: config, name: configName, sha256: configSHA256, resultsFolder: results,
                                               contentSHA256: contentSHA256, runner: runner)
            }
            if light {
                // Checked above, not built: status needs none of it.
                task.command = label
                task.cwd = ""
                task.config = nil
                task.output = nil
                task.environment = nil
                task.identity = nil
                task.underShell = false
            }
            return .submitted(task)
        case "started":
            let id = try id(), attempt = try attempt()
            guard let device = try fields.string("device") else { throw QueueDecodeError("field 'device' is missing") }
            guard let slot = try fields.int("slot", QueueLimits.slot) else { throw QueueDecodeError("field 'slot' is missing") }
            guard let pid = try fields.int("pid", QueueLimits.pid) else { throw QueueDecodeError("field 'pid' is missing") }
            return .started(id: id, attempt: attempt, device: device, slot: Int(slot), pid: Int32(pid), time: time)
        case "ended":
            let id = try id(), attempt = try attempt()
            guard let name = try fields.string("status") else { throw QueueDecodeError("field 'status' is missing") }
            guard let status = TaskStatus(rawValue: name) else { throw QueueDecodeError("field 'status' is not a task status ('\(QueueText.shown(name))')") }
            let exitCode = try fields.int("exit_code", QueueLimits.exitCode).map { Int32($0) }
            let signal = try fields.int("signal", QueueLimits.signal).map { Int32($0) }
            return .ended(id: id, attempt: attempt, exitCode: exitCode, signal: signal, status: status, time: time)
        case "interrupted":
            let id = try id(), attempt = try attempt()
            return .interrupted(id: id, attempt: attempt, time: time)
        case "cancelled":
            return .cancelled(id: try id(), time: time)
        case "drain":
            return .drain(time: time)
        case "dependency_failed":
            let id = try id()
            let after = try fields.string("after") ?? ""
            guard after.isEmpty || QueueLimits.isValidID(after) else { throw QueueDecodeError("field 'after' is not a task id ('\(QueueText.shown(after))')") }
            return .dependencyFailed(id: id, after: after, time: time)
        case "restarted":
            return .restarted(id: try id(), env: light ? nil : try fields.string("env"), overwrite: try fields.bool("overwrite") ?? false, time: time)
        default:
            throw QueueDecodeError("unknown event '\(QueueText.shown(kind))'")
        }
    }
}

/// A task as submitted: what to run and where.
public struct QueueTask: Equatable, Sendable {
    public var id: String
    /// sha256 of what makes two submits "the same task" (config path and content, or command and folder).
    public var key: String
    /// What log lines name: the config path or the command line.
    public var label: String
    /// The command as `The process finished: ...` shows it (`runone -c configs/...`).
    public var command: String
    public var argv: [String]
    public var cwd: String
    public var config: String?
    public var output: String?
    public var submitted: Int64
    /// The config's `resources:`; the scheduler turns them into slots for its devices.
    public var resources = TaskResources()
    /// A config task's identity, with its results folder absolute: what the scheduler hands
    /// the task and certifies in a completion marker when it succeeds.
    public var identity: ConfigIdentity?
    /// A `--commands` line the shell keeps running (not one simple command): its 128+N
    /// exit is reported as the shell's report of signal N.
    public var underShell = false
    /// The environment captured at its submit: a file of the queue folder (`env/12.env`,
    /// `EnvironmentFile`), shared by the tasks of one submit. nil: the scheduler's own
    /// environment (`submit --no-env`, and journals written before environments were captured).
    public var environment: String?
    /// `submit --retries N --retry-on CODES`: the daemon runs a failed task again.
    public var retry = RetryPolicy()
    /// Submitted with -w, or restarted with `restart -w`: its argv's `{overwrite}` forms
    /// are filled as -w fills them.
    public var overwrite = false
    /// `command` as it reads with -w, when that differs (a runner with `{overwrite}`): what
    /// the lines say once `restart -w` made it run so.
    public var commandWithOverwrite: String?

    /// The command as this task's next launch runs it, for log lines.
    public var shownCommand: String { overwrite ? commandWithOverwrite ?? command : command }

    /// Higher starts first (`priority:`, `submit --priority`); ties in submission order.
    public var priority = 0
    /// Tasks (ids) it starts only after, once they all succeeded (`after:`, `submit --after`).
    public var after: [String] = []
}

extension TaskResources {
    /// The journal fields of a submitted task's resources (none when it has none).
    var fields: [(String, JSON)] {
        var fields: [(String, JSON)] = []
        if let gpus { fields.append(("gpus", .int(Int64(gpus)))) }
        if cpu { fields.append(("pool", .string("cpu"))) }
        if let mpiProcesses { fields.append(("np", .int(Int64(mpiProcesses)))) }
        if let gpuMemoryMiB { fields.append(("gpu_memory_mib", .int(Int64(gpuMemoryMiB)))) }
        if let time { fields.append(("time_ms", .int(Int64((time * 1000).rounded(.up))))) }
        return fields
    }
}
