import Glibc

/// The files a Slurm run keeps in its run folder (`results/runs/ID/slurm/`), which must be
/// on storage that the submit host and every compute node share:
///
/// - `array-A.jsonl`: array A's manifest, line j its j-th task (`Entry`); element e of
///   the array runs lines e*bundle ..< (e+1)*bundle.
/// - `jobs.json`: the arrays as submitted: Slurm job id, manifest, bundle, elements.
/// - `started/N.json`, `ended/N.json`: written by the task wrapper on the node as task N
///   (1-based, the run's numbering) starts and ends (`SlurmTaskRecord`).
/// - `task.sh`: the batch script, `exec "$@"`: sbatch needs a script, the wrapper is argv.
/// - `slurm-%A_%a.out`: what the wrapper itself prints (tasks log to their own files).
public enum SlurmFiles {
    public static func folder(_ runFolder: String) -> String { runFolder + "/slurm" }
    public static func manifest(_ runFolder: String, array: Int) -> String { "\(folder(runFolder))/array-\(array).jsonl" }
    public static func jobs(_ runFolder: String) -> String { folder(runFolder) + "/jobs.json" }
    public static func started(_ runFolder: String) -> String { folder(runFolder) + "/started" }
    public static func ended(_ runFolder: String) -> String { folder(runFolder) + "/ended" }
    public static func script(_ runFolder: String) -> String { folder(runFolder) + "/task.sh" }
}

/// One task as the wrapper on a node runs it: everything decided at plan time, so the node
/// needs no configs folder scan, no runner lookup and no clock of the submit host.
public struct SlurmManifestEntry: Sendable {
    /// 1-based task number in the run, and the run's task count (MULTIRUN_TASK=N/total).
    public var number: Int
    public var total: Int
    public var label: String
    /// The resolved program (a path the nodes must see too).
    public var program: String
    /// An MPI config's launcher, srun's path: it starts the element's `--ntasks` copies.
    public var launcher: String?
    /// A `--commands` line's argv, as run.
    public var argv: [String]?
    /// A config task: the runner template's words, filled on the node ({gpu} from Slurm's
    /// CUDA_VISIBLE_DEVICES, {slot} 0).
    public var template: [String]?
    public var config: String?
    public var output: String?
    public var overwrite = false
    public var identity: ConfigIdentity?
    public var log: String
    public var runID: String

    public init(number: Int, total: Int, label: String, program: String, log: String, runID: String) {
        self.number = number
        self.total = total
        self.label = label
        self.program = program
        self.log = log
        self.runID = runID
    }

    /// The entry of a planned task (number = index + 1).
    init(_ spec: TaskSpec, index: Int, total: Int, runID: String) {
        self.init(number: index + 1, total: total, label: spec.label, program: spec.program, log: spec.logPath, runID: runID)
        switch spec.command {
        case .words(let words): argv = words
        case .runner(let runner, let values):
            template = runner.words
            config = values.config
            output = values.output
            overwrite = values.overwrite
        }
        identity = spec.config
        launcher = spec.launcher?.program
    }

    /// What the wrapper execs: the program and argv, or srun and `srun PROGRAM ARGS`.
    public func exec(gpu: String) -> (program: String, argv: [String]) {
        let argv = argv(gpu: gpu)
        guard let launcher else { return (program, argv) }
        return (launcher, ["srun", program] + argv.dropFirst())
    }

    /// The argv for a node where the task got `gpu` (CUDA_VISIBLE_DEVICES).
    public func argv(gpu: String) -> [String] {
        if let template {
            let runner = RunnerTemplate(checkedWords: template)
            return runner.expand(.init(config: config ?? "", output: output ?? "", gpu: gpu, slot: 0, overwrite: overwrite))
        }
        return argv ?? []
    }

    /// One JSON line, line break included.
    public var line: [UInt8] {
        var fields: [(String, JSON)] = [
            ("task", .int(Int64(number))), ("total", .int(Int64(total))), ("label", .string(label)),
            ("program", .string(program)), ("log", .string(log)), ("run_id", .string(runID)),
        ]
        if let argv { fields.append(("argv", .array(argv.map { .string($0) }))) }
        if let template { fields.append(("template", .array(template.map { .string($0) }))) }
        if let launcher { fields.append(("launcher", .string(launcher))) }
        if let config { fields.append(("config", .string(config))) }
        if let output { fields.append(("output", .string(output))) }
        fields.append(("overwrite", .bool(overwrite)))
        if let identity {
            fields.append(("identity", .object([
                ("path", .string(identity.path)), ("name", .string(identity.name)), ("sha256", .string(identity.sha256)),
                ("results", .string(identity.resultsFolder)), ("content_sha256", .string(identity.contentSHA256)),
                ("runner", .string(identity.runner)),
            ])))
        }
        return JSON.object(fields).bytes(newline: true)
    }

