import Glibc

/// `multirun -c REGEX --backend slurm`: the Slurm executor. The plan (selection, identity,
/// validation, resume) is `RunPlan`'s and the reporting (log lines, tasks.jsonl, summary)
/// is `RunReporter`'s, exactly as for a local run; only running the tasks differs: they
/// become job arrays (`SlurmArrays`), each element runs `multirun __slurm-task`
/// (`SlurmTaskWrapper`) on a node, and `SlurmFollower` turns the wrapper's records and
/// Slurm's states into the reporter's events.
public enum SlurmRun {
    /// Flags of local runs that this backend refuses, and why (one line each).
    static let localOnly: [(flag: String, why: String)] = [
        ("--cpu-slots", "Slurm places device: cpu tasks itself (they ask for no GPU)"),
        ("--min-free-mem", "Slurm gives each task whole GPUs, so there is no free memory to wait for"),
        ("--cvd", "Slurm sets CUDA_VISIBLE_DEVICES on the node"),
        ("--probe-timeout", "nvidia-smi is not asked on the submit host"),
        ("--grace", "Slurm's KillWait decides the time between TERM and KILL"),
        ("--retries", "retries are not supported on this backend yet; rerun multirun: completed configs are skipped"),
        ("--retry-on", "retries are not supported on this backend yet"),
        ("--halt", "halting is not supported on this backend; scancel or Ctrl-C stops the run"),
        ("--joblog", "GNU parallel's joblog is not written on this backend; see the run's summary.csv"),
        ("--on-finish", "hooks are not run on this backend; use sbatch's own --mail-type or a dependent job"),
        ("--on-finish-timeout", "hooks are not run on this backend"),
        ("--mpi-launcher", "MPI configs run under srun, in an allocation of --ntasks=np"),
        ("--queue", "the queue belongs to the local daemon"),
    ]
    /// Flags that only the Slurm backend takes.
    static let slurmOnly = ["--array-limit", "--sbatch-arg", "--detach"]

    /// The flag problems of `--backend` against the others given; nil when they fit.
    static func flagProblem(_ options: Options, given: [String]) -> String? {
        if options.backend == .slurm {
            for (flag, why) in localOnly where given.contains(flag) {
                return "\(flag) is for local runs and does not apply to --backend slurm: \(why)"
            }
            if given.contains("-d") && given.contains("--array-limit") {
                return "-d and --array-limit both say how many tasks run at once on Slurm; give one of them"
            }
            if options.gpu, let slots = options.slots, let many = slots.first(where: { $0 > 1 }) {
                return "-d \(many): --backend slurm gives each task whole GPUs (--gres=gpu:1), so a GPU cannot run \(many) tasks at once; give -d with 0s and 1s, or --array-limit K for K tasks at once"
            }
            return nil
        }
        for flag in slurmOnly where given.contains(flag) {
            return "\(flag) is for Slurm runs; add --backend slurm, or drop \(flag)"
        }
        return nil
    }

    /// How often squeue is asked (seconds): MULTIRUN_SLURM_POLL, default 2.
    static var pollInterval: Double {
        guard let text = Environment.value("MULTIRUN_SLURM_POLL"), let value = Double(text), value >= 0.1, value <= 600 else { return 2 }
        return value
    }

