import CSystem
import Glibc

/// `multirun __slurm-task RUNFOLDER ARRAY BUNDLE`: the batch script of every Slurm array
/// element. It runs the element's tasks (manifest lines ELEMENT*BUNDLE ..< +BUNDLE, where
/// ELEMENT is SLURM_ARRAY_TASK_ID) one after the other, each as a one-shot run's task
/// runs: through `TaskReaper.run` (own process group, every descendant reaped), with its
/// results folder claimed (`AttemptRecord`), its log at the local run's path, and the
/// MULTIRUN_* variables. It writes the exit record and, on success, the completion marker
/// itself, so outcomes and resume do not depend on Slurm's accounting.
///
/// TERM, INT or HUP (scancel, a time limit, preemption) are relayed to the running task;
/// the element then runs no further task. Exit status: 0 when every task succeeded, else
/// the first failing task's exit code (128+N for a signal), 1 when none could be read.
public enum SlurmTaskWrapper {
    public static let command = "__slurm-task"

    public static func main(_ arguments: [String]) -> Int32 {
        let errors = Console.standardError
        guard arguments.count == 3, let array = Int(arguments[1]), let bundle = Int(arguments[2]), array >= 0, bundle >= 1,
              let elementText = Environment.value("SLURM_ARRAY_TASK_ID"), let element = Int(elementText), element >= 0 else {
            errors.line("multirun \(command): internal command, the batch script of multirun's Slurm job arrays (needs SLURM_ARRAY_TASK_ID)")
            return 2
        }
        let runFolder = arguments[0]
        // Stop signals wait until a task runs (TaskReaper relays them) or are seen between tasks.
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        let manifest = SlurmFiles.manifest(runFolder, array: array)
        let bytes: [UInt8]
        do { bytes = try FileIO.read(manifest) } catch {
            errors.line("multirun \(command): cannot read \(manifest): \(error); the run folder must be on storage the nodes share")
            return 1
        }
        let lines = SlurmManifestEntry.lines(bytes, element * bundle..<(element + 1) * bundle)
        let restarted = (Environment.value("SLURM_RESTART_COUNT").flatMap { Int($0) } ?? 0) > 0
        var status: Int32 = 0
        for line in lines {
            if stopPending() { break }
            guard let entry = SlurmManifestEntry.parse(line) else {
                errors.line("multirun \(command): \(manifest) holds a line that is no task; the run folder was changed or damaged")
                return 1
            }
            // A requeued element (preemption, node failure) runs its bundle again: tasks that
            // completed in an earlier run of it keep their records and markers.
            if restarted, let identity = entry.identity, CompletionMarker.certifies(identity),
               SlurmTaskRecord.read("\(SlurmFiles.ended(runFolder))/\(entry.number).json")?.exit == TaskExit(exitCode: 0) { continue }
            let (exit, stopped) = run(entry, runFolder: runFolder)
            if status == 0, exit != TaskExit(exitCode: 0) { status = exit.signal.map { 128 + $0 } ?? exit.exitCode ?? 1 }
            if stopped { break }
        }
        return status
    }

