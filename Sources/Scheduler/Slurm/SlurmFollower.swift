import Glibc

/// One submitted job array: its Slurm job id, its manifest's number, and the run's tasks
/// (0-based indices) its elements run, `bundle` per element.
public struct SlurmJob: Sendable, Equatable {
    public var job: String
    public var array: Int
    public var bundle: Int
    public var tasks: [Int]

    public var elements: Int { (tasks.count + bundle - 1) / bundle }

    public func tasks(ofElement element: Int) -> ArraySlice<Int> {
        let start = element * bundle
        return tasks[min(start, tasks.count)..<min(start + bundle, tasks.count)]
    }

    /// jobs.json: the run's arrays, so `status --run`/`wait --run` can follow it later.
    static func write(_ jobs: [SlurmJob], runID: String, total: Int, to path: String) throws(SystemError) {
        let json = JSON.object([
            ("run_id", .string(runID)), ("total", .int(Int64(total))),
            ("arrays", .array(jobs.map { job in
                .object([("job", .string(job.job)), ("array", .int(Int64(job.array))), ("bundle", .int(Int64(job.bundle))),
                         ("tasks", .array(job.tasks.map { .int(Int64($0)) }))])
            })),
        ])
        try FileIO.writeAtomically(path, json.bytes(pretty: true, newline: true))
    }

    static func read(_ path: String) -> (jobs: [SlurmJob], total: Int)? {
        guard let bytes = try? FileIO.read(path), let value = try? ConfigParser.parse(bytes: bytes, dialect: .json, source: path),
              let total = value["total"]?.int, total >= 0, let arrays = value["arrays"] else { return nil }
        var jobs: [SlurmJob] = []
        for item in arrays.items {
            guard let job = item["job"]?.string, let array = item["array"]?.int, let bundle = item["bundle"]?.int, bundle >= 1 else { return nil }
            let tasks = item["tasks"]?.items.compactMap(\.int) ?? []
            guard tasks.allSatisfy({ $0 >= 0 && $0 < total }) else { return nil }
            jobs.append(SlurmJob(job: job, array: array, bundle: bundle, tasks: tasks))
        }
        return (jobs, total)
    }
}

/// Follows a run's job arrays to their end and tells the reporter, as the local executor
/// does: `Start the process with ...` when a task's start record appears, the end line
/// with `[k/N]` when its exit record does, and, for a task that left none, what Slurm says
/// (`SlurmOutcome`). Slurm pushes nothing: exit records are read every 0.25 s (files on
/// shared storage), squeue is asked every `pollInterval` seconds, each call time-limited.
final class SlurmFollower {
    private let runFolder: String
    private let client: SlurmClient
    private let reporter: RunReporter
    private let entries: [SlurmManifestEntry]
    private let jobs: [SlurmJob]
    private let signals: StopSignals?
    private let pollInterval: Double
    /// After an element's end, how long its records may take to show (NFS attribute caches).
    private let settle: Double

    private var startedSeen: [Bool]
    private var ended: [Bool]
    private var readEnded: Set<String> = []
    /// Tasks whose record says a stop reached them: decided when their element is over.
    private var stoppedRecords: Set<Int> = []
    /// Requeues said, per task: the restart count of the stop record said.
    private var announced: [Int: Int] = [:]
    private var k = 0
    private var overSince: [String: UInt64] = [:]
    private var saidSqueueFailure = false
    private(set) var stopSignal: Int32?
    private var stopDeadline: UInt64 = .max

    init(runFolder: String, client: SlurmClient, reporter: RunReporter, entries: [SlurmManifestEntry], jobs: [SlurmJob],
         signals: StopSignals?, pollInterval: Double, settle: Double = 2) {
        self.runFolder = runFolder
        self.client = client
        self.reporter = reporter
        self.entries = entries
        self.jobs = jobs
        self.signals = signals
        self.pollInterval = pollInterval
        self.settle = settle
        startedSeen = Array(repeating: false, count: entries.count)
        ended = Array(repeating: false, count: entries.count)
    }

