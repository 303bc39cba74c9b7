/// Everything the one-shot `multirun` command was asked to do, parsed but not yet checked
/// against the machine (GPU count, files, runner).
public struct Options: Equatable, Sendable {
    public var configRegex: String?
    public var configsRoot = "configs"
    /// Raw `-d` values in order; nil means "not given" (one task per GPU, or 1 on the CPU).
    public var slots: [Int]?
    public var gpu = true
    public var check = true
    public var overwrite = false
    public var runner: String?
    public var commandsFile: String?
    public var timeout: Double?
    /// `--retries N --retry-on CODES` and `--halt WHEN,CONDITION`.
    public var retry = RetryPolicy()
    public var halt: HaltPolicy?
    /// `submit --priority N` and `submit --after ID...`.
    public var priority: Int?
    public var after: [String] = []
    public var grace: Double = 10
    /// `--probe-timeout`: how long nvidia-smi may take at start (seconds); while tasks run,
    /// a memory reading waits at most 2 s of it.
    public var probeTimeout: Double = 10
    public var resultsDir = "results"
    public var showHelp = false
    public var showVersion = false
    /// Queue subcommands: the folder, and their own switches and arguments.
    public var queue: String?
    public var exitWhenIdle = false
    /// submit: do not capture the submitter's environment (tasks get the scheduler's).
    public var noEnvironment = false
    public var json = false
    public var all = false
    public var positionals: [String] = []
    /// A CPU pool of this many slots beside the GPU slots (for `device: cpu` and MPI tasks).
    public var cpuSlots: Int?
    /// What CUDA_VISIBLE_DEVICES holds: GPU indices (or the inherited entries), or UUIDs.
    public var cvd: DeviceUniverse.IDKind = .index
    /// Free memory every GPU task needs on its GPU (MiB), unless its config says otherwise.
    public var minFreeMemMiB: Int?
    /// The MPI launcher's command line (`mpi: {np: k}` configs); `-np k` is appended.
    public var mpiLauncher = "mpiexec"
    /// `--dry-run`: print the plan, start and write nothing.
    public var dryRun = false
    /// `--joblog FILE`: GNU parallel's joblog, one line per task end.
    public var joblog: String?
    /// `--on-finish 'CMD'`: run under /bin/sh -c after each task ends (facts in MULTIRUN_*).
    public var onFinish: String?
    /// `--on-finish-timeout SECONDS`: how long one hook may run (default 60).
    public var onFinishTimeout: Double = 60
    /// daemon `--on-empty 'CMD'`: run under /bin/sh -c each time the queue becomes empty.
    public var onEmpty: String?
    /// sweep: `--grid KEY=V1,V2` as typed, in order (parsed by `SweepGrid.parseAxis`).
    public var grid: [String] = []
    /// sweep: `--subjects A-B` as typed (`SweepGrid.parseSubjects`).
    public var subjects: String?
    /// sweep: `--out DIR`, where the generated configs go.
    public var sweepOut: String?
    /// sweep: `--prune`, remove configs an earlier sweep of the base made and this one does not.
    public var prune = false
    /// `--backend local|slurm`: this machine's slots, or Slurm job arrays.
    public var backend = Backend.local
    /// `--array-limit K`: Slurm runs at most K of the run's tasks at once.
    public var arrayLimit: Int?
    /// `--sbatch-arg ARG` (repeatable): passed on to sbatch as they are.
    public var sbatchArgs: [String] = []
    /// `--detach`: submit to Slurm, print the run id, exit.
    public var detach = false
    /// `status --run ID`, `wait --run ID`: a Slurm run instead of the queue.
    public var runID: String?

    public enum Backend: String, Sendable {
        case local, slurm
    }

    public init() {}
}

