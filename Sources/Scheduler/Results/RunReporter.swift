import Glibc

/// Everything a run tells the outside world: the seed's log lines on the terminal, one JSON
/// line per ended task (appended as it ends, so a crash keeps it), completion markers, and
/// the summary files at the end.
public final class RunReporter {
    public let runID: String
    public let runFolder: String
    public let taskCount: Int
    private let console: Console
    private let journal: AppendOnlyFile
    private var records: [TaskRecord] = []
    /// `--retries`: tasks.jsonl and the summaries hold one row per attempt, with its
    /// number (`attempt`) and whether the task ran again after it (`retried`).
    public var recordsAttempts = false

    public init(runID: String, runFolder: String, taskCount: Int, console: Console) throws(SystemError) {
        self.runID = runID
        self.runFolder = runFolder
        self.taskCount = taskCount
        self.console = console
        try FileIO.makeDirectories(runFolder)
        journal = try AppendOnlyFile(path: runFolder + "/tasks.jsonl", access: .shared)
    }

    public func line(_ text: String) { say(text) }

    /// `--joblog` and the terminal's status line, when asked for (`attach`).
    private var joblog: JobLog?
    private var status: StatusLine?

    public func attach(joblog: JobLog?, statusLine: StatusLine?) {
        self.joblog = joblog
        status = statusLine
    }

    /// One log line: the status line is erased first and drawn again after, so it never
    /// garbles a line (without a terminal there is none, and this is `console.line`).
    private func say(_ text: String, redraw: Bool = true) {
        guard let status else { return console.line(text) }
        status.clear()
        console.line(text)
        if redraw { status.draw() }
    }

    /// How many ended tasks have this status so far.
    public func count(_ status: TaskStatus) -> Int { records.lazy.filter { $0.status == status && !$0.retried }.count }

    public func started(_ spec: TaskSpec) { started(label: spec.label) }

    public func started(label: String) {
        status?.taskStarted()
        say("Start the process with \(label)")
    }

    /// Logs and records an ended task; `k` is its place among ended tasks.
    /// Writes that failed (a full disk): said once each as they happen; the run then exits 1.
    public private(set) var writeFailures = 0

    public func ended(_ record: TaskRecord, spec: TaskSpec?, k: Int) {
        status?.taskEnded(record)
        say(Self.endLine(record, k: k, of: taskCount))
        appendRecord(record)
        appendJobLog(record)
        records.append(record)
        if record.status == .succeeded, let config = spec?.config {
            guard CompletionMarker.stillDescribes(config, file: config.path) else {
                AttemptRecord.markNotFinished(config.resultsFolder)
                say("Warning: \(config.path) changed after this run planned it; its results are not recorded as completed, and it runs again next time")
                return
            }
            do {
                try CompletionMarker.write(config, record: record, runID: runID)
            } catch {
                writeFailures += 1
                say("Warning: could not record \(config.path) as completed (\(error)); it will run again next time")
            }
        }
    }

    /// An attempt that failed and runs again as attempt `next` of `total`: its line has
    /// no `[k/N]` (the task has not ended), and its record is kept with `retried` set.
    public func retried(_ record: TaskRecord, next: Int, of total: Int) {
        var record = record
        record.retried = true
        status?.attemptRetried()
        say(Self.retryLine(record, next: next, of: total))
        appendRecord(record)
        appendJobLog(record)
        records.append(record)
    }

    /// One joblog line per attempt that ran (or failed to start), as it ends.
    private func appendJobLog(_ record: TaskRecord) {
        guard let joblog, record.pid != nil || record.status == .failed else { return }
        do { try joblog.append(record) } catch {
            writeFailures += 1
            say("Warning: --joblog: \(error)")
        }
    }

    /// `The process failed with exit code 3, retrying (attempt 2 of 3): CMD`.
    static func retryLine(_ record: TaskRecord, next: Int, of total: Int) -> String {
        let what: String
        switch record.status {
        case .timedOut: what = "The process timed out and was stopped"
        default:
            if let shellSignal = record.shellSignal {
                what = "The process failed with exit code \(record.exit.exitCode ?? -1) (the shell reports signal \(shellSignal), \(signalName(shellSignal)))"
            } else if let signal = record.exit.signal {
                what = "The process was killed by signal \(signal) (\(signalName(signal)))"
            } else {
                what = "The process failed with exit code \(record.exit.exitCode ?? -1)"
            }
        }
        return "\(what), retrying (attempt \(next) of \(total)): \(record.command)"
    }

