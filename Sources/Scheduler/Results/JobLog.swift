import Glibc

/// `--joblog FILE`: GNU parallel's joblog, one tab-separated line per task end
/// (`Seq Host Starttime JobRuntime Send Receive Exitval Signal Command`). `FILE` starts
/// afresh with the header, as parallel does; `+FILE` appends (header only when empty).
public final class JobLog {
    public static let header = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand"
    private let file: AppendOnlyFile

    public init(_ argument: String) throws(SystemError) {
        let append = argument.hasPrefix("+")
        let path = append ? String(argument.dropFirst()) : argument
        if !append, FileIO.exists(path), truncate(path, 0) != 0 { throw SystemError("truncate \(path)", errno: errno) }
        file = try AppendOnlyFile(path: path, access: .shared)
        var info = stat()
        if stat(path, &info) == 0, info.st_size == 0 {
            try file.appendWhole(Array((Self.header + "\n").utf8), sync: false)
        } else if append, !Self.endsWithNewline(path) {
            // The user's last line has no line break: end it, so our lines append after it
            // (an append of whole lines would cut such a line off as a torn write).
            file.append([UInt8(ascii: "\n")])
        }
    }

    /// Whether the file's last byte is a line break (an unreadable file counts as yes).
    static func endsWithNewline(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return true }
        var last: UInt8 = 0
        return pread(fd, &last, 1, info.st_size - 1) != 1 || last == UInt8(ascii: "\n")
    }

    public func append(_ record: TaskRecord) throws(SystemError) {
        try file.appendWhole(Array(Self.line(record).utf8), sync: false)
    }

    /// One line as parallel writes it: Host `:` (local), Starttime in epoch seconds with 3
    /// decimals, JobRuntime `%10.3f`, Send 0, Receive the bytes of the task's log, Exitval
    /// and Signal from the wait status (a signal gives Exitval 0), the command as written.
    static func line(_ record: TaskRecord) -> String {
        let start = record.startWall.map { Int(($0 + 500_000) / 1_000_000) } ?? 0
        let runtime = Int(((record.duration ?? 0) * 1000).rounded())
        var receive: Int64 = 0
        var info = stat()
        if let log = record.logPath, stat(log, &info) == 0 { receive = Int64(info.st_size) }
        let signal = record.exit.signal ?? 0
        let exitval = signal != 0 ? 0 : (record.exit.exitCode ?? 0)
        let runtimeText = millis(runtime)
        let padded = String(repeating: " ", count: max(0, 10 - runtimeText.count)) + runtimeText
        return "\(record.number)\t:\t\(millis(start))\t\(padded)\t0\t\(receive)\t\(exitval)\t\(signal)\t\(record.command)\n"
    }

    /// `1234` milliseconds as `1.234`.
    static func millis(_ value: Int) -> String {
        let fraction = String(value % 1000)
        return "\(value / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