/// Parses multirun's flags: the seed tool's single-dash forms (`-c`, `-d 0 1`, `-gpu false`,
/// `-check false`, `-w`) and GNU-style long aliases (`--slots 0,1`, `--no-gpu`, `--timeout=5`).
public enum OptionsParser {
    /// `requireTasks`: the one-shot run and `submit` need -c or --commands; `daemon`,
    /// `status`, `cancel`, `wait` and `drain` take IDs (positionals) instead.
    /// `command`: the subcommand (`run` for the one-shot run) whose options these are; each
    /// flag is checked against its row of `CommandTable` (nil: no such check).
    public static func parse(_ arguments: [String], requireTasks: Bool = true, allowPositionals: Bool = false, command: String? = nil) throws(UsageError) -> Options {
        var options = Options()
        var cursor = ArgumentCursor(arguments)
        var given: [String] = []
        while let raw = cursor.next() {
            // `--name=value` carries its value inline.
            var flag = raw
            var inline: String?
            if raw.hasPrefix("--"), let eq = raw.firstIndex(of: "=") {
                flag = String(raw[..<eq])
                inline = String(raw[raw.index(after: eq)...])
            }
            // A switch with `=value` (`--dry-run=false`) would otherwise take effect anyway.
            if let inline, let problem = CommandTable.switchValueProblem(flag: flag, inline: inline) { throw UsageError(problem) }
            if let command, flag.hasPrefix("-"), flag.count > 1, ArgumentCursor.looksLikeOption(flag) {
                if let problem = CommandTable.problem(flag: flag, raw: raw, command: command) { throw UsageError(problem) }
                try CommandTable.checkRepeated(flag, given: &given)
            }
            switch flag {
            case "-c", "--config-regex":
                options.configRegex = try cursor.value(for: flag, inline: inline,
                    hint: "a regular expression over config paths, e.g. -c \"exp-1\"")
            case "--configs":
                options.configsRoot = try cursor.value(for: flag, inline: inline, hint: "the folder that holds the configs")
            case "-d", "--slots":
                options.slots = try parseSlots(flag: flag, words: inline.map { [$0] } ?? cursor.valuesUntilNextOption())
            case "-gpu", "--gpu":
                options.gpu = try boolean(flag: flag, inline: inline, cursor: &cursor, requiresValue: flag == "-gpu")
            case "--no-gpu":
                options.gpu = false
            case "-check", "--check":
                options.check = try boolean(flag: flag, inline: inline, cursor: &cursor, requiresValue: flag == "-check")
            case "--no-check":
                options.check = false
            case "-w", "--overwrite":
                options.overwrite = true
            case "--runner":
                options.runner = try cursor.value(for: flag, inline: inline,
                    hint: "the command each task runs, e.g. --runner 'python run.py'")
            case "--commands":
                options.commandsFile = try cursor.value(for: flag, inline: inline,
                    hint: "a file with one command per line, or - for standard input")
            case "--timeout":
                options.timeout = try timeLimit(flag: flag, try cursor.value(for: flag, inline: inline, hint: "a time limit per task, e.g. 3600, 90m or 2h"))
            case "--retries":
                let text = try cursor.value(for: flag, inline: inline, hint: "how many more times a failed task runs, e.g. --retries 2")
                guard let n = Int(text), n >= 0, n <= maxRetries else {
                    throw UsageError("\(flag): '\(text)' is not a number of retries from 0 to \(maxRetries); e.g. --retries 2 runs a failed task at most twice more")
                }
                options.retry.retries = n
            case "--priority":
                let text = try cursor.value(for: flag, inline: inline, hint: "a whole number, higher starts first, e.g. --priority 10")
                guard let n = Int(text) else {
                    throw UsageError("\(flag): '\(text)' is not a whole number; higher starts first, e.g. --priority 10 (or -5 to go after the rest)")
                }
                options.priority = n
            case "--after":
                let words = inline.map { [$0] } ?? cursor.valuesUntilNextOption()
                let ids = words.flatMap { $0.split(separator: ",").map(String.init) }
                guard !ids.isEmpty else { throw UsageError("\(flag) needs task ids (see multirun status), e.g. --after 12 13") }
                for id in ids where !(QueueLimits.isValidID(id) && id.allSatisfy(\.isNumber)) {
                    throw UsageError("\(flag): '\(id)' is not a task id; give the ids multirun submit printed (see multirun status), e.g. --after 12 13")
                }
                options.after += ids
            case "--retry-on":
                let text = try cursor.value(for: flag, inline: inline, hint: "exit codes that are retried, e.g. --retry-on 137,143")
                guard let codes = RetryPolicy.parseCodes(text) else {
                    throw UsageError("\(flag): '\(text)' is not a list of exit codes from 1 to 255; write e.g. --retry-on 137,143 (a kill by signal N counts as 128+N, a timeout as 124)")
                }
                options.retry.codes = codes
            case "--halt":
                let text = try cursor.value(for: flag, inline: inline, hint: "when to stop the run, e.g. --halt now,fail=1")
                guard case .success(let policy) = HaltPolicy.parse(text) else {
                    throw UsageError("\(flag): '\(text)' is not a halt rule; write now or soon, then fail= or success= a count (1 or more) or a percentage (1% to 100%), e.g. --halt soon,fail=3 or --halt now,fail=10%")
                }
                options.halt = policy
            case "--probe-timeout":
                options.probeTimeout = try seconds(flag: flag, try cursor.value(for: flag, inline: inline, hint: "seconds nvidia-smi may take"), allowZero: false)
            case "--grace":
                options.grace = try seconds(flag: flag, try cursor.value(for: flag, inline: inline, hint: "seconds between TERM and KILL"), allowZero: true)
            case "--results":
                options.resultsDir = try cursor.value(for: flag, inline: inline, hint: "the folder results go to")
            case "--queue":
                options.queue = try cursor.value(for: flag, inline: inline, hint: "the queue folder (default .multirun)")
            case "--cpu-slots":
                let text = try cursor.value(for: flag, inline: inline, hint: "how many CPU tasks run at once beside the GPU tasks")
                guard let count = Int(text), (0...maxSlots).contains(count) else {
                    throw UsageError("--cpu-slots: '\(text)' is not a whole number of slots from 0 to \(maxSlots), e.g. --cpu-slots 4")
                }
                options.cpuSlots = count
            case "--cvd":
                let text = try cursor.value(for: flag, inline: inline, hint: "index or uuid")
                guard let kind = DeviceUniverse.IDKind(rawValue: text) else {
                    throw UsageError("--cvd: '\(text)' is not index or uuid; --cvd uuid gives tasks GPU UUIDs in CUDA_VISIBLE_DEVICES")
                }
                options.cvd = kind
            case "--min-free-mem":
                let text = try cursor.value(for: flag, inline: inline, hint: "a size such as 20GiB")
                guard let mib = ByteSize.mebibytes(text), mib > 0 else {
                    throw UsageError("--min-free-mem: '\(text)' is not a size; write e.g. --min-free-mem 20GiB or 512MiB")
                }
                options.minFreeMemMiB = mib
            case "--mpi-launcher":
                options.mpiLauncher = try cursor.value(for: flag, inline: inline, hint: "the MPI launcher, e.g. --mpi-launcher 'mpirun --oversubscribe'")
            case "--dry-run", "-n":
                options.dryRun = true
            case "--joblog":
                options.joblog = try cursor.value(for: flag, inline: inline, hint: "the file GNU parallel's joblog lines are appended to, e.g. --joblog jobs.log")
                if options.joblog!.isEmpty { throw UsageError("--joblog: the file name is empty; give a file, e.g. --joblog jobs.log") }
            case "--on-finish":
                options.onFinish = try cursor.value(for: flag, inline: inline, hint: "a shell command run after each task, e.g. --on-finish 'notify-send \"$MULTIRUN_STATUS\"'")
                if options.onFinish!.allSatisfy({ $0 == " " || $0 == "\t" }) { throw UsageError("--on-finish: the command is empty; give a shell command, e.g. --on-finish 'echo $MULTIRUN_STATUS >> done.txt'") }
            case "--on-empty":
                options.onEmpty = try cursor.value(for: flag, inline: inline, hint: "a shell command the daemon runs when its queue becomes empty, e.g. --on-empty 'mail -s done me < /dev/null'")
                if options.onEmpty!.allSatisfy({ $0 == " " || $0 == "\t" }) { throw UsageError("--on-empty: the command is empty; give a shell command, e.g. --on-empty 'touch queue-empty'") }
            case "--on-finish-timeout":
                options.onFinishTimeout = try timeLimit(flag: flag, try cursor.value(for: flag, inline: inline, hint: "how long one --on-finish hook may run, e.g. 60, 5m or 1h"))
            case "--grid":
                options.grid.append(try cursor.value(for: flag, inline: inline, hint: "a key and its values, e.g. --grid model_params.G=0.5,1.0"))
            case "--subjects":
                options.subjects = try cursor.value(for: flag, inline: inline, hint: "a range of subject numbers, e.g. --subjects 0-9999")
            case "--out":
                options.sweepOut = try cursor.value(for: flag, inline: inline, hint: "the folder the generated configs go to, e.g. --out configs/sweep-1")
            case "--prune":
                options.prune = true
            case "--backend":
                let text = try cursor.value(for: flag, inline: inline, hint: "local or slurm")
                guard let backend = Options.Backend(rawValue: text) else {
                    throw UsageError("--backend: '\(text)' is not local or slurm; --backend slurm runs the tasks as Slurm job arrays")
                }
                options.backend = backend
            case "--array-limit":
                let text = try cursor.value(for: flag, inline: inline, hint: "how many tasks Slurm runs at once, e.g. --array-limit 8")
                guard let count = Int(text), (1...maxArrayLimit).contains(count) else {
                    throw UsageError("--array-limit: '\(text)' is not a whole number from 1 to \(maxArrayLimit); it is how many tasks Slurm runs at once, e.g. --array-limit 8")
                }
                options.arrayLimit = count
            case "--sbatch-arg":
                // Its value is an sbatch option, so it starts with a dash: taken as it is.
                guard let value = inline ?? cursor.next(), !value.isEmpty else {
                    throw UsageError("--sbatch-arg needs a value: one sbatch option, e.g. --sbatch-arg=--partition=gpu")
                }
                options.sbatchArgs.append(value)
            case "--detach":
                options.detach = true
            case "--run":
                options.runID = try cursor.value(for: flag, inline: inline, hint: "a Slurm run's id, as --detach printed it")
            case "--exit-when-idle":
                options.exitWhenIdle = true
            case "--no-env":
                options.noEnvironment = true
            case "--json":
                options.json = true
            case "--all":
                options.all = true
            case "-h", "--help":
                options.showHelp = true
            case "--version", "-V":
                options.showVersion = true
            default:
                if raw.hasPrefix("-") && raw.count > 1 {
                    throw UsageError("unknown option '\(raw)'; run 'multirun --help' to see the options")
                }
                if allowPositionals {
                    options.positionals.append(raw)
                    continue
                }
                if let command { throw UsageError(CommandTable.unexpectedWord(raw, command: command)) }
                throw UsageError("unexpected argument '\(raw)'; to select configs by it, write -c '\(raw)'")
            }
        }
        if options.showHelp || options.showVersion { return options }
        if command != nil { try CommandTable.checkCombinations(options, given: given) }
        if requireTasks { try validate(options) }
        return options
    }

