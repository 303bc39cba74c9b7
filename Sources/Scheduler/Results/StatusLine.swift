import Glibc

/// The live status line of a one-shot run on a terminal: done, running, queued, failures,
/// rate and an ETA from the median task time, redrawn in place on stderr at each start and
/// end. Every log line clears it first and redraws it after, so the seed's lines stay whole.
/// Off unless stderr is a terminal and TERM is set and not `dumb`; NO_COLOR drops colour.
public final class StatusLine {
    let taskCount: Int
    private let color: Bool
    private var drawn = false
    private var started = 0
    private var running = 0
    private var mostRunning = 0
    private var ended = 0
    private var failed = 0
    private var durations: [Double] = []
    private let began = Clock.monotonic()

    init(taskCount: Int, color: Bool) {
        self.taskCount = taskCount
        self.color = color
    }

    /// nil when stderr is not a terminal (cron, CI, pipes): output stays as it always was.
    public static func make(taskCount: Int) -> StatusLine? {
        guard isatty(2) == 1, let term = Environment.value("TERM"), !term.isEmpty, term != "dumb" else { return nil }
        let noColor = Environment.value("NO_COLOR").map { !$0.isEmpty } ?? false
        return StatusLine(taskCount: taskCount, color: !noColor)
    }

    func taskStarted() {
        started += 1
        running += 1
        mostRunning = max(mostRunning, running)
    }

    /// An attempt ended and the task runs again: no longer running, not yet done.
    func attemptRetried() {
        running = max(0, running - 1)
    }

    func taskEnded(_ record: TaskRecord) {
        ended += 1
        if record.pid != nil { running = max(0, running - 1) }
        if record.status == .failed || record.status == .timedOut { failed += 1 }
        if let duration = record.duration, record.pid != nil { durations.append(duration) }
    }

    /// Erases the line (before a log line is written, and at the end).
    func clear() {
        guard drawn else { return }
        FileIO.writeAll(2, Array("\r\u{1B}[K".utf8))
        drawn = false
    }

    func draw() {
        var text = render()
        var size = winsize()
        let columns = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 1 ? Int(size.ws_col) - 1 : 79
        // Never wider than the terminal: a wrapped line could not be erased with \r.
        if text.count > columns { text = String(text.prefix(columns)) }
        var bytes = Array("\r\u{1B}[K".utf8)
        if color, failed > 0, let range = text.firstRange(of: "\(failed) failed") {
            bytes += Array((String(text[..<range.lowerBound]) + "\u{1B}[31m" + String(text[range]) + "\u{1B}[0m" + String(text[range.upperBound...])).utf8)
        } else {
            bytes += Array(text.utf8)
        }
        FileIO.writeAll(2, bytes)
        drawn = true
    }

    func render() -> String {
        let queued = max(0, taskCount - ended - running)
        var parts = ["\(ended)/\(taskCount) done", "\(running) running", "\(queued) queued"]
        if failed > 0 { parts.append("\(failed) failed") }
        let elapsed = Double(Clock.monotonic() - began) / 1e9
        if ended > 0 && elapsed > 0 { parts.append("\(Self.oneDecimal(Double(ended) / elapsed * 60))/min") }
        if let median = Self.median(durations), queued + running > 0 {
            let waves = Double(queued) / Double(max(1, mostRunning)) + (running > 0 ? 0.5 : 0)
            parts.append("ETA ~\(Clock.duration(median * waves))")
        }
        return "multirun: " + parts.joined(separator: ", ")
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
