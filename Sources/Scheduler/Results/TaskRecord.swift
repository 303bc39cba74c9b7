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

    /// The summary.csv row, line break included, as bytes (a summary holds one per task).
    func csvLine() -> [UInt8] {
        let fields: [String] = [
            String(number), config ?? "", command, device ?? "", slot.map(String.init) ?? "",
            pid.map(String.init) ?? "", startWall.map(Clock.iso8601) ?? "", endWall.map(Clock.iso8601) ?? "",
            duration.map { String(($0 * 1000).rounded() / 1000) } ?? "", exit.exitCode.map(String.init) ?? "",
            exit.signal.map(String.init) ?? "", status.rawValue, logPath ?? "", error ?? "",
        ]
        var out: [UInt8] = []
        out.reserveCapacity(256)
        for (i, field) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendCSVField(field, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// RFC 4180 quoting: fields with commas, quotes or line breaks are quoted, quotes doubled.
    static func appendCSVField(_ text: String, to out: inout [UInt8]) {
        let special: (UInt8) -> Bool = { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        guard text.utf8.contains(where: special) else {
            out.appendUTF8(text)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}
