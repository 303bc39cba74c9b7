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

    public init(label: String, program: String, command: Command, config: ConfigIdentity?, logPath: String, source: String? = nil) {
        self.label = label
        self.program = program
        self.command = command
        self.config = config
        self.logPath = logPath
        self.source = source
    }

    /// The argv for a launch on `slot`; `gpu` is the CUDA_VISIBLE_DEVICES value (empty on the CPU).
    public func argv(gpu: String, slot: Int) -> [String] {
        switch command {
        case .words(let words):
            return words
        case .runner(let template, var values):
            values.gpu = gpu
            values.slot = slot
            return template.expand(values)
        }
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

/// A config task's identity for resume: its path, content hash and results folder.
public struct ConfigIdentity: Sendable, Equatable {
    public let path: String
    public let sha256: String
    public let resultsFolder: String

    public init(path: String, sha256: String, resultsFolder: String) {
        self.path = path
        self.sha256 = sha256
        self.resultsFolder = resultsFolder
    }
}

/// argv as one line for people: words with blanks or quotes are single-quoted.
public func displayCommand(_ argv: [String]) -> String {
    argv.map { word in
        let safe = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=,+@%".contains($0) }
        return safe ? word : "'" + word.replacing("'", with: "'\\''") + "'"
    }.joined(separator: " ")
}
