/// The one table of multirun's subcommands and options. The help pages, the "does this
/// flag apply here" check, the nearest-name suggestions, the shell completion scripts and
/// the man page are all generated from it, so they cannot disagree.
public enum CommandTable {
    /// One option: its spellings (the first is shown first), its value's name (nil for a
    /// switch), what it does, and what completes its value.
    public struct Option: Sendable {
        public let names: [String]
        public let value: String?
        public let help: String
        public let completion: ValueCompletion

        init(_ names: [String], _ value: String? = nil, _ help: String, _ completion: ValueCompletion = .none) {
            self.names = names
            self.value = value
            self.help = help
            self.completion = completion
        }
    }

    public enum ValueCompletion: Sendable, Equatable {
        case none, file, directory, words([String])
    }

    /// One subcommand. `run` is the one-shot run, the command a bare `multirun -c ...` is.
    public struct Subcommand: Sendable {
        public let name: String
        public let abstract: String
        public let usage: [String]
        public let discussion: String
        public let options: [String]
        public let arguments: String?
        public let examples: [(String, String)]
        /// Options only this subcommand has, whose spelling means something else elsewhere
        /// (`log -n LINES` against a run's `-n`, the dry run).
        public var ownOptions: [Option] = []
    }

    // MARK: - options

    public static let options: [Option] = [
        Option(["-c", "--config-regex"], "REGEX", "Run each config whose path (configs/exp-1/exp-1-2.yaml) the regex matches anywhere. Files named *-base.* or *_base.* never run."),
        Option(["--configs"], "DIR", "Folder searched for *.yaml, *.yml and *.json (default: configs).", .directory),
        Option(["--commands"], "FILE", "Run each non-empty line of FILE (- for stdin) as one task instead of configs. Lines with shell syntax run under /bin/sh -c.", .file),
        Option(["-d", "--slots"], "N_0 N_1 ...", "GPU mode: GPU i runs N_i tasks at once (0 = unused). CPU mode: one value, the number of tasks at once. Default: 1 per GPU, or 1 on the CPU."),
        Option(["-gpu", "--gpu"], "true|false", "Use the GPUs nvidia-smi lists, or an inherited CUDA_VISIBLE_DEVICES (default: true). --no-gpu = false.", .words(["true", "false"])),
        Option(["--no-gpu"], nil, "CPU mode: the same as -gpu false."),
        Option(["--cvd"], "index|uuid", "What tasks get in CUDA_VISIBLE_DEVICES (default: index, or the inherited entries). GPU mode only.", .words(["index", "uuid"])),
        Option(["--cpu-slots"], "N", "A CPU pool of N slots beside the GPUs, for configs with resources: {device: cpu} or {mpi: {np: K}}. GPU mode only."),
        Option(["--min-free-mem"], "SIZE", "Start a GPU task only on a GPU with SIZE free (e.g. 20GiB). A config's resources.gpu_memory overrides it. GPU mode only."),
        Option(["--mpi-launcher"], "CMD", "Launcher of resources.mpi configs (default: mpiexec); -np K is added."),
        Option(["--probe-timeout"], "SECONDS", "How long nvidia-smi may take before it counts as hung (default: 10). GPU mode only."),
        Option(["-check", "--check"], "true|false", "List the tasks and ask before starting (default: true). --no-check = false; needed when stdin is not a terminal (cron).", .words(["true", "false"])),
        Option(["--no-check"], nil, "Start without asking: the same as -check false."),
        Option(["-w", "--overwrite"], nil, "Run configs that completed before (and pass --overwrite on to the runner)."),
        Option(["--runner"], "CMD ARGS", "What each config runs (default: runone -c {config} {overwrite}). Placeholders: {config} {output} {gpu} {slot} {overwrite}. Configs only (-c)."),
        Option(["--timeout"], "SECONDS", "Stop a task that runs longer: TERM its process group, then KILL after --grace."),
        Option(["--grace"], "SECONDS", "Time between TERM and KILL (default: 10)."),
        Option(["--results"], "DIR", "Where results, logs and run summaries go (default: results).", .directory),
        Option(["--queue"], "DIR", "The queue folder (default: .multirun, or $MULTIRUN_QUEUE).", .directory),
        Option(["--exit-when-idle"], nil, "Exit once the queue is empty (for cron); exit 0 at once if another scheduler holds the queue."),
        Option(["--no-env"], nil, "Do not capture the submitting shell's environment; tasks get the scheduler's."),
        Option(["--json"], nil, "Print JSON for scripts instead of text."),
        Option(["--all"], nil, "Every task of the queue, instead of IDs."),
        Option(["--retries"], "N", "Run a failed task up to N more times (0-1000); every attempt is recorded."),
        Option(["--retry-on"], "CODES", "Retry only these exit codes (e.g. 137,143; a signal N counts as 128+N, a timeout as 124)."),
        Option(["--priority"], "N", "Every task of this submit gets priority N: higher starts first (default: each config's priority:, else 0)."),
        Option(["--after"], "ID...", "Start these tasks only once tasks ID... of the queue succeeded; if one does not, they end as dependency_failed."),
        Option(["--halt"], "now|soon,fail=N|fail=P%|success=N|success=P%", "Stop as GNU parallel does once the condition holds: soon starts nothing more, now also stops running tasks."),
        Option(["-n", "--dry-run"], nil, "Print the plan (commands, first-wave devices, what is skipped and why) and start nothing."),
        Option(["--joblog"], "FILE", "Write GNU parallel's joblog, one line per task end (+FILE appends).", .file),
        Option(["--on-finish"], "CMD", "Run CMD (under /bin/sh) after each task, with its facts in MULTIRUN_* variables; never stops the run."),
        Option(["--on-finish-timeout"], "SECONDS", "How long one --on-finish hook may run (default: 60; units as --timeout: 90, 5m, 2h). Needs --on-finish."),
        Option(["--on-empty"], "CMD", "Run CMD (under /bin/sh) each time the queue becomes empty."),
        Option(["--grid"], "KEY=V1,V2,...", "Sweep KEY (nested with dots: model_params.G) over these values; give it once per key. Values read as YAML reads them ('007' quoted stays text)."),
        Option(["--subjects"], "A-B", "One config per subject A to B (at most 100000): sets model_params.subject, or params.subject in a command: config."),
        Option(["--out"], "DIR", "Folder the generated configs go to (created if missing).", .directory),
        Option(["--prune"], nil, "Remove configs in --out that an earlier sweep of this base made and this one does not (without it they are only listed)."),
        Option(["--backend"], "local|slurm", "Where tasks run: this machine's slots (local, the default), or Slurm job arrays (slurm), with the same selection, logs, markers and summary.", .words(["local", "slurm"])),
        Option(["--array-limit"], "K", "Slurm: at most K tasks of this run at once (the arrays' %K). Default: the sum of -d, else no limit."),
        Option(["--sbatch-arg"], "ARG", "Slurm: pass ARG on to sbatch (repeatable), e.g. --sbatch-arg=--partition=gpu --sbatch-arg=--account=lab."),
        Option(["--detach"], nil, "Slurm: submit, print the run id and exit; follow it with status --run ID and wait --run ID."),
        Option(["--run"], "ID", "A Slurm run's id (as --detach prints it): that run instead of the queue."),
        Option(["-h", "--help"], nil, "Show this help."),
    ]

