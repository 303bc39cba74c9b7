import Glibc

/// `multirun`: pick configs (or read commands), place them on GPU/CPU slots, run them all.
public enum MultirunCommand {
    public static let version = "0.1.0"

    /// Runs the command line and returns the process exit status:
    /// 0 all succeeded or skipped, 1 some failed or timed out, 2 usage error, 128+N on signal N.
    public static func main(_ arguments: [String]) -> Int32 {
        let errors = Console.standardError
        if arguments.first == Supervisor.command { return Supervisor.main(Array(arguments.dropFirst())) }
        do {
            if let first = arguments.first, QueueCommands.names.contains(first) {
                return try QueueCommands.run(first, Array(arguments.dropFirst()))
            }
            return try run(arguments)
        } catch {
            errors.line("multirun: \(error.message)")
            return 2
        }
    }

    static func run(_ arguments: [String]) throws(UsageError) -> Int32 {
        let options = try OptionsParser.parse(arguments)
        let out = Console.standardOutput
        if options.showHelp { out.line(HelpText.multirun); return 0 }
        if options.showVersion { out.line("multirun \(version)"); return 0 }

        // A daemon owns this machine's slots: tasks must go through it, not around it.
        let queue = QueueFolder.resolve(options.queue)
        if let pid = QueueCommands.schedulerPID(queue) {
            throw UsageError("a multirun daemon (pid \(pid)) owns the slots of queue \(queue.path); hand it these tasks with 'multirun submit' and the same -c/--commands, or stop it first")
        }
        let placement = try Placement.make(options)
        let runID = Clock.runID()
        let resultsRoot = ConfigSelector.normalized(options.resultsDir)
        let runFolder = "\(resultsRoot)/runs/\(runID)"
        let plan = try RunPlan.make(options, runFolder: runFolder)
        try checkWritable(resultsRoot)

        if options.check {
            guard try confirm(plan, options: options) else {
                out.line("Nothing started.")
                return 0
            }
        }

        let reporter: RunReporter
        let signals: SignalChannel
        let runner: TaskRunner
        do {
            reporter = try RunReporter(runID: runID, runFolder: runFolder, taskCount: plan.tasks.count, console: out)
            signals = try SignalChannel()
            runner = try TaskRunner(
                tasks: plan.tasks, pool: placement.pool,
                settings: .init(gpuIDs: placement.gpuIDs, timeout: options.timeout, grace: options.grace, runID: runID),
                reporter: reporter, signals: signals)
        } catch {
            throw UsageError("cannot start the run: \(error)")
        }
        for line in plan.notes { out.line(line) }
        let started = Clock.monotonic()
        let stopSignal = plan.tasks.isEmpty ? nil : runner.run()
        let wall = Double(Clock.monotonic() - started) / 1e9
        out.line(reporter.finish(skipped: plan.skipped, wallSeconds: wall, interruptedBy: stopSignal))
        if let stopSignal { return 128 + stopSignal }
        let failed = reporter.count(.failed) + reporter.count(.timedOut)
        return failed > 0 ? 1 : 0
    }

    private static func checkWritable(_ folder: String) throws(UsageError) {
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
    private static func confirm(_ plan: RunPlan, options: Options) throws(UsageError) -> Bool {
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

/// Which devices the run uses and how many slots each has.
struct Placement {
    let pool: SlotPool
    /// CUDA_VISIBLE_DEVICES value per GPU position; nil in CPU mode.
    let gpuIDs: [String]?

    static func make(_ options: Options) throws(UsageError) -> Placement {
        guard options.gpu else {
            return Placement(pool: SlotPool(capacities: [(.cpu, options.slots?.first ?? 1)]), gpuIDs: nil)
        }
        let gpus = try GPUInventory.discover()
        if gpus.isEmpty {
            throw UsageError("no GPU found (nvidia-smi is missing or lists none); to run on the CPU, pass -gpu false -d N")
        }
        let slots = options.slots ?? Array(repeating: 1, count: gpus.count)
        if slots.count > gpus.count {
            let listed = gpus.map(\.index).joined(separator: ", ")
            throw UsageError("-d: position \(gpus.count) ('\(slots[gpus.count])') names no GPU: this machine has \(gpus.count) (\(listed)); give at most \(gpus.count) values")
        }
        let capacities = slots.enumerated().map { (device: Device.gpu($0.offset), slots: $0.element) }
        return Placement(pool: SlotPool(capacities: capacities), gpuIDs: gpus.map(\.index))
    }
}