    /// A task that died of TERM, INT or KILL (or whose shell reports it) while no stop
    /// reached the wrapper yet: Slurm signals every process of the job, in no set order,
    /// so the wrapper's own may be a moment behind. Waits up to 0.5 s for it.
    private static func stopFollows(_ exit: TaskExit) -> Bool {
        let signals: [Int32] = [SIGTERM, SIGINT, SIGKILL]
        guard exit.signal.map(signals.contains) ?? [128 + SIGTERM, 128 + SIGINT, 128 + SIGKILL].contains(exit.exitCode ?? 0) else { return false }
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&mask, signal) }
        var wait = timespec(tv_sec: 0, tv_nsec: 500_000_000)
        return sigtimedwait(&mask, nil, &wait) > 0
    }

    private static func stopPending() -> Bool {
        var pending = sigset_t()
        sigpending(&pending)
        return [SIGTERM, SIGINT, SIGHUP].contains { sigismember(&pending, $0) == 1 }
    }

    /// Runs one task and writes its records; returns how it ended.
    static func run(_ entry: SlurmManifestEntry, runFolder: String) -> (TaskExit, stopped: Bool) {
        let gpu = Environment.value("CUDA_VISIBLE_DEVICES") ?? ""
        let job = "\(Environment.value("SLURM_ARRAY_JOB_ID") ?? "?")_\(Environment.value("SLURM_ARRAY_TASK_ID") ?? "?")"
        var record = SlurmTaskRecord(task: entry.number, job: job, node: hostName(), gpu: gpu, startWall: Clock.wall())
        record.restarts = Environment.value("SLURM_RESTART_COUNT").flatMap { Int($0) } ?? 0
        record.pid = getpid()
        write(record, to: SlurmFiles.started(runFolder))
        let argv = entry.argv(gpu: gpu)
        var lock: Int32 = -1
        defer { if lock >= 0 { close(lock) } }
        if let identity = entry.identity {
            do {
                switch try AttemptRecord.claim(identity, runID: entry.runID) {
                case .claimed(let fd):
                    lock = fd
                    AttemptRecord.recordPID(in: fd, getpid())
                case .held(let holder):
                    record.leftOut = true
                    record.endWall = Clock.wall()
                    record.error = "still running from an earlier or another run (\(holder.description)); it was left out"
                    write(record, to: SlurmFiles.ended(runFolder))
                    return (TaskExit(), false)
                }
            } catch {
                return failed(&record, "\(error)", runFolder: runFolder)
            }
            CompletionMarker.invalidate(identity.resultsFolder)
        }
        let log: Int32
        do {
            if let slash = entry.log.utf8.lastIndex(of: UInt8(ascii: "/")) { try FileIO.makeDirectories(String(entry.log[..<slash])) }
            log = try FileIO.openForWriting(entry.log, O_WRONLY | O_TRUNC, access: .shared)
        } catch {
            return failed(&record, "cannot open its log: \(error)", runFolder: runFolder)
        }
        defer { close(log) }
        var environment = Environment.entries().filter { !TaskEnvironment.isOurs($0.utf8) }
        environment += ["CUDA_VISIBLE_DEVICES=\(gpu)", "MULTIRUN_SLOT=0", "MULTIRUN_GPU=\(gpu)",
                        "MULTIRUN_TASK=\(entry.number)/\(entry.total)", "MULTIRUN_RUN_ID=\(entry.runID)"]
        if !gpu.isEmpty { environment.append("CUDA_DEVICE_ORDER=PCI_BUS_ID") }
        if let config = entry.config { environment.append("MULTIRUN_CONFIG=\(config)") }
        if let output = entry.output { environment.append("MULTIRUN_OUTPUT=\(output)") }
        if let identity = entry.identity { environment.append("MULTIRUN_TASK_IDENTITY=\(identity.digest)") }
        let heldLock = lock
        let exec = entry.exec(gpu: gpu)
        let result = TaskReaper.run(program: exec.program, argv: exec.argv, environment: environment, stdout: log, stderr: log,
                                    ended: { status, stopped in
                                        if heldLock >= 0 { AttemptRecord.recordEnd(in: heldLock, exit: status, stopped: stopped) }
                                    })
        record.endWall = Clock.wall()
        record.exit = result.status
        // scancel and time limits signal every process of the job: the task may die of the
        // TERM before the wrapper takes its own, which is then still pending.
        let stopped = result.stopped || stopPending() || stopFollows(result.status)
        record.stopped = stopped
        if let error = result.error {
            record.error = "cannot start \(entry.program): \(error)"
            _ = FileIO.writeAll(log, Array("multirun: cannot start \(entry.program): \(error)\n".utf8))
        }
        if result.status == TaskExit(exitCode: 0), !stopped, let identity = entry.identity {
            if CompletionMarker.stillDescribes(identity, file: identity.path) {
                var done = TaskRecord(number: entry.number, config: identity.path, command: displayCommand(argv), status: .succeeded)
                done.exit = result.status
                done.startWall = record.startWall
                done.endWall = record.endWall
                done.duration = Double(record.endWall! - record.startWall) / 1e9
                do { try CompletionMarker.write(identity, record: done, runID: entry.runID) } catch {
                    record.error = "could not record it as completed (\(error)); it will run again next time"
                }
            } else {
                AttemptRecord.markNotFinished(identity.resultsFolder)
                record.error = "\(identity.path) changed after this run planned it; its results are not recorded as completed"
            }
        }
        write(record, to: SlurmFiles.ended(runFolder))
        return (result.status, stopped)
    }

    private static func failed(_ record: inout SlurmTaskRecord, _ why: String, runFolder: String) -> (TaskExit, stopped: Bool) {
        record.endWall = Clock.wall()
        record.exit = TaskExit(exitCode: 127)
        record.error = why
        Console.standardError.line("multirun \(command): task \(record.task): \(why)")
        write(record, to: SlurmFiles.ended(runFolder))
        return (record.exit, false)
    }

    private static func write(_ record: SlurmTaskRecord, to folder: String) {
        do {
            try FileIO.makeDirectories(folder)
            try FileIO.writeAtomically("\(folder)/\(record.task).json", record.bytes)
        } catch {
            Console.standardError.line("multirun \(command): cannot write the record of task \(record.task) in \(folder): \(error)")
        }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