    /// Options every subcommand takes (not listed per subcommand).
    static let common = ["-h"]

    public static let subcommands: [Subcommand] = [
        Subcommand(
            name: "run",
            abstract: "Run the selected configs (or commands) on GPU or CPU slots now (the default).",
            usage: ["multirun [run] -c REGEX [-d N_0 N_1 ...] [-gpu true|false] [-check true|false] [options]",
                    "multirun [run] --commands FILE -gpu false -d N -check false"],
            discussion: "Each config runs as `runone -c FILE` (or --runner) with CUDA_VISIBLE_DEVICES set; the next task starts the moment one ends. Configs that already completed are skipped. 'run' may be left out.",
            options: ["-c", "--configs", "--commands", "-d", "-gpu", "--no-gpu", "--cvd", "--cpu-slots", "--min-free-mem", "--mpi-launcher",
                      "--probe-timeout", "-check", "--no-check", "-w", "--runner", "--timeout", "--grace", "--results", "--queue",
                      "--retries", "--retry-on", "--halt", "-n", "--joblog", "--on-finish", "--on-finish-timeout",
                      "--backend", "--array-limit", "--sbatch-arg", "--detach"],
            arguments: nil,
            examples: [("multirun -c \"exp-(2|3)-1\" -d 0 1 0 1", "GPUs 1 and 3, one task each"),
                       ("multirun -c exp-1 -gpu false -d 3 -check false", "CPU only, 3 at a time, no prompt"),
                       ("multirun --commands jobs.txt -gpu false -d 8 -check false", "like xargs -P 8"),
                       ("multirun -c exp --backend slurm --array-limit 8 --sbatch-arg=--partition=gpu -check false", "as Slurm job arrays")]),
        Subcommand(
            name: "daemon",
            abstract: "Be the one scheduler of a queue folder: run what is submitted.",
            usage: ["multirun daemon [-d N_0 N_1 ...] [-gpu true|false] [--exit-when-idle] [--queue DIR] [options]"],
            discussion: "SIGTERM/SIGINT: stop; interrupted tasks run again at the next start. SIGHUP or 'multirun drain': finish running tasks, start nothing new, exit.",
            options: ["-d", "-gpu", "--no-gpu", "--cvd", "--cpu-slots", "--min-free-mem", "--probe-timeout", "--timeout", "--grace", "--exit-when-idle", "--queue",
                      "--halt", "--on-finish", "--on-empty", "--on-finish-timeout", "--joblog"],
            arguments: nil,
            examples: [("multirun daemon -d 1 1 &", "one task on each of GPUs 0 and 1"),
                       ("multirun daemon --exit-when-idle -d 1 1", "from cron: drain the queue, then exit")]),
        Subcommand(
            name: "submit",
            abstract: "Add configs (or commands) to the queue and return at once.",
            usage: ["multirun submit -c REGEX [-w] [--runner CMD] [--no-env] [--queue DIR]",
                    "multirun submit --commands FILE [--no-env] [--queue DIR]"],
            discussion: "Configs already queued, running or completed with the same identity are not added (-w forces). Tasks run in the submitter's folder with its environment, less CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER and MULTIRUN_*.",
            options: ["-c", "--configs", "--commands", "-w", "--runner", "--results", "--mpi-launcher", "--no-env", "--queue", "--retries", "--retry-on",
                      "--priority", "--after", "-n"],
            arguments: nil,
            examples: [("multirun submit -c \"exp-(2|3)-1\"", "prints each task's id"),
                       ("multirun submit --commands jobs.txt", "one task per line")]),
        Subcommand(
            name: "status",
            abstract: "Show the queue: counts, running tasks (device, slot, pid, elapsed, last log lines), queued and failed tasks.",
            usage: ["multirun status [--json] [--queue DIR]", "multirun status --run ID [--results DIR]"],
            discussion: "With --run ID: a Slurm run's tasks (started, ended) and its job arrays' states.",
            options: ["--json", "--queue", "--run", "--results"],
            arguments: nil,
            examples: [("multirun status", ""), ("multirun status --json", "the same for scripts")]),
        Subcommand(
            name: "cancel",
            abstract: "Drop queued tasks; TERM, then KILL after --grace, running ones.",
            usage: ["multirun cancel ID... [--grace SECONDS] [--queue DIR]", "multirun cancel --all [--queue DIR]"],
            discussion: "",
            options: ["--all", "--grace", "--queue"],
            arguments: "ID...",
            examples: [("multirun cancel 42", ""), ("multirun cancel --all", "")]),
        Subcommand(
            name: "wait",
            abstract: "Block until those (or all) tasks ended; exit 0 only if all succeeded.",
            usage: ["multirun wait [ID...] [--queue DIR]", "multirun wait --run ID [--results DIR]"],
            discussion: "Ctrl-C or SIGTERM ends the wait (exit 130 or 143); the tasks keep running. With --run ID: follow a Slurm run to its end, print its lines and write its summary.",
            options: ["--queue", "--run", "--results"],
            arguments: "ID...",
            examples: [("multirun wait", "until every task ended"), ("multirun wait 3 4", "")]),
        Subcommand(
            name: "drain",
            abstract: "Let running tasks finish, start nothing new, and have the scheduler exit.",
            usage: ["multirun drain [--queue DIR]"],
            discussion: "",
            options: ["--queue"],
            arguments: nil,
            examples: [("multirun drain", "")]),
        Subcommand(
            name: "devices",
            abstract: "Print the GPUs as multirun sees them: id, name, UUID, bus, memory, slots.",
            usage: ["multirun devices [-d N_0 N_1 ...] [--cpu-slots N] [--cvd index|uuid] [--json]"],
            discussion: "",
            options: ["-d", "-gpu", "--no-gpu", "--cvd", "--cpu-slots", "--probe-timeout", "--json"],
            arguments: nil,
            examples: [("multirun devices", ""), ("multirun devices --json -d 2 1 --cpu-slots 4", "")]),
        Subcommand(
            name: "log",
            abstract: "Print the last lines of a queued task's log (-f follows it until the task ends), or of a config's last one-shot run.",
            usage: ["multirun log ID [-n LINES] [-f] [--queue DIR]", "multirun log CONFIG [-n LINES] [-f] [--results DIR]"],
            discussion: "An argument of digits only is a task id; anything else is a config path.",
            options: ["--queue", "--results"],
            arguments: "ID|CONFIG",
            examples: [("multirun log 42 -n 50 -f", "follow task 42"), ("multirun log configs/exp-1/exp-1-2.yaml", "")],
            ownOptions: [Option(["-n", "--lines"], "LINES", "How many lines from the end to print (default: 10; 0 prints none)."),
                         Option(["-f", "--follow"], nil, "Keep printing what the task writes until it ends.")]),
        Subcommand(
            name: "restart",
            abstract: "Queue ended failed, timed-out, cancelled or interrupted tasks again (succeeded ones only with -w).",
            usage: ["multirun restart ID... [-w] [--queue DIR]", "multirun restart --failed [--queue DIR]"],
            discussion: "Appends a 'restarted' event: the journal stays append-only and earlier attempts and logs stay.",
            options: ["-w", "--queue"],
            arguments: "ID...",
            examples: [("multirun restart --failed", ""), ("multirun restart 42 -w", "")],
            ownOptions: [Option(["--failed"], nil, "Every ended task that did not succeed: failed, timed out, cancelled, interrupted or dependency_failed.")]),
        Subcommand(
            name: "sweep",
            abstract: "Write one config per point of a parameter grid (and per subject) from a base config.",
            usage: ["multirun sweep BASE --grid KEY=V1,V2,... [--grid ...] [--subjects A-B] --out DIR [--prune] [--runner CMD]"],
            discussion: "The points are the Cartesian product of the --grid values and the subjects; each file is the base (merged over what it extends) with the point's values set, named BASE__KEY-VALUE__...__sub-NNNN.yaml. Every point is checked against runone's schema (with --runner, only multirun's keys) before anything is written; files whose bytes would not change are left alone.",
            options: ["--grid", "--subjects", "--out", "--prune", "--runner"],
            arguments: "BASE",
            examples: [("multirun sweep configs/study-base.yaml --grid model_params.G=0.5,1.0 --grid model_params.nodes=48,68 --out configs/sweep-1", "4 configs"),
                       ("multirun sweep configs/study-base.yaml --subjects 0-9999 --out configs/subjects", "10,000 configs, sub-0000 to sub-9999"),
                       ("multirun -c sweep-1/ -gpu false -d 2 -check false", "then run them")]),
        Subcommand(
            name: "help",
            abstract: "Show the help of multirun or of one subcommand.",
            usage: ["multirun help [SUBCOMMAND]"],
            discussion: "",
            options: [],
            arguments: "SUBCOMMAND",
            examples: [("multirun help submit", "")]),
    ]

