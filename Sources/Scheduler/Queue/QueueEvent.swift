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
    /// `multirun drain`: start nothing new, let running tasks finish, then exit.
    case drain(time: Int64)

    public var json: JSON {
        switch self {
        case .submitted(let task):
            return .object([
                ("e", .string("submitted")), ("id", .string(task.id)), ("key", .string(task.key)),
                ("label", .string(task.label)), ("command", .string(task.command)), ("argv", .array(task.argv.map { .string($0) })),
                ("cwd", .string(task.cwd)), ("config", .optional(task.config)), ("output", .optional(task.output)),
                ("t", .int(task.submitted)),
            ] + task.resources.fields + (task.underShell ? [("shell", .bool(true))] : [])
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
        }
    }

    /// The journal's text for `events`: one JSON line each, as bytes ready to write.
    public static func lines(_ events: [QueueEvent]) -> [UInt8] {
        var bytes: [UInt8] = []
        for event in events { bytes += event.json.bytes(newline: true) }
        return bytes
    }

    /// Reads one journal line; nil for a line that is not a complete event (a torn write).
    /// `light` skips what only a scheduler needs (argv, folder, output), for `status`.
    public init?(line: ArraySlice<UInt8>, light: Bool = false) {
        var kind = "", id = "", key = "", label = "", cwd = ""
        var command: String?, config: String?, output: String?, device: String?, status: String?
        var results: String?, configName: String?, configSHA256: String?, contentSHA256: String?, runner: String?
        var underShell = false
        var environment: String?
        var argv: [String] = []
        var time = 0, attempt: Int?, slot: Int?, pid: Int?, exitCode: Int?, signal: Int?
        var resources = TaskResources()
        var fields = JSONFields(line)
        do {
            try fields.forEach { name, value throws(ConfigError) in
                switch name {
                case "e": kind = try value.string() ?? ""
                case "id": id = try value.string() ?? ""
                case "key": key = try value.string() ?? ""
                case "label": label = try value.string() ?? ""
                case "command" where !light: command = try value.string()
                case "argv" where !light: argv = try value.strings()
                case "cwd" where !light: cwd = try value.string() ?? ""
                case "config" where !light: config = try value.string()
                case "output" where !light: output = try value.string()
                case "results" where !light: results = try value.string()
                case "config_name" where !light: configName = try value.string()
                case "config_sha256" where !light: configSHA256 = try value.string()
                case "content_sha256" where !light: contentSHA256 = try value.string()
                case "runner" where !light: runner = try value.string()
                case "shell" where !light: underShell = try value.bool() ?? false
                case "env" where !light: environment = try value.string()
                case "device": device = try value.string()
                case "status": status = try value.string()
                case "t": time = try value.int() ?? 0
                case "attempt": attempt = try value.int()
                case "slot": slot = try value.int()
                case "pid": pid = try value.int()
                case "exit_code": exitCode = try value.int()
                case "signal": signal = try value.int()
                case "gpus": resources.gpus = try value.int()
                case "pool": resources.cpu = try value.string() == "cpu"
                case "np": resources.mpiProcesses = try value.int()
                case "gpu_memory_mib": resources.gpuMemoryMiB = try value.int()
                default: try value.skip()
                }
            }
        } catch {
            return nil
        }
        let t = Int64(time)
        switch kind {
        case "submitted":
            guard !id.isEmpty, !key.isEmpty, light || !argv.isEmpty else { return nil }
            var task = QueueTask(id: id, key: key, label: label, command: command ?? label, argv: argv, cwd: cwd,
                                 config: config, output: output, submitted: t, resources: resources)
            task.underShell = underShell
            task.environment = environment
            if let config, let configName, let results, let configSHA256, let contentSHA256, let runner {
                task.identity = ConfigIdentity(path: config, name: configName, sha256: configSHA256, resultsFolder: results,
                                               contentSHA256: contentSHA256, runner: runner)
            }
            self = .submitted(task)
        case "started":
            guard !id.isEmpty, let attempt, let device, let slot, let pid else { return nil }
            self = .started(id: id, attempt: attempt, device: device, slot: slot, pid: Int32(pid), time: t)
        case "ended":
            guard !id.isEmpty, let attempt, let status = status.flatMap(TaskStatus.init(rawValue:)) else { return nil }
            self = .ended(id: id, attempt: attempt, exitCode: exitCode.map(Int32.init), signal: signal.map(Int32.init), status: status, time: t)
        case "interrupted":
            guard !id.isEmpty, let attempt else { return nil }
            self = .interrupted(id: id, attempt: attempt, time: t)
        case "cancelled":
            guard !id.isEmpty else { return nil }
            self = .cancelled(id: id, time: t)
        case "drain":
            self = .drain(time: t)
        default:
            return nil
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
}

extension TaskResources {
    /// The journal fields of a submitted task's resources (none when it has none).
    var fields: [(String, JSON)] {
        var fields: [(String, JSON)] = []
        if let gpus { fields.append(("gpus", .int(Int64(gpus)))) }
        if cpu { fields.append(("pool", .string("cpu"))) }
        if let mpiProcesses { fields.append(("np", .int(Int64(mpiProcesses)))) }
        if let gpuMemoryMiB { fields.append(("gpu_memory_mib", .int(Int64(gpuMemoryMiB)))) }
        return fields
    }
}
