import Glibc

/// `multirun`: pick configs (or read commands), place them on GPU/CPU slots, run them all.
public enum MultirunCommand {
    public static let version = "0.1.0"

    /// Runs the command line and returns the process exit status:
    /// 0 all succeeded or skipped, 1 some failed or timed out, 2 usage error, 128+N on signal N.
    public static func main(_ arguments: [String]) -> Int32 {
        let errors = Console.standardError
        if arguments.first == Supervisor.command { return Supervisor.main(Array(arguments.dropFirst())) }
        if arguments.first == TaskReaper.command { return TaskReaper.main(Array(arguments.dropFirst())) }
        if arguments.first == SlurmTaskWrapper.command { return SlurmTaskWrapper.main(Array(arguments.dropFirst())) }
        do {
            if let code = try TopLevel.handle(arguments) { return code }
            if arguments.first == "run" {
                if arguments.contains("-h") || arguments.contains("--help") {
                    Console.standardOutput.block(CommandTable.helpPage(CommandTable.subcommand("run")!))
                    return 0
                }
                return try run(Array(arguments.dropFirst()))
            }
            if arguments.first == "sweep" { return try SweepCommand.run(Array(arguments.dropFirst())) }
            if arguments.first == "devices" { return try DevicesCommand.run(Array(arguments.dropFirst())) }
            if let first = arguments.first, first == "status" || first == "wait",
               arguments.contains(where: { $0 == "--run" || $0.hasPrefix("--run=") }), !arguments.contains("-h"), !arguments.contains("--help") {
                return try SlurmRun.follow(first, Array(arguments.dropFirst()))
            }
            if let first = arguments.first, QueueCommands.names.contains(first) {
                return try QueueCommands.run(first, Array(arguments.dropFirst()))
            }
            return try run(arguments)
        } catch {
            for line in error.lines(prefixed: "multirun: ") { errors.line(line) }
            return 2
        }
    }

    static func run(_ arguments: [String]) throws(UsageError) -> Int32 {
        let options = try OptionsParser.parse(arguments, command: "run")
        let out = Console.standardOutput
        if options.showHelp { out.block(CommandTable.overview); return 0 }
        if options.showVersion { out.line("multirun \(version)"); return 0 }
        if options.backend == .slurm { return try SlurmRun.main(options) }

        // A daemon owns this machine's slots: tasks must go through it, not around it.
        let queue = QueueFolder.resolve(options.queue)
        if let pid = QueueCommands.schedulerPID(queue) {
            throw UsageError("a multirun daemon (pid \(pid)) owns the slots of queue \(queue.name); hand it these tasks with 'multirun submit' and the same -c/--commands, or stop it first")
        }
        if options.onEmpty != nil {
            throw UsageError("--on-empty is for 'multirun daemon' (its queue becoming empty); a one-shot run ends when its tasks do: run the command after multirun, or use --on-finish for each task")
        }
        let placement = try Placement.make(options)
        let runID = Clock.runID()
        let resultsRoot = ConfigSelector.normalized(options.resultsDir)
        let runFolder = "\(resultsRoot)/runs/\(runID)"
        try ResultsPaths.check([resultsRoot, resultsRoot + "/runs"])
        let plan = try RunPlan.make(options, placement: placement, runFolder: runFolder)
        try ResultsPaths.check(plan.tasks.lazy.compactMap { $0.config?.resultsFolder })
        try checkQueued(plan, queue)
        if options.dryRun { DryRun.print(plan, placement: placement, options: options, to: out); return 0 }
        try checkWritable(resultsRoot)

        if options.check {
            guard try confirm(plan, options: options) else {
                out.line("Nothing started.")
                return 0
            }
        }

        guard let reaper = ExecutableLookup.ownPath() else { throw UsageError("cannot find the multirun binary (/proc/self/exe)") }
        let reporter: RunReporter
        let signals: SignalChannel
        let runner: TaskRunner
        // The joblog opens first: a joblog that cannot be written leaves no run folder behind.
        let joblog: JobLog?
        do { joblog = try options.joblog.map { path throws(SystemError) in try JobLog(path) } } catch {
            throw UsageError("--joblog: \(error); nothing was started")
        }
        do {
            reporter = try RunReporter(runID: runID, runFolder: runFolder, taskCount: plan.tasks.count, console: out)
            reporter.attach(joblog: joblog, statusLine: StatusLine.make(taskCount: plan.tasks.count))
            signals = try SignalChannel()
            runner = try TaskRunner(
                tasks: plan.tasks, pool: placement.pool,
                settings: .init(gpuIDs: placement.gpuIDs, timeout: options.timeout, grace: options.grace, runID: runID,
                                memoryProbe: placement.memoryProbe(for: plan.tasks.map(\.demand)), reaper: reaper,
                                retry: options.retry, halt: options.halt,
                                onFinish: options.onFinish.map { .init(command: $0, timeout: options.onFinishTimeout, log: runFolder + "/on-finish.log") }),
                reporter: reporter, signals: signals)
            reporter.recordsAttempts = options.retry.retries > 0
        } catch {
            throw UsageError("cannot start the run: \(error)")
        }
        for line in plan.notes { out.line(line) }
        let started = Clock.monotonic()
        let stopSignal = plan.tasks.isEmpty ? nil : runner.run()
        let wall = Double(Clock.monotonic() - started) / 1e9
        out.line(reporter.finish(skipped: plan.skipped, wallSeconds: wall, interruptedBy: stopSignal, halted: runner.halted))
        if let stopSignal { return 128 + stopSignal }
        let failed = reporter.count(.failed) + reporter.count(.timedOut)
        if reporter.writeFailures > 0 {
            Console.standardError.line("multirun: \(reporter.writeFailures) result file(s) could not be written (see the warnings above); free space under \(resultsRoot) and run again: completed configs are skipped")
            return 1
        }
        return failed > 0 ? 1 : 0
    }