    /// Options of the top level only (no subcommand): they print something and exit.
    static let topLevel: [Option] = [
        Option(["--version", "-V"], nil, "Show the version."),
        Option(["--completion"], "bash|zsh|fish", "Print a shell completion script.", .words(["bash", "zsh", "fish"])),
        Option(["--man"], nil, "Print the man page (roff)."),
    ]

    /// The names a user types as the first word.
    public static var subcommandNames: [String] { subcommands.map(\.name) }

    public static func subcommand(_ name: String) -> Subcommand? {
        subcommands.first { $0.name == name }
    }

    public static func option(_ name: String) -> Option? {
        options.first { $0.names.contains(name) }
    }

    /// The options `command` owns, in table order (plus -h).
    static func options(of command: Subcommand) -> [Option] {
        let names = command.options + common
        let own = Set(command.ownOptions.flatMap(\.names))
        return command.ownOptions + options.filter { option in option.names.contains { names.contains($0) && !own.contains($0) } }
    }

    /// Every spelling `command` accepts.
    static func spellings(of command: Subcommand) -> [String] {
        options(of: command).flatMap(\.names) + (command.name == "run" ? topLevel.flatMap(\.names) : [])
    }

    // MARK: - checks

    /// `flag` (as typed, before any `=value`) for subcommand `name`: nil when it applies,
    /// else the one-line problem. An unknown flag gets the nearest spelling.
    static func problem(flag: String, raw: String, command name: String) -> String? {
        guard let command = subcommand(name) else { return nil }
        if flag == "--version" || flag == "-V" {
            return name == "run" ? nil : "\(flag) does not apply to 'multirun \(name)'; the version is multirun's own: multirun --version"
        }
        if command.ownOptions.contains(where: { $0.names.contains(flag) }) { return nil }
        let label = name == "run" ? "a one-shot run (multirun -c ...)" : "'multirun \(name)'"
        if let option = option(flag) {
            if options(of: command).contains(where: { $0.names == option.names }) { return nil }
            let owners = subcommands.filter { sub in options(of: sub).contains { $0.names == option.names } && sub.name != "help" }.map(\.name)
            let ownersText = owners.map { $0 == "run" ? "one-shot runs" : "'\($0)'" }.joined(separator: ", ")
            return "\(flag) does not apply to \(label); it belongs to \(ownersText) (see 'multirun help \(name)')"
        }
        let known = spellings(of: command)
        if let near = nearest(flag, among: known) {
            return "unknown option '\(raw)' for \(label); did you mean '\(near)'? (see 'multirun help \(name)')"
        }
        if let near = nearest(flag, among: options.flatMap(\.names)), let other = option(near) {
            let owners = subcommands.filter { sub in options(of: sub).contains { $0.names == other.names } }.map { $0.name == "run" ? "one-shot runs" : "'\($0.name)'" }
            return "unknown option '\(raw)' for \(label); the nearest, '\(near)', belongs to \(owners.joined(separator: ", ")) (see 'multirun help \(name)')"
        }
        return "unknown option '\(raw)' for \(label); run 'multirun help \(name)' to see its options"
    }

