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
    /// The N of a `--commands` shell line that exited 128+N: the shell's report of a
    /// command killed by signal N (also the `error` text).
    public private(set) var shellSignal: Int32?
    /// Which attempt of the task this is (1-based; `--retries` makes more than one).
    public var attempt = 1
    /// This attempt failed and the task ran again (`--retries`): the task's outcome is
    /// its last attempt's, so summary counts leave this row out.
    public var retried = false

    public init(number: Int, config: String?, command: String, status: TaskStatus) {
        self.number = number
        self.config = config
        self.command = command
        self.exit = TaskExit()
        self.status = status
    }

    /// Notes that the shell that ran the task reports its command killed by `signal`.
    public mutating func noteShellSignal(_ signal: Int32) {
        shellSignal = signal
        error = "the shell reports signal \(signal) (\(signalName(signal)))"
    }

    public static let csvColumns = [
        "task", "config", "command", "device", "slot", "pid", "start", "end",
        "duration_s", "exit_code", "signal", "status", "log", "error",
    ]
    /// The columns of a run with `--retries`: one row per attempt, numbered.
    public static let csvColumnsWithAttempts = csvColumns + ["attempt"]

    /// The record as one JSON object (a tasks.jsonl line, a summary.json row).
    func write(to writer: inout JSONWriter, attempts: Bool = false) {
        writer.beginObject()
        writer.key("task"); writer.int(Int64(number))
        writer.key("config"); writer.string(config)
        writer.key("command"); writer.string(command)
        writer.key("device"); writer.string(device)
        writer.key("slot"); writer.int(slot.map(Int64.init))
        writer.key("pid"); writer.int(pid.map(Int64.init))
        writer.key("start"); writer.timestamp(startWall)
        writer.key("end"); writer.timestamp(endWall)
        writer.key("duration_s"); writer.double(duration.map { ($0 * 1000).rounded() / 1000 })
        writer.key("exit_code"); writer.int(exit.exitCode.map(Int64.init))
        writer.key("signal"); writer.int(exit.signal.map(Int64.init))
        writer.key("status"); writer.string(status.rawValue)
        writer.key("log"); writer.string(logPath)
        writer.key("error"); writer.string(error)
        if attempts {
            writer.key("attempt"); writer.int(Int64(attempt))
            writer.key("retried"); writer.value(.bool(retried))
        }
        writer.endObject()
    }

    /// The tasks.jsonl line, line break included.
    func jsonLine(attempts: Bool = false) -> [UInt8] {
        var writer = JSONWriter()
        write(to: &writer, attempts: attempts)
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// The summary.csv row, line break included, as bytes (a summary holds one per task).
    func csvLine(attempts: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func comma() { out.append(UInt8(ascii: ",")) }
        func int(_ value: Int64?) { if let value { DecimalText.append(value, to: &out) } }
        func text(_ value: String?) { if let value { Self.appendCSVField(value, to: &out) } }
        func time(_ value: Int64?) { if let value { Clock.appendISO8601(value, to: &out) } }
        int(Int64(number)); comma()
        text(config); comma()
        text(command); comma()
        text(device); comma()
        int(slot.map(Int64.init)); comma()
        int(pid.map(Int64.init)); comma()
        time(startWall); comma()
        time(endWall); comma()
        if let duration { out.appendUTF8(String((duration * 1000).rounded() / 1000)) }; comma()
        int(exit.exitCode.map(Int64.init)); comma()
        int(exit.signal.map(Int64.init)); comma()
        text(status.rawValue); comma()
        text(logPath); comma()
        text(error)
        if attempts { comma(); int(Int64(attempt)) }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// RFC 4180 quoting: fields with commas, quotes or line breaks are quoted, quotes doubled.
    static func appendCSVField(_ text: String, to out: inout [UInt8]) {
        let special: (UInt8) -> Bool = { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        var text = text
        guard text.withUTF8({ $0.contains(where: special) }) else {
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
