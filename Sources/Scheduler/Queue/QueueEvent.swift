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
            ])
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

    public var line: String { json.encoded() }

    /// Reads one journal line; nil for a line that is not a complete event (a torn write).
    public init?(line: ArraySlice<UInt8>) {
        guard let value = try? ConfigParser.parse(bytes: Array(line), dialect: .json, source: "journal"),
              case .string(let kind)? = value["e"] else { return nil }
        func string(_ key: String) -> String? { if case .string(let s)? = value[key] { return s }; return nil }
        func int(_ key: String) -> Int? { if case .int(let i)? = value[key] { return i }; return nil }
        let time = Int64(int("t") ?? 0)
        switch kind {
        case "submitted":
            guard let id = string("id"), let key = string("key"), let label = string("label"), let cwd = string("cwd"),
                  case .list(let words)? = value["argv"] else { return nil }
            let argv = words.compactMap { if case .string(let s) = $0 { return s }; return nil }
            guard argv.count == words.count, !argv.isEmpty else { return nil }
            self = .submitted(QueueTask(id: id, key: key, label: label, command: string("command") ?? label, argv: argv, cwd: cwd,
                                        config: string("config"), output: string("output"), submitted: time))
        case "started":
            guard let id = string("id"), let attempt = int("attempt"), let device = string("device"),
                  let slot = int("slot"), let pid = int("pid") else { return nil }
            self = .started(id: id, attempt: attempt, device: device, slot: slot, pid: Int32(pid), time: time)
        case "ended":
            guard let id = string("id"), let attempt = int("attempt"),
                  let status = string("status").flatMap(TaskStatus.init(rawValue:)) else { return nil }
            self = .ended(id: id, attempt: attempt, exitCode: int("exit_code").map(Int32.init),
                          signal: int("signal").map(Int32.init), status: status, time: time)
        case "interrupted":
            guard let id = string("id"), let attempt = int("attempt") else { return nil }
            self = .interrupted(id: id, attempt: attempt, time: time)
        case "cancelled":
            guard let id = string("id") else { return nil }
            self = .cancelled(id: id, time: time)
        case "drain":
            self = .drain(time: time)
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
}