    /// `--flag=value` for a flag that takes no value (`--dry-run=false`): the one-line
    /// refusal, else nil. Without it the switch would take effect and the value be lost.
    /// Covers the table's options, every subcommand's own ones, and the top-level ones.
    public static func switchValueProblem(flag: String, inline: String) -> String? {
        let all = options + topLevel + subcommands.flatMap(\.ownOptions)
        let named = all.filter { $0.names.contains(flag) }
        guard !named.isEmpty, named.allSatisfy({ $0.value == nil }) else { return nil }
        return "\(flag) takes no value; drop '=\(inline)'"
    }

    /// An option that takes a value may be given once: `-c a -c b` would silently keep one.
    static func checkRepeated(_ flag: String, given: inout [String]) throws(UsageError) {
        guard let option = option(flag) else { return }
        let key = option.names[0]
        // --grid is given once per swept key; --sbatch-arg once per sbatch option.
        if option.value != nil, key != "--grid", key != "--sbatch-arg", given.contains(key) {
            let spelled = option.names.joined(separator: "/")
            let hint = key == "-c" ? "; to select several patterns, join them in one regex: -c 'a|b'" : "; give it once"
            throw UsageError("\(spelled) given twice\(hint)")
        }
        given.append(key)
    }

    /// Options that only mean something on a GPU are errors in CPU mode (-gpu false),
    /// not silently ignored.
    static func checkCombinations(_ options: Options, given: [String]) throws(UsageError) {
        // An option that only modifies another does nothing without it.
        for (key, bases, why) in modifiers where given.contains(key) && !bases.contains(where: given.contains) {
            let named = bases.joined(separator: " or ")
            throw UsageError("\(key) \(why), and no \(named) was given; add \(bases[0]), or drop \(key)")
        }
        // With --commands each line is the whole task: options about configs do nothing.
        if given.contains("--commands") {
            for (key, why) in configsOnly where given.contains(key) {
                throw UsageError("\(key) \(why), and --commands runs lines, not configs; drop \(key) (or select configs with -c instead of --commands)")
            }
        }
        if let problem = SlurmRun.flagProblem(options, given: given) { throw UsageError(problem) }
        if !options.gpu {
            // (--cpu-slots and --min-free-mem with -gpu false: Placement says why.)
            for key in ["--cvd", "--probe-timeout"] where given.contains(key) {
                let why = key == "--cvd" ? "chooses what GPU tasks get in CUDA_VISIBLE_DEVICES" : "limits how long nvidia-smi may take"
                throw UsageError("\(key) \(why), and with -gpu false nothing runs on a GPU; drop \(key), or drop -gpu false")
            }
        }
    }