    /// Follows until every task has ended. A stop signal cancels the arrays (`scancel`)
    /// when `cancelOnStop`, and the run ends once Slurm says they are over (at most 60 s
    /// later); without it (`wait --run`) the run is left running. Returns the stop signal.
    func follow(cancelOnStop: Bool) -> Int32? {
        var lastQuery: UInt64 = 0
        while ended.contains(false) {
            if let fd = signals?.channel.fd {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, 250)
            } else {
                usleep(250_000)
            }
            if stopSignal == nil, let signal = signals?.collect() {
                stopSignal = signal
                if !cancelOnStop { return signal }
                reporter.line("Stopping: cancelling job array(s) \(jobs.map(\.job).joined(separator: ", ")) (scancel)")
                if case .failure(let failure) = client.cancel(jobs.map(\.job)) {
                    reporter.line("Warning: scancel: \(failure.message)")
                }
                stopDeadline = Clock.monotonic() + 60_000_000_000
                lastQuery = 0
            }
            scan()
            let now = Clock.monotonic()
            if now - lastQuery >= UInt64(pollInterval * 1e9) {
                lastQuery = now
                query(now: now)
            }
            if now >= stopDeadline { giveUp() }
        }
        return stopSignal
    }

    // MARK: - Records

    private func scan() {
        if let names = FileIO.names(in: SlurmFiles.started(runFolder)), names.count > startedSeen.lazy.filter({ $0 }).count {
            var fresh: [Int] = []
            for name in names {
                guard let task = Self.taskIndex(name, count: entries.count), !startedSeen[task] else { continue }
                startedSeen[task] = true
                fresh.append(task)
            }
            for task in fresh.sorted() where !ended[task] { reporter.started(label: entries[task].label) }
        }
        guard let names = FileIO.names(in: SlurmFiles.ended(runFolder)), names.count > readEnded.count || !stoppedRecords.isEmpty else { return }
        for name in names.sorted() where !readEnded.contains(name) {
            guard let task = Self.taskIndex(name, count: entries.count) else { continue }
            guard let record = SlurmTaskRecord.read("\(SlurmFiles.ended(runFolder))/\(name)") else { continue }
            if ended[task] {
                readEnded.insert(name)
                continue
            }
            // A stop record is read again until its element is over: a requeued element
            // (preemption, node failure) replaces it with the record of its next run.
            if record.stopped {
                stoppedRecords.insert(task)
                continue
            }
            readEnded.insert(name)
            stoppedRecords.remove(task)
            finish(task, with: record, status: nil)
        }
    }

    static func taskIndex(_ name: String, count: Int) -> Int? {
        guard name.hasSuffix(".json"), let number = Int(name.dropLast(5)), number >= 1, number <= count else { return nil }
        return number - 1
    }

    /// Reports a task from its exit record; `status` overrides the record's own reading.
    private func finish(_ task: Int, with record: SlurmTaskRecord, status: TaskStatus?) {
        if !startedSeen[task] && !record.leftOut {
            startedSeen[task] = true
            reporter.started(label: entries[task].label)
        }
        let entry = entries[task]
        var row = TaskRecord(number: entry.number, config: entry.config ?? entry.identity?.path, command: command(entry, gpu: record.gpu), status: .failed)
        row.device = SlurmOutcome.device(node: record.node, gpu: record.gpu)
        row.startWall = record.startWall
        row.endWall = record.endWall
        if let end = record.endWall { row.duration = Double(end - record.startWall) / 1e9 }
        row.exit = record.exit
        row.logPath = entry.log
        row.error = record.error
        if let status {
            row.status = status
        } else if record.leftOut {
            row.status = .notStarted
            row.device = nil
        } else {
            row.status = record.exit == TaskExit(exitCode: 0) ? .succeeded : .failed
        }
        if row.status == .failed, row.error?.hasPrefix("cannot start") == false { row.error = nil }
        report(task, row)
    }

    private func report(_ task: Int, _ row: TaskRecord) {
        ended[task] = true
        // As locally: a task that never started has a summary row, but no [k/N] line.
        if row.status == .notStarted && row.error?.hasPrefix("still running") != true {
            reporter.notRun(row)
            return
        }
        if row.status == .succeeded, let error = row.error { reporter.line("Warning: \(error)") }
        k += 1
        // The wrapper wrote the completion marker on the node: no spec, so none is written here.
        reporter.ended(row, spec: nil, k: k)
    }

    private func command(_ entry: SlurmManifestEntry, gpu: String) -> String {
        entry.template == nil ? entry.label : displayCommand(entry.argv(gpu: gpu))
    }

    // MARK: - Slurm's view

    private func query(now: UInt64) {
        for job in jobs {
            let elements = (0..<job.elements).filter { element in job.tasks(ofElement: element).contains { !ended[$0] } }
            guard !elements.isEmpty else { continue }
            let states: [Int: String]
            switch client.elementStates(job.job, signals: signals?.forCalls) {
            case .failure(let failure):
                if !saidSqueueFailure {
                    saidSqueueFailure = true
                    reporter.line("Warning: squeue: \(failure.message); still following job \(job.job)")
                }
                continue
            case .success(let answer): states = answer
            }
            for element in elements {
                let state = states[element]
                if let state, !SlurmOutcome.isTerminal(state) {
                    overSince["\(job.job)_\(element)"] = nil
                    if state == "PENDING" { announceRequeue(job, element) }
                    continue
                }
                let key = "\(job.job)_\(element)"
                guard let since = overSince[key] else {
                    overSince[key] = now
                    continue
                }
                if Double(now - since) / 1e9 < settle { continue }
                scan()
                resolve(job, element, state: state)
            }
        }
    }

    /// A stop record whose element is pending again: Slurm requeued it (preemption, node
    /// failure), and the task runs again. Said once per stop; the task's end comes later.
    private func announceRequeue(_ job: SlurmJob, _ element: Int) {
        for task in job.tasks(ofElement: element) where stoppedRecords.contains(task) {
            guard let record = SlurmTaskRecord.read("\(SlurmFiles.ended(runFolder))/\(task + 1).json"), record.stopped,
                  announced[task] != record.restarts else { continue }
            announced[task] = record.restarts
            reporter.line("The process was interrupted and Slurm requeued job \(job.job)_\(element); it runs again: \(command(entries[task], gpu: record.gpu))")
        }
    }

    /// Decides the tasks of an element that is over and that left no final exit record.
    private func resolve(_ job: SlurmJob, _ element: Int, state: String?) {
        let id = "\(job.job)_\(element)"
        let open = job.tasks(ofElement: element).filter { !ended[$0] }
        guard !open.isEmpty else { return }
        // scontrol keeps the exit code for MinJobAge after the end; squeue's answer without
        // the element means the controller forgot it, and only accounting (sacct) may know.
        let known = (state == nil ? nil : client.element(job.job, element, signals: signals?.forCalls))
            ?? client.accounted(job.job, element, signals: signals?.forCalls)
        let finalState = known?.state ?? state
        for task in open {
            if stoppedRecords.contains(task), let record = SlurmTaskRecord.read("\(SlurmFiles.ended(runFolder))/\(task + 1).json") {
                guard record.stopped else {
                    finish(task, with: record, status: nil)
                    continue
                }
                var row = record
                row.error = finalState == "TIMEOUT" ? "job \(id) reached its time limit" : "job \(id) ended \(finalState ?? "and Slurm forgot it") after a stop reached the task"
                finish(task, with: row, status: SlurmOutcome.stopped(elementState: finalState))
                continue
            }
            let outcome = SlurmOutcome.withoutRecord(state: finalState, exit: known?.exit ?? TaskExit(), started: startedSeen[task], job: id)
            let entry = entries[task]
            var row = TaskRecord(number: entry.number, config: entry.config ?? entry.identity?.path, command: command(entry, gpu: ""), status: outcome.status)
            row.exit = outcome.exit
            row.error = outcome.error
            row.logPath = startedSeen[task] ? entry.log : nil
            report(task, row)
        }
    }

    /// After a stop, Slurm did not say the arrays ended within 60 s: what is left is
    /// recorded as interrupted (started) or not started.
    private func giveUp() {
        for task in ended.indices where !ended[task] {
            let entry = entries[task]
            var row = TaskRecord(number: entry.number, config: entry.config ?? entry.identity?.path, command: command(entry, gpu: ""),
                                 status: startedSeen[task] ? .interrupted : .notStarted)
            row.error = "Slurm did not confirm its end within 60 s of the cancel"
            report(task, row)
        }
    }
}