    static func main(_ options: Options) throws(UsageError) -> Int32 {
        let out = Console.standardOutput
        let client = try SlurmClient.find()
        let runID = Clock.runID()
        let resultsRoot = ConfigSelector.normalized(options.resultsDir)
        let runFolder = "\(resultsRoot)/runs/\(runID)"
        try ResultsPaths.check([resultsRoot, resultsRoot + "/runs"])
        // MPI configs run under srun, which starts the element's --ntasks copies.
        var options = options
        options.mpiLauncher = "srun"
        let plan = try RunPlan.make(options, placement: nil, runFolder: runFolder)
        try ResultsPaths.check(plan.tasks.lazy.compactMap { $0.config?.resultsFolder })
        try MultirunCommand.checkQueued(plan, QueueFolder.resolve(nil))
        if let task = plan.tasks.first(where: { !$0.after.isEmpty }) {
            throw UsageError("config \(task.label): after: is not supported with --backend slurm yet; run these configs locally, or in two Slurm runs one after the other")
        }
        let shapes = plan.tasks.map { SlurmArrays.shape($0.resources, gpuMode: options.gpu, timeout: options.timeout) }
        let limit = options.arrayLimit ?? options.slots.map { $0.reduce(0, +) }
        let signals: StopSignals
        do { signals = StopSignals(try SignalChannel()) } catch { throw UsageError("cannot start the run: \(error)") }
        if !plan.tasks.isEmpty, !options.dryRun, let failure = client.ping(signals: signals.forCalls) {
            if let stop = signals.collect() { return 128 + stop }
            Console.standardError.line("multirun: no Slurm controller answers (scontrol ping: \(failure.message)); check that slurmctld runs and that this host's slurm.conf names it, then run again")
            return 1
        }
        let maxArraySize = plan.tasks.isEmpty ? 1001 : client.maxArraySize(signals: signals.forCalls)
        let arrays = try SlurmArrays.plan(shapes, limit: limit, maxArraySize: maxArraySize)
        let name = "multirun-\(runID)"
        if options.dryRun {
            out.line("Dry run: nothing is submitted and nothing is written.")
            for line in plan.notes { out.line(line) }
            for (index, array) in arrays.enumerated() {
                out.line("Would submit: sbatch \(displayCommand(SlurmArrays.sbatchOptions(array, name: name, output: "\(SlurmFiles.folder(runFolder))/slurm-%A_%a.out") + options.sbatchArgs)) (array \(index + 1) of \(arrays.count): \(array.tasks.count) task(s), \(array.bundle) per element)")
                for task in array.tasks { out.line("  [\(task + 1)/\(plan.tasks.count)] \(plan.tasks[task].label)") }
            }
            out.line("Dry run: \(plan.tasks.count) to run in \(arrays.count) job array(s), \(plan.skipped.filter { $0.status == .skipped }.count) skipped as completed. Run without --dry-run to submit them.")
            return 0
        }
        try MultirunCommand.checkWritable(resultsRoot)
        if options.check {
            guard try MultirunCommand.confirm(plan, options: options) else {
                out.line("Nothing started.")
                return 0
            }
        }
        guard let own = ExecutableLookup.ownPath() else { throw UsageError("cannot find the multirun binary (/proc/self/exe)") }
        let cwd = Submitter.currentDirectory()
        let absoluteRun = Submitter.absolute(runFolder, cwd)
        let entries = plan.tasks.indices.map { SlurmManifestEntry(plan.tasks[$0], index: $0, total: plan.tasks.count, runID: runID) }
        var jobs: [SlurmJob] = []
        if !plan.tasks.isEmpty {
            do {
                try FileIO.makeDirectories(SlurmFiles.folder(runFolder))
                try FileIO.writeAtomically(SlurmFiles.script(runFolder), Array("#!/bin/sh\n# multirun's Slurm task: the wrapper and its arguments come from sbatch's command line.\nexec \"$@\"\n".utf8))
                for (index, array) in arrays.enumerated() {
                    try FileIO.writeAtomically(SlurmFiles.manifest(runFolder, array: index), array.tasks.flatMap { entries[$0].line })
                }
            } catch {
                throw UsageError("cannot write the run's Slurm files under \(runFolder): \(error)")
            }
            for (index, array) in arrays.enumerated() {
                let arguments = SlurmArrays.sbatchOptions(array, name: name, output: "\(SlurmFiles.folder(absoluteRun))/slurm-%A_%a.out")
                    + ["--chdir=\(cwd)"] + options.sbatchArgs
                    + [SlurmFiles.script(absoluteRun), own, SlurmTaskWrapper.command, absoluteRun, String(index), String(array.bundle)]
                switch client.submit(arguments, signals: signals.forCalls) {
                case .success(let job):
                    jobs.append(SlurmJob(job: job, array: index, bundle: array.bundle, tasks: array.tasks))
                case .failure(let failure):
                    // Nothing half-submitted stays: the arrays already accepted are cancelled.
                    var cancelled = ""
                    if !jobs.isEmpty {
                        client.cancel(jobs.map(\.job))
                        cancelled = "; cancelled the job array(s) already submitted (\(jobs.map(\.job).joined(separator: ", ")))"
                    }
                    if jobs.isEmpty { removeSlurmFiles(runFolder, arrays: arrays.count) }
                    if let stop = signals.collect() {
                        Console.standardError.line("multirun: interrupted by \(signalName(stop)) while submitting\(cancelled)")
                        return 128 + stop
                    }
                    let what = arrays.count > 1 ? "job array \(index + 1) of \(arrays.count)" : "the job array"
                    Console.standardError.line("multirun: sbatch refused \(what): \(failure.message)\(cancelled); fix the request (--sbatch-arg, resources:) and run again")
                    return 1
                }
            }
            do { try SlurmJob.write(jobs, runID: runID, total: plan.tasks.count, to: SlurmFiles.jobs(runFolder)) } catch {
                client.cancel(jobs.map(\.job))
                throw UsageError("cannot write \(SlurmFiles.jobs(runFolder)): \(error); the job arrays were cancelled")
            }
        }
        let described = jobs.map { job in "\(job.job) (\(job.tasks.count) task(s)\(job.bundle > 1 ? ", \(job.bundle) per element" : "")\(arrays[job.array].limit.map { ", at most \($0) at once" } ?? ""))" }
        if options.detach {
            for line in plan.notes { out.line(line) }
            out.line(jobs.isEmpty ? "Nothing to submit: every selected config completed before."
                     : "Submitted run \(runID): \(plan.tasks.count) task(s) as job array(s) \(described.joined(separator: ", ")).")
            if !jobs.isEmpty { out.line("Follow it with: multirun status --run \(runID); multirun wait --run \(runID)") }
            return 0
        }
        let reporter: RunReporter
        do {
            reporter = try RunReporter(runID: runID, runFolder: runFolder, taskCount: plan.tasks.count, console: out)
            reporter.attach(joblog: nil, statusLine: StatusLine.make(taskCount: plan.tasks.count))
        } catch {
            client.cancel(jobs.map(\.job))
            throw UsageError("cannot start the run: \(error); the job arrays were cancelled")
        }
        for line in plan.notes { out.line(line) }
        if !jobs.isEmpty { out.line("Submitted \(plan.tasks.count) task(s) to Slurm as job array(s) \(described.joined(separator: ", ")); run \(runID)") }
        let started = Clock.monotonic()
        let follower = SlurmFollower(runFolder: runFolder, client: client, reporter: reporter, entries: entries, jobs: jobs,
                                     signals: signals, pollInterval: pollInterval)
        let stop = follower.follow(cancelOnStop: true)
        return finish(reporter, skipped: plan.skipped, started: started, stop: stop, resultsRoot: resultsRoot)
    }