    /// Configs that a task of the queue, queued or running, will write too: refused, so a
    /// one-shot run and the daemon never put two writers on one results folder.
    static func checkQueued(_ plan: RunPlan, _ queue: QueueFolder) throws(UsageError) {
        guard FileIO.exists(KeyIndex(folder: queue).path) else { return }
        let taken = KeyIndex(folder: queue).load()
        let cwd = Submitter.currentDirectory()
        let problems = plan.tasks.compactMap { task -> String? in
            guard let config = task.config, let owner = taken[KeyIndex.folderKey(Submitter.absolute(config.resultsFolder, cwd))] else { return nil }
            return "config \(config.path): task \(owner) of queue \(queue.name), queued or running, writes the same results folder \(config.resultsFolder)/; let the daemon run it (multirun daemon), or cancel it (multirun cancel \(owner))"
        }
        if !problems.isEmpty { throw UsageError(problems: problems) }
    }

    static func checkWritable(_ folder: String) throws(UsageError) {
        do {
            try FileIO.makeDirectories(folder)
        } catch {
            throw UsageError("cannot create the results folder: \(error); pass --results DIR to write elsewhere")
        }
        guard access(folder, W_OK) == 0 else {
            throw UsageError("the results folder '\(folder)' is not writable; fix its permissions or pass --results DIR")
        }
    }

    /// The seed's confirmation: list configs and commands, ask y/n. Never blocks a cron job.
    static func confirm(_ plan: RunPlan, options: Options) throws(UsageError) -> Bool {
        let out = Console.standardOutput
        if options.commandsFile == "-" {
            throw UsageError("cannot ask for confirmation while commands come from standard input; pass -check false")
        }
        if isatty(0) != 1 {
            throw UsageError("standard input is not a terminal, so multirun cannot ask before starting; pass -check false to run without asking")
        }
        if options.commandsFile == nil {
            out.line("Config file list:")
            for task in plan.tasks { out.line("  \(task.label)") }
        }
        out.line("Command list:")
        for task in plan.tasks { out.line("  \(displayCommand(task.argv(gpu: "", slot: 0)))") }
        for line in plan.notes { out.line(line) }
        out.line("Do you want to run \(plan.runnerName) with these files? [y/n]")
        guard let answer = SignalChannel.withStopSignalsDeliverable({ readLine(strippingNewline: true) }) else { return false }
        let trimmed = answer.trimming(" \t\r")
        return trimmed == "y" || trimmed == "Y"
    }
}