    /// Options (by their first spelling) that only change what another one does:
    /// `(option, the one it modifies, what it does)`.
    /// (--retry-on without --retries has its own line in `OptionsParser.validate`.)
    static let modifiers: [(String, [String], String)] = [
        // The daemon's --on-empty hook has the same limit.
        ("--on-finish-timeout", ["--on-finish", "--on-empty"], "limits how long an --on-finish (or --on-empty) hook may run"),
    ]

    /// Options (by their first spelling) that apply to configs only, refused with
    /// --commands. (--runner has its own line in `OptionsParser.validate`.)
    static let configsOnly: [(String, String)] = [
        ("-w", "reruns configs that completed before"),
        ("--configs", "names the folder configs are found in"),
        ("--mpi-launcher", "launches configs with resources: {mpi: ...}"),
    ]

    /// A word where the one-shot run takes no positional argument: a mistyped subcommand
    /// gets the nearest one; a word that may be a config pattern gets the -c hint.
    static func unexpectedWord(_ word: String, command name: String) -> String {
        if name == "run", let near = nearest(word, among: subcommandNames) {
            return "unknown subcommand '\(word)'; did you mean '\(near)'? (see 'multirun help')"
        }
        if name == "run" {
            // `st` for status (a prefix), `version` for --version (an option without dashes).
            let lowered = word.lowercased()
            let prefixed = lowered.count >= 2 ? subcommandNames.filter { $0.hasPrefix(lowered) && $0 != "help" } : []
            let option = (options + topLevel).flatMap(\.names).first { $0.hasPrefix("--") && $0.dropFirst(2) == lowered[...] && lowered.count > 1 }
            let suggestion = prefixed.count == 1 ? "did you mean the subcommand '\(prefixed[0])'? " : option.map { "did you mean '\($0)'? " } ?? ""
            return "unexpected argument '\(word)'; \(suggestion)\(suggestion.isEmpty ? "to" : "To") select configs by it, write -c '\(word)'"
        }
        return "'multirun \(name)' takes no argument '\(word)'; see 'multirun help \(name)'"
    }