    /// Tasks that never ran get a row too, so the summary accounts for every selected task.
    public func notRun(_ record: TaskRecord) {
        appendRecord(record)
        records.append(record)
    }

    /// One line of tasks.jsonl, whole or not at all: a full disk never leaves half a line
    /// for the next one to be glued to.
    private func appendRecord(_ record: TaskRecord) {
        do { try journal.appendWhole(record.jsonLine(attempts: recordsAttempts), sync: false) } catch {
            writeFailures += 1
            if writeFailures == 1 { say("Warning: \(error); task records are missing from tasks.jsonl") }
        }
    }

    static func endLine(_ record: TaskRecord, k: Int, of n: Int) -> String {
        let progress = "[\(k)/\(n)]"
        let log = record.logPath.map { " (log: \($0))" } ?? ""
        switch record.status {
        case .succeeded:
            return "The process finished: \(record.command) \(progress)"
        case .timedOut:
            return "The process timed out and was stopped\(log): \(record.command) \(progress)"
        case .interrupted:
            return "The process was interrupted: \(record.command) \(progress)"
        case .failed:
            if let shellSignal = record.shellSignal {
                return "The process failed with exit code \(record.exit.exitCode ?? -1) (the shell reports signal \(shellSignal), \(signalName(shellSignal)))\(log): \(record.command) \(progress)"
            }
            if let error = record.error, record.exit.signal == nil, (record.exit.exitCode ?? 127) == 127 {
                return "The process could not start (\(error)): \(record.command) \(progress)"
            }
            if let signal = record.exit.signal {
                return "The process was killed by signal \(signal) (\(signalName(signal)))\(log): \(record.command) \(progress)"
            }
            return "The process failed with exit code \(record.exit.exitCode ?? -1)\(log): \(record.command) \(progress)"
        case .dependencyFailed:
            return "The process did not run (\(record.error ?? "a task it runs after did not succeed")): \(record.command) \(progress)"
        case .skipped, .notStarted:
            return "The process did not run: \(record.command) \(progress)"
        case .unknown:
            return "The process ended with an unknown result (\(record.error ?? "no exit record")): \(record.command) \(progress)"
        }
    }

