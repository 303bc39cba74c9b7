/// One task of a run, fully decided before anything starts except where it runs.
public struct TaskSpec: Sendable {
    public enum Command: Sendable {
        /// A `--commands` line: argv as split (or `/bin/sh -c LINE`).
        case words([String])
        /// A config run through the runner template; `{gpu}` and `{slot}` are filled at launch.
        case runner(RunnerTemplate, RunnerTemplate.Values)
    }

    /// What `Start the process with ...` names: the config path, or the command line.
    public let label: String
    /// The program to exec, resolved to a path before the run starts.
    public let program: String
    public let command: Command
    public let config: ConfigIdentity?
    public let logPath: String
    /// Where a `--commands` line came from (`FILE:LINE`): what makes it one queue task.
    public let source: String?
    /// What it holds while it runs (from the config's `resources:`).
    public let demand: Demand
    /// An MPI task runs under a launcher: its resolved path and the words before the
    /// runner (`mpiexec -np 4`).
    public let launcher: (program: String, words: [String])?
    /// The config's `resources:` as written (what `submit` hands the daemon).
    public let resources: TaskResources
    /// A `--commands` line run as `/bin/sh -c LINE` (not one simple command the shell
    /// execs): an exit code of 128+N may be the shell reporting a command killed by signal N.
    public let underShell: Bool
    /// The tasks of its run (indices) it starts only after, when they succeeded (`after:`).
    public var after: [Int] = []
    /// `after:` names of configs outside the run that have not completed, with their
    /// results folders: a submit looks for them among its queue's tasks.
    public var afterElsewhere: [(config: String, resultsFolder: String)] = []
    /// Higher starts first (`priority:`); the plan is already in this order.
    public var priority = 0

    public init(label: String, program: String, command: Command, config: ConfigIdentity?, logPath: String, source: String? = nil,
                demand: Demand, launcher: (program: String, words: [String])? = nil, resources: TaskResources = TaskResources(),
                underShell: Bool = false) {
        self.label = label
        self.program = program
        self.command = command
        self.config = config
        self.logPath = logPath
        self.source = source
        self.demand = demand
        self.launcher = launcher
        self.resources = resources
        self.underShell = underShell
    }

    /// The file to exec: the launcher, if any, else the program.
    public var executable: String { launcher?.program ?? program }

    /// The argv for a launch on `slot`; `gpu` is the CUDA_VISIBLE_DEVICES value (empty on the CPU).
    public func argv(gpu: String, slot: Int) -> [String] {
        let argv: [String]
        switch command {
        case .words(let words):
            argv = words
        case .runner(let template, var values):
            values.gpu = gpu
            values.slot = slot
            argv = template.expand(values)
        }
        // The launcher starts the runner by path: runone lives beside multirun, not on PATH.
        guard let launcher else { return argv }
        return launcher.words + [program] + argv.dropFirst()
    }
}

extension TaskSpec {
    /// The command as log lines show it: a `--commands` line as written, a runner argv
    /// with words quoted where needed.
    public func display(_ argv: [String]) -> String {
        if case .words = command { return label }
        return displayCommand(argv)
    }
}

/// A config task's identity: what a completion marker certifies, and what multirun, runone
/// and the daemon all compare before calling a task done.
///
/// It is the config's name (its path below the configs folder, `exp-1/exp-1-2.yaml`), the
/// SHA-256 of its parsed content less the scheduling-only keys (`ConfigSchema.contentHash`),
/// and the runner template as written with the config's own placeholders filled by those
/// names (`runone -c {configs}/exp-1/exp-1-2.yaml {overwrite}`): `{gpu}`, `{slot}` and
/// `{overwrite}` stay as they are, so the same task on another GPU, or with `-w`, is the
/// same task; and neither the runner's resolved path nor how the configs and results
/// folders are spelled (relative, absolute, from another working folder, a moved checkout)
/// is part of it.
///
/// A class: a queue holds one per config task, and a reference keeps a command task's
/// `nil` at 8 bytes (100,000 queued tasks).
public final class ConfigIdentity: Sendable, Equatable {
    /// The config's path as selected (`configs/exp-1/exp-1-2.yaml`), for people.
    public let path: String
    /// Its path below the configs folder.
    public let name: String
    /// SHA-256 of the file's bytes: what markers written before identities recorded.
    public let sha256: String
    public let resultsFolder: String
    public let contentSHA256: String
    public let runner: String
    /// SHA-256 of name, content and runner; tasks see it as `MULTIRUN_TASK_IDENTITY`.
    public let digest: String

    public init(path: String, name: String, sha256: String, resultsFolder: String, contentSHA256: String, runner: String) {
        self.path = path
        self.name = name
        self.sha256 = sha256
        self.resultsFolder = resultsFolder
        self.contentSHA256 = contentSHA256
        self.runner = runner
        self.digest = SHA256.hex(Array("multirun task identity 1\0\(name)\0\(contentSHA256)\0\(runner)".utf8))
    }

    /// `runner` for a template: `{config}` and `{output}` filled with the config's name
    /// under `{configs}` and `{results}`, which stand for wherever those folders are.
    public static func runnerText(_ template: RunnerTemplate, name: String, resultsName: String) -> String {
        template.identityText(config: "{configs}/" + name, output: "{results}/" + resultsName)
    }

    public static func == (a: ConfigIdentity, b: ConfigIdentity) -> Bool {
        a.path == b.path && a.sha256 == b.sha256 && a.resultsFolder == b.resultsFolder && a.digest == b.digest
    }

}

/// argv as one line for people: words with blanks, quotes or other shell syntax are
/// single-quoted. (Bytes: every byte of a non-ASCII character counts as safe.)
public func displayCommand(_ argv: [String]) -> String {
    argv.map { word in
        let safe = !word.isEmpty && word.utf8.allSatisfy(isSafeInDisplay)
        if safe { return word }
        // Swift's `replacing` costs microseconds a call (string processing's searcher):
        // most quoted words (`{overwrite}` in every config's identity) hold no quote.
        guard word.utf8.contains(UInt8(ascii: "'")) else { return "'" + word + "'" }
        return "'" + word.replacingAll("'", with: "'\\''") + "'"
    }.joined(separator: " ")
}

private func isSafeInDisplay(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...:
        return true
    default:
        return "-_./:=,+@%".utf8.contains(byte)
    }
}