    /// Undoes the files of a run that Slurm took nothing of: the folder goes when empty.
    static func removeSlurmFiles(_ runFolder: String, arrays: Int) {
        for index in 0..<arrays { unlink(SlurmFiles.manifest(runFolder, array: index)) }
        unlink(SlurmFiles.script(runFolder))
        rmdir(SlurmFiles.folder(runFolder))
        rmdir(runFolder)
    }

    static func finish(_ reporter: RunReporter, skipped: [TaskRecord], started: UInt64, stop: Int32?, resultsRoot: String) -> Int32 {
        let wall = Double(Clock.monotonic() - started) / 1e9
        Console.standardOutput.line(reporter.finish(skipped: skipped, wallSeconds: wall, interruptedBy: stop))
        if let stop { return 128 + stop }
        if reporter.writeFailures > 0 {
            Console.standardError.line("multirun: \(reporter.writeFailures) result file(s) could not be written (see the warnings above); free space under \(resultsRoot) and run again: completed configs are skipped")
            return 1
        }
        return reporter.count(.failed) + reporter.count(.timedOut) + reporter.count(.unknown) > 0 ? 1 : 0
    }

    // MARK: - status --run, wait --run

    /// `multirun status --run ID` and `multirun wait --run ID` for a run submitted with
    /// --detach (or one whose multirun was killed): the run folder is the state.
    static func follow(_ name: String, _ arguments: [String]) throws(UsageError) -> Int32 {
        var runID: String?
        var results = "results"
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            func value() throws(UsageError) -> String {
                if let eq = word.firstIndex(of: "=") { return String(word[word.index(after: eq)...]) }
                index += 1
                guard index < arguments.count else { throw UsageError("\(word) needs a value") }
                return arguments[index]
            }
            switch word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word {
            case "--run": runID = try value()
            case "--results": results = try value()
            default: throw UsageError("'multirun \(name) --run ID' takes only --results DIR besides; '\(word)' does not apply")
            }
            index += 1
        }
        guard let runID, !runID.isEmpty, !runID.contains("/"), runID != ".", runID != ".." else {
            throw UsageError("--run needs a run id, as --detach printed it (a folder name under results/runs/)")
        }
        let runFolder = "\(ConfigSelector.normalized(results))/runs/\(runID)"
        guard let (jobs, total) = SlurmJob.read(SlurmFiles.jobs(runFolder)) else {
            throw UsageError("no Slurm run \(runID) under \(results)/runs/ (\(SlurmFiles.jobs(runFolder)) is missing or damaged); give the id --detach printed, and --results DIR if it was not results")
        }
        var entries: [SlurmManifestEntry?] = Array(repeating: nil, count: total)
        for job in jobs {
            guard let bytes = try? FileIO.read(SlurmFiles.manifest(runFolder, array: job.array)) else { continue }
            for (line, task) in zip(SlurmManifestEntry.lines(bytes, 0..<job.tasks.count), job.tasks) { entries[task] = SlurmManifestEntry.parse(line) }
        }
        guard entries.allSatisfy({ $0 != nil }) else { throw UsageError("the manifests of run \(runID) under \(runFolder)/slurm are missing or damaged") }
        let client = try SlurmClient.find()
        if name == "status" {
            let ended = FileIO.names(in: SlurmFiles.ended(runFolder))?.count ?? 0
            let started = FileIO.names(in: SlurmFiles.started(runFolder))?.count ?? 0
            let out = Console.standardOutput
            out.line("Run \(runID): \(total) task(s); \(started) started, \(ended) ended (exit records in \(SlurmFiles.ended(runFolder)))")
            for job in jobs {
                switch client.elementStates(job.job) {
                case .success(let states):
                    var counts: [String: Int] = [:]
                    for state in states.values { counts[state, default: 0] += 1 }
                    let text = counts.keys.sorted().map { "\(counts[$0]!) \($0.lowercased())" }.joined(separator: ", ")
                    out.line("  job array \(job.job): \(job.elements) element(s)\(text.isEmpty ? "; Slurm no longer lists it" : ": " + text)")
                case .failure(let failure):
                    out.line("  job array \(job.job): squeue: \(failure.message)")
                }
            }
            return 0
        }
        let signals: StopSignals
        let reporter: RunReporter
        do {
            signals = StopSignals(try SignalChannel())
            unlink(runFolder + "/tasks.jsonl")
            reporter = try RunReporter(runID: runID, runFolder: runFolder, taskCount: total, console: Console.standardOutput)
        } catch {
            throw UsageError("cannot follow run \(runID): \(error)")
        }
        let started = Clock.monotonic()
        let follower = SlurmFollower(runFolder: runFolder, client: client, reporter: reporter, entries: entries.map { $0! }, jobs: jobs,
                                     signals: signals, pollInterval: pollInterval)
        if let stop = follower.follow(cancelOnStop: false) {
            Console.standardError.line("multirun: stopped waiting (\(signalName(stop))); run \(runID) keeps running on Slurm")
            return 128 + stop
        }
        return finish(reporter, skipped: [], started: started, stop: nil, resultsRoot: results)
    }
}