    /// Writes summary.json and summary.csv atomically, syncs the journal, and returns the
    /// closing line for the terminal.
    public func finish(skipped: [TaskRecord], wallSeconds: Double, interruptedBy signal: Int32?, halted: String? = nil) -> String {
        status?.clear()
        status = nil
        journal.sync()
        let rows = (skipped + records).sorted { ($0.number, $0.attempt) < ($1.number, $1.attempt) }
        var counts: [TaskStatus: Int] = [:]
        for row in rows where !row.retried { counts[row.status, default: 0] += 1 }
        var summary = JSONWriter(pretty: true)
        summary.beginObject()
        summary.key("run_id"); summary.string(runID)
        summary.key("wall_s"); summary.double((wallSeconds * 1000).rounded() / 1000)
        summary.key("interrupted_by"); summary.string(signal.map(signalName))
        if let halted { summary.key("halted"); summary.string(halted) }
        summary.key("counts")
        // dependency_failed is listed only in runs that had one, so other runs' summaries stay as they were.
        summary.value(.object(TaskStatus.allCases.filter { ($0 != .dependencyFailed && $0 != .unknown) || counts[$0] != nil }.map { ($0.rawValue, .int(Int64(counts[$0, default: 0]))) }))
        // The study's figures: tasks counted once (a retried task by its last attempt),
        // failed = failed + timed out, task time summed over every attempt that ran.
        let figures = StudyFigures(rows: rows, counts: counts, wallSeconds: wallSeconds)
        summary.key("tasks_total"); summary.int(Int64(figures.total))
        summary.key("tasks_succeeded"); summary.int(Int64(figures.succeeded))
        summary.key("tasks_failed"); summary.int(Int64(figures.failed))
        summary.key("task_time_sum_s"); summary.double((figures.taskSeconds * 1000).rounded() / 1000)
        summary.key("speedup"); summary.double(figures.speedup.map { ($0 * 100).rounded() / 100 })
        summary.key("tasks")
        summary.beginArray()
        for row in rows { row.write(to: &summary, attempts: recordsAttempts) }
        summary.endArray()
        summary.endObject()
        summary.bytes.append(UInt8(ascii: "\n"))
        let columns = recordsAttempts ? TaskRecord.csvColumnsWithAttempts : TaskRecord.csvColumns
        var csv = Array((columns.joined(separator: ",") + "\n").utf8)
        for row in rows { csv += row.csvLine(attempts: recordsAttempts) }
        var problems: [String] = []
        do { try FileIO.writeAtomically(runFolder + "/summary.json", summary.bytes) } catch { problems.append("\(error)") }
        do { try FileIO.writeAtomically(runFolder + "/summary.csv", csv) } catch { problems.append("\(error)") }
        for problem in problems { console.line("Warning: \(problem)") }
        writeFailures += problems.count

        let parts = [
            "\(counts[.succeeded, default: 0]) succeeded",
            "\(counts[.failed, default: 0]) failed",
            "\(counts[.timedOut, default: 0]) timed out",
            "\(counts[.skipped, default: 0]) skipped",
            "\(counts[.interrupted, default: 0]) interrupted",
            "\(counts[.notStarted, default: 0]) not started",
        ] + (counts[.dependencyFailed].map { ["\($0) dependency failed"] } ?? []) + (counts[.unknown].map { ["\($0) unknown"] } ?? [])
        let head = signal.map { "Interrupted by \(signalName($0)) after" } ?? halted.map { "Halted (\($0)) after" } ?? "Done in"
        let speedup = figures.speedup.map { " \(Clock.duration(figures.taskSeconds)) of task time, speedup \(($0 * 10).rounded() / 10)." } ?? ""
        return "\(head) \(Clock.duration(wallSeconds)): \(parts.joined(separator: ", ")).\(speedup) Summary: \(runFolder)/summary.csv"
    }
}

public func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
        SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE",
        SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2", SIGXCPU: "SIGXCPU",
        SIGTRAP: "SIGTRAP", SIGSTKFLT: "SIGSTKFLT", SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP",
        SIGTSTP: "SIGTSTP", SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGXFSZ: "SIGXFSZ",
        SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH", SIGIO: "SIGIO", SIGPWR: "SIGPWR", SIGSYS: "SIGSYS",
    ]
    if let name = names[signal] { return name }
    // Real-time signals as `kill -l` names them (the kernel's 34 to 64).
    if signal == 34 { return "SIGRTMIN" }
    if signal == 64 { return "SIGRTMAX" }
    if signal > 34 && signal <= 49 { return "SIGRTMIN+\(signal - 34)" }
    if signal > 49 && signal < 64 { return "SIGRTMAX-\(64 - signal)" }
    return "signal \(signal)"
}

/// What a study reads first in summary.json: how many tasks, how many succeeded and
/// failed, and how much faster than one at a time the run was.
struct StudyFigures: Equatable {
    /// Every task of the run once (skipped and not started ones too).
    var total = 0
    var succeeded = 0
    /// Failed or timed out.
    var failed = 0
    /// Seconds summed over every attempt that ran (the time one slot would have needed).
    var taskSeconds = 0.0
    /// `taskSeconds / wallSeconds`; nil when nothing ran or no time passed.
    var speedup: Double?

    init(rows: [TaskRecord], counts: [TaskStatus: Int], wallSeconds: Double) {
        total = rows.lazy.filter { !$0.retried }.count
        succeeded = counts[.succeeded, default: 0]
        failed = counts[.failed, default: 0] + counts[.timedOut, default: 0] + counts[.unknown, default: 0]
        taskSeconds = rows.reduce(0) { $0 + ($1.duration ?? 0) }
        speedup = taskSeconds > 0 && wallSeconds > 0 ? taskSeconds / wallSeconds : nil
    }
}