    /// The candidate closest to `word` by edit distance, when it is close enough to be a
    /// typo: at most 1 edit for short words, 2 for longer ones (a transposition is 1).
    public static func nearest(_ word: String, among candidates: [String]) -> String? {
        let stripped = strip(word)
        guard !stripped.isEmpty else { return nil }
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(stripped, strip(candidate))
            if best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        guard let (candidate, distance) = best else { return nil }
        let allowed = stripped.count <= 3 ? 1 : 2
        return distance <= allowed && distance < stripped.count ? candidate : nil
    }

    private static func strip(_ word: String) -> [Character] {
        Array(word.drop { $0 == "-" }.lowercased())
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { value = min(value, table[i - 2][j - 2] + 1) }
                table[i][j] = value
            }
        }
        return table[a.count][b.count]
    }

    // MARK: - help pages

    static func optionLabel(_ option: Option) -> String {
        option.names.joined(separator: ", ") + (option.value.map { " " + $0 } ?? "")
    }

    /// Words of `text` in lines of at most `width` characters.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// The page `multirun help NAME` and `multirun NAME --help` print.
    public static func helpPage(_ command: Subcommand) -> String {
        var out: [String] = []
        out.append("OVERVIEW: " + command.abstract)
        if !command.discussion.isEmpty {
            out.append("")
            out += wrap(command.discussion, width: 88)
        }
        out.append("")
        for (index, usage) in command.usage.enumerated() { out.append((index == 0 ? "USAGE: " : "       ") + usage) }
        if let arguments = command.arguments {
            out.append("")
            out.append("ARGUMENTS:")
            out.append("  " + arguments.padded(to: 26) + argumentHelp(command))
        }
        out.append("")
        out.append("OPTIONS:")
        for option in options(of: command) {
            let label = optionLabel(option)
            let help = wrap(option.help, width: 60)
            if label.count > 25 {
                out.append("  " + label)
                for line in help { out.append(String(repeating: " ", count: 28) + line) }
            } else {
                for (index, line) in help.enumerated() {
                    out.append("  " + (index == 0 ? label : "").padded(to: 26) + line)
                }
            }
        }
        if !command.examples.isEmpty {
            out.append("")
            out.append("EXAMPLES:")
            for (line, note) in command.examples { out.append("  " + line + (note.isEmpty ? "" : "    # " + note)) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// What a subcommand's positional argument is, for its help page and man page.
    static func argumentHelp(_ command: Subcommand) -> String {
        switch command.name {
        case "help": "The subcommand to explain: " + subcommandNames.joined(separator: ", ") + "."
        case "sweep": "The base config (.yaml or .json) every point starts from."
        default: "Task ids, as submit and status print them."
        }
    }

    /// The overview's list of subcommands, appended to `HelpText.multirun`.
    public static var subcommandList: String {
        var out = ["SUBCOMMANDS:"]
        for command in subcommands {
            let help = wrap(command.abstract, width: 62)
            for (index, line) in help.enumerated() { out.append("  " + (index == 0 ? command.name : "").padded(to: 14) + line) }
        }
        out.append("")
        out.append("  See 'multirun help SUBCOMMAND' (or 'multirun SUBCOMMAND --help') for its options.")
        out.append("")
        out.append("  -V, --version             Show the version.")
        out.append("  --completion bash|zsh|fish  Print a shell completion script.")
        out.append("  --man                     Print the man page (roff).")
        return out.joined(separator: "\n") + "\n"
    }

    /// `multirun --help` and `multirun help`.
    public static var overview: String {
        HelpText.multirun.trimmingTrailingNewlines() + "\n\n" + subcommandList
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    func trimmingTrailingNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
