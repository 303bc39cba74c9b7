/// One row of a run's summary: what ran, where, when, and how it ended.
public struct TaskRecord: Sendable {
    public var number: Int
    public var config: String?
    public var command: String
    /// Where it ran: `gpu1`, `gpu0+gpu2` for a 2-GPU task, or `cpu`.
    public var device: String?
    public var slot: Int?
    public var pid: Int32?
    public var startWall: Int64?
    public var endWall: Int64?
    public var duration: Double?
    public var exit: TaskExit
    public var status: TaskStatus
    public var logPath: String?
    public var error: String?

    public init(number: Int, config: String?, command: String, status: TaskStatus) {
        self.number = number
        self.config = config
        self.command = command
        self.exit = TaskExit()
        self.status = status
    }

    public static let csvColumns = [
        "task", "config", "command", "device", "slot", "pid", "start", "end",
        "duration_s", "exit_code", "signal", "status", "log", "error",
    ]

    public var json: JSON {
        .object([
            ("task", .int(Int64(number))),
            ("config", .optional(config)),
            ("command", .string(command)),
            ("device", .optional(device)),
            ("slot", slot.map { .int(Int64($0)) } ?? .null),
            ("pid", .optional(pid)),
            ("start", .optional(startWall.map(Clock.iso8601))),
            ("end", .optional(endWall.map(Clock.iso8601))),
            ("duration_s", duration.map { .double(($0 * 1000).rounded() / 1000) } ?? .null),
            ("exit_code", .optional(exit.exitCode)),
            ("signal", .optional(exit.signal)),
            ("status", .string(status.rawValue)),
            ("log", .optional(logPath)),
            ("error", .optional(error)),
        ])
    }

    public var csvRow: String {
        let fields: [String] = [
            String(number), config ?? "", command, device ?? "", slot.map(String.init) ?? "",
            pid.map(String.init) ?? "", startWall.map(Clock.iso8601) ?? "", endWall.map(Clock.iso8601) ?? "",
            duration.map { String(($0 * 1000).rounded() / 1000) } ?? "", exit.exitCode.map(String.init) ?? "",
            exit.signal.map(String.init) ?? "", status.rawValue, logPath ?? "", error ?? "",
        ]
        return fields.map(Self.csvField).joined(separator: ",")
    }

    /// RFC 4180 quoting: fields with commas, quotes or line breaks are quoted, quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }
}