/// Which devices the run uses, how many slots each has, and what each task needs of them.
struct Placement {
    let pool: SlotPool
    /// CUDA_VISIBLE_DEVICES value per GPU position; nil in CPU mode.
    let gpuIDs: [String]?
    /// The GPUs as found (nil in CPU mode).
    let universe: DeviceUniverse?
    let policy: DemandPolicy
    /// `--probe-timeout` (seconds), for memory readings.
    var probeTimeout: Double = 10

    static func make(_ options: Options) throws(UsageError) -> Placement {
        var placement = try devices(options)
        placement.probeTimeout = options.probeTimeout
        return placement
    }

    private static func devices(_ options: Options) throws(UsageError) -> Placement {
        guard options.gpu else {
            if options.cpuSlots != nil {
                throw UsageError("--cpu-slots adds a CPU pool to a GPU run; with -gpu false, -d N already sets the CPU slots")
            }
            if options.minFreeMemMiB != nil {
                throw UsageError("--min-free-mem gates GPU tasks; with -gpu false nothing runs on a GPU")
            }
            let pool = SlotPool(capacities: [(.cpu, options.slots?.first ?? 1)])
            let policy = DemandPolicy(gpuMode: false, usableGPUs: 0, cpuSlots: pool.capacity(of: .cpu), defaultMemoryMiB: 0, largestMemoryMiB: nil)
            return Placement(pool: pool, gpuIDs: nil, universe: nil, policy: policy)
        }
        let universe = try DeviceUniverse.make(inherited: Environment.value("CUDA_VISIBLE_DEVICES"), gpus: GPUInventory.discover(timeout: options.probeTimeout))
        let count = universe.entries.count
        let slots = options.slots ?? Array(repeating: 1, count: count)
        if slots.count > count {
            let listed = universe.entries.map(\.id).joined(separator: ", ")
            throw UsageError("-d: position \(count) ('\(slots[count])') names no GPU: \(universe.source) gives \(count) (\(listed)); give at most \(count) values")
        }
        var capacities = slots.enumerated().map { (device: Device.gpu($0.offset), slots: $0.element) }
        capacities.append((device: .cpu, slots: options.cpuSlots ?? 0))
        let pool = SlotPool(capacities: capacities)
        // The gate needs a reading for every GPU that has slots.
        let used = slots.indices.filter { slots[$0] > 0 }.map { universe.entries[$0] }
        let readable = used.allSatisfy { $0.gpu != nil && !$0.id.hasPrefix("MIG-") }
        let policy = DemandPolicy(gpuMode: true, usableGPUs: used.count, cpuSlots: pool.capacity(of: .cpu),
                                  defaultMemoryMiB: options.minFreeMemMiB ?? 0,
                                  largestMemoryMiB: readable ? used.compactMap { $0.gpu?.memoryTotalMiB }.max() : nil)
        if let memory = options.minFreeMemMiB { try policy.checkMemory(memory, asked: "--min-free-mem \(ByteSize.describe(mebibytes: memory))") }
        return Placement(pool: pool, gpuIDs: try universe.ids(options.cvd), universe: universe, policy: policy)
    }

    /// Reads GPU memory for the gate, when some task asks for free memory.
    func memoryProbe(for demands: [Demand]) -> MemoryProbe? {
        guard let universe, demands.contains(where: { $0.memoryMiB > 0 }) else { return nil }
        return MemoryProbe(universe, timeout: probeTimeout)
    }

    func demand(_ resources: TaskResources, config: String) throws(UsageError) -> Demand {
        try policy.demand(resources, config: config)
    }
}