    /// Reads a manifest line; nil when it is not one (a damaged or foreign file).
    public static func parse(_ bytes: ArraySlice<UInt8>) -> SlurmManifestEntry? {
        guard let value = try? ConfigParser.parse(bytes: Swift.Array(bytes), dialect: .json, source: "manifest"),
              let number = value["task"]?.int, let total = value["total"]?.int, number >= 1, number <= total,
              let label = value["label"]?.string, let program = value["program"]?.string,
              let log = value["log"]?.string, let runID = value["run_id"]?.string else { return nil }
        var entry = SlurmManifestEntry(number: number, total: total, label: label, program: program, log: log, runID: runID)
        func words(_ key: String) -> [String]? {
            guard let list = value[key], case .list(let items) = list else { return nil }
            let texts = items.compactMap(\.string)
            return texts.count == items.count ? texts : nil
        }
        entry.argv = words("argv")
        entry.template = words("template")
        guard (entry.argv == nil) != (entry.template == nil) else { return nil }
        entry.launcher = value["launcher"]?.string
        entry.config = value["config"]?.string
        entry.output = value["output"]?.string
        entry.overwrite = value["overwrite"] == .bool(true)
        if let identity = value["identity"] {
            guard let path = identity["path"]?.string, let name = identity["name"]?.string, let sha = identity["sha256"]?.string,
                  let results = identity["results"]?.string, let content = identity["content_sha256"]?.string,
                  let runner = identity["runner"]?.string else { return nil }
            entry.identity = ConfigIdentity(path: path, name: name, sha256: sha, resultsFolder: results, contentSHA256: content, runner: runner)
        }
        return entry
    }

    /// Lines `range` of a manifest's bytes (0-based), without reading the others.
    public static func lines(_ bytes: [UInt8], _ range: Range<Int>) -> [ArraySlice<UInt8>] {
        var found: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while start < bytes.count, index < range.upperBound {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if index >= range.lowerBound { found.append(bytes[start..<end]) }
            start = end + 1
            index += 1
        }
        return found
    }
}

/// What the task wrapper writes as a task starts (`started/N.json`) and ends
/// (`ended/N.json`): the exit record that makes a task's outcome right on any cluster,
/// with or without accounting.
public struct SlurmTaskRecord: Sendable, Equatable {
    public var task: Int
    /// `JOBID_INDEX` of the element that ran it.
    public var job: String
    public var node: String
    public var gpu: String
    public var startWall: Int64
    public var endWall: Int64?
    public var exit = TaskExit()
    /// A TERM, INT or HUP reached the wrapper before the task ended (scancel, a time
    /// limit, preemption): the run decides which from the element's Slurm state.
    public var stopped = false
    /// Why it did not run, or did not count (left out, config changed).
    public var error: String?
    /// `not_started` when the wrapper left it out (its results folder is held).
    public var leftOut = false
    /// SLURM_RESTART_COUNT: a requeued element's records are of its latest run.
    public var restarts = 0
    /// The wrapper's pid on its node.
    public var pid: Int32?

    public init(task: Int, job: String, node: String, gpu: String, startWall: Int64) {
        self.task = task
        self.job = job
        self.node = node
        self.gpu = gpu
        self.startWall = startWall
    }

    public var bytes: [UInt8] {
        JSON.object([
            ("task", .int(Int64(task))), ("job", .string(job)), ("node", .string(node)), ("gpu", .string(gpu)),
            ("start", .int(startWall)), ("end", endWall.map { .int($0) } ?? .null),
            ("exit_code", JSON.optional(exit.exitCode)), ("signal", JSON.optional(exit.signal)),
            ("stopped", .bool(stopped)), ("left_out", .bool(leftOut)), ("error", JSON.optional(error)),
            ("restarts", .int(Int64(restarts))), ("pid", JSON.optional(pid)),
        ]).bytes(pretty: false, newline: true)
    }

    public static func parse(_ bytes: [UInt8]) -> SlurmTaskRecord? {
        guard let value = try? ConfigParser.parse(bytes: bytes, dialect: .json, source: "record"),
              let task = value["task"]?.int, let job = value["job"]?.string, let node = value["node"]?.string,
              let gpu = value["gpu"]?.string, let start = value["start"]?.int else { return nil }
        var record = SlurmTaskRecord(task: task, job: job, node: node, gpu: gpu, startWall: Int64(start))
        record.endWall = value["end"]?.int.map(Int64.init)
        func int32(_ key: String) -> Int32? { value[key]?.int.flatMap { Int32(exactly: $0) } }
        record.exit = TaskExit(exitCode: int32("exit_code"), signal: int32("signal"))
        record.stopped = value["stopped"] == .bool(true)
        record.leftOut = value["left_out"] == .bool(true)
        record.error = value["error"]?.string
        record.restarts = value["restarts"]?.int ?? 0
        record.pid = int32("pid")
        return record
    }

    public static func read(_ path: String) -> SlurmTaskRecord? {
        guard let bytes = try? FileIO.read(path) else { return nil }
        return parse(bytes)
    }
}
