/// Every reader of input that comes from outside multirun, with no I/O around it but the
/// PATH lookup of a command's program: what the fuzz target (`Sources/multirun-fuzz`) and
/// the seeded fuzz test drive with arbitrary bytes. Each one returns or throws one
/// message; none may trap, hang or allocate beyond a small multiple of its input.
public enum InputReaders {
    /// The memory budget the config reader checks models against: 1 GiB, so estimates
    /// are exercised without reading this machine's figures.
    static let fuzzBudget = MemoryBudget(bytes: 1 << 30, source: "the fuzz target's budget")

    /// A config file's bytes at `path` (`.json`: JSON, else YAML), checked as the default
    /// runner (runone) checks it, memory estimate included. Throws `file:line:col: problem`.
    /// Every base it extends reads as the same bytes (no file is read): chains, cycles
    /// and merges are driven by the input alone.
    public static func config(_ bytes: [UInt8], path: String) throws(ConfigProblem) {
        _ = try ConfigSchema.check(bytes, path: path, runone: true, memory: fuzzBudget, reader: { _ throws(ConfigLoader.ReadFailure) in (bytes, nil) })
    }

    /// multirun's command line (without the program name): a queue command's options
    /// (`submit`, `status`, ...), `sweep`'s grid and subjects, or the run's and, with
    /// -gpu false, the slots it asks for.
    public static func arguments(_ words: [String]) throws(UsageError) {
        if let first = words.first, QueueCommands.names.contains(first) {
            _ = try OptionsParser.parse(Array(words.dropFirst()), requireTasks: first == "submit", allowPositionals: first != "submit")
            return
        }
        if words.first == "sweep" {
            // The grid as `multirun sweep` reads it, before any file: axes, subjects, points.
            let options = try OptionsParser.parse(Array(words.dropFirst()), requireTasks: false, allowPositionals: true, command: "sweep")
            var axes: [SweepGrid.Axis] = []
            for text in options.grid { axes.append(try SweepGrid.parseAxis(text)) }
            let subjects = try options.subjects.map { text throws(UsageError) in try SweepGrid.parseSubjects(text) }
            let grid = try SweepGrid(axes: axes, subjects: subjects, subjectPath: ["model_params", "subject"])
            if grid.count > 0 { _ = grid.fileName(stem: "fuzz", at: grid.coordinates(of: grid.count - 1)) }
            return
        }
        let options = try OptionsParser.parse(words)
        if !options.gpu && !options.showHelp && !options.showVersion { _ = try Placement.make(options) }
    }

    /// A `--commands` file's bytes.
    public static func commands(_ bytes: [UInt8]) throws(UsageError) {
        _ = try RunPlan.commands(bytes, file: "commands.txt", demand: .gpu(), runFolder: "/nonexistent/run")
    }

    /// A queue journal's bytes, line by line, folded as a scheduler folds them.
    public static func journal(_ bytes: [UInt8]) throws(QueueDecodeError) {
        var state = QueueState()
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            state.apply(try QueueEvent.decode(line: line))
        }
    }

    /// An exit record's bytes (`exits/ID-ATTEMPT.json`, written by a task's supervisor).
    public static func exitRecord(_ bytes: [UInt8]) throws(QueueDecodeError) {
        _ = try Supervisor.decodeRecord(bytes: bytes[...])
    }

    /// A `next-id` file's bytes.
    public static func nextID(_ bytes: [UInt8]) throws(QueueDecodeError) {
        _ = try TaskIDs.parseNextID(bytes: bytes[...])
    }
}