    private static func validate(_ options: Options) throws(UsageError) {
        if options.configRegex == nil && options.commandsFile == nil {
            throw UsageError("nothing to run: pass -c REGEX to pick configs under \(options.configsRoot)/, or --commands FILE")
        }
        if options.configRegex != nil && options.commandsFile != nil {
            throw UsageError("-c and --commands both given; use -c to run configs or --commands to run a list of commands, not both")
        }
        if options.commandsFile != nil && options.runner != nil {
            throw UsageError("--runner applies to configs (-c); with --commands each line is already the whole command")
        }
        if options.retry.codes != nil && options.retry.retries == 0 {
            throw UsageError("--retry-on needs --retries N, how many more times a failed task runs, e.g. --retries 2 --retry-on \(options.retry.codes!.map(String.init).joined(separator: ","))")
        }
        if !options.gpu, let slots = options.slots, slots.count != 1 {
            let given = slots.map(String.init).joined(separator: " ")
            throw UsageError("-d \(given): in CPU mode (-gpu false) -d takes one value, how many tasks run at once, e.g. -d 3")
        }
    }

    static func parseSlots(flag: String, words: [String]) throws(UsageError) -> [Int] {
        let values = words.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        if values.isEmpty {
            throw UsageError("\(flag) needs at least one value: how many tasks each GPU runs at once, e.g. \(flag) 0 1 0 1 (or \(flag) 3 with -gpu false)")
        }
        var slots: [Int] = []
        for (position, text) in values.enumerated() {
            guard let value = Int(text) else {
                throw UsageError("\(flag): '\(text)' (position \(position)) is not a whole number; give one task count per GPU, e.g. \(flag) 0 1 0 1")
            }
            guard value >= 0 else {
                throw UsageError("\(flag): '\(text)' (position \(position)) is negative; each value is how many tasks run at once there (0 = unused)")
            }
            guard value <= maxSlots else {
                throw UsageError("\(flag): '\(text)' (position \(position)) is more than \(maxSlots) tasks at once on one device; give a count up to \(maxSlots)")
            }
            slots.append(value)
        }
        if slots.allSatisfy({ $0 == 0 }) {
            throw UsageError("\(flag) \(values.joined(separator: " ")): every value is 0, so no task could run; give at least one device a count of 1 or more")
        }
        return slots
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "1", "y", "on": return true
        case "false", "no", "0", "n", "off": return false
        default: return nil
        }
    }

    private static func boolean(flag: String, inline: String?, cursor: inout ArgumentCursor, requiresValue: Bool) throws(UsageError) -> Bool {
        let text: String
        if let inline {
            text = inline
        } else if requiresValue {
            text = try cursor.value(for: flag, inline: nil, hint: "true or false")
        } else if let peeked = cursor.peek(), parseBool(peeked) != nil {
            text = cursor.next()!
        } else {
            return true
        }
        guard let value = parseBool(text) else {
            throw UsageError("\(flag): '\(text)' is not a boolean; write true or false (yes/no and 1/0 work too)")
        }
        return value
    }

    /// The most tasks one device (or the CPU) may run at once: each slot is a record the
    /// scheduler keeps, and a mistyped count must not make it allocate billions.
    static let maxSlots = 4096

    /// The most tasks `--array-limit` lets Slurm run at once (Slurm's own cap on `%`).
    static let maxArrayLimit = 65_533

    /// The most seconds a limit may be (about 31 years): deadlines are kept in nanoseconds
    /// of a 64-bit clock, which 1e308 (or 2e10) would overflow.
    static let maxSeconds = 1e9

    /// The most retries a task may get: each is a run of the task, and a mistyped count
    /// must not look like "forever".
    static let maxRetries = 1000

    /// A time limit as `--timeout` and `resources: {time:}` take it (`TimeLimit`).
    private static func timeLimit(flag: String, _ text: String) throws(UsageError) -> Double {
        let checked = TimeLimit.check(text)
        guard let value = checked.seconds else {
            let problem = checked.problem ?? TimeLimit.problem
            throw UsageError("\(flag): '\(text)' \(problem)\(problem == TimeLimit.problem ? "; e.g. \(flag) 90m" : "")")
        }
        return value
    }

    private static func seconds(flag: String, _ text: String, allowZero: Bool) throws(UsageError) -> Double {
        guard let value = Double(text), value.isFinite, value > 0 || (allowZero && value == 0) else {
            let kind = allowZero ? "a number of seconds, 0 or more" : "a positive number of seconds"
            throw UsageError("\(flag): '\(text)' is not \(kind), e.g. \(flag) 30")
        }
        guard value == 0 || value >= 0.001 else {
            throw UsageError("\(flag): '\(text)' is less than a millisecond; give at least 0.001 seconds")
        }
        guard value <= maxSeconds else {
            throw UsageError("\(flag): '\(text)' is too long; give at most 1000000000 seconds (about 31 years)")
        }
        return value
    }
}

/// Walks argv; knows which words look like options (so `-d 0 -1` still reads -1 as a value).
struct ArgumentCursor {
    private let words: [String]
    private var index = 0

    init(_ words: [String]) { self.words = words }

    mutating func next() -> String? {
        guard index < words.count else { return nil }
        defer { index += 1 }
        return words[index]
    }

    func peek() -> String? { index < words.count ? words[index] : nil }

    mutating func value(for flag: String, inline: String?, hint: String) throws(UsageError) -> String {
        if let inline { return inline }
        guard let word = peek(), !Self.looksLikeOption(word) else {
            throw UsageError("\(flag) needs a value: \(hint)")
        }
        index += 1
        return word
    }

    mutating func valuesUntilNextOption() -> [String] {
        var values: [String] = []
        while let word = peek(), !Self.looksLikeOption(word) {
            values.append(word)
            index += 1
        }
        return values
    }

    /// `-x` or `--x` but not a negative number and not `-` (stdin).
    static func looksLikeOption(_ word: String) -> Bool {
        guard word.hasPrefix("-"), word.count > 1 else { return false }
        let second = word[word.index(after: word.startIndex)]
        return !(second.isNumber || second == ".")
    }
}
