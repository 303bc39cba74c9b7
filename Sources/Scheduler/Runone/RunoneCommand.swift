import Glibc
import BrainModels

/// `runone -c FILE`: runs one config and writes its results and metadata.json.
public enum RunoneCommand {
    struct Arguments {
        var config: String?
        var output: String?
        var overwrite = false
        var help = false
        var version = false
    }

    public static func main(_ arguments: [String]) -> Int32 {
        let errors = Console.standardError
        let parsed: Arguments
        do { parsed = try parse(arguments) } catch {
            errors.line("runone: \(error.message)")
            return 2
        }
        if parsed.help {
            Console.standardOutput.block(HelpText.runone)
            return 0
        }
        if parsed.version {
            Console.standardOutput.line("runone \(MultirunCommand.version)")
            return 0
        }
        guard let configPath = parsed.config else {
            errors.line("runone: no config given; run runone -c FILE")
            return 2
        }
        let config: RunoneConfig
        let checked: ConfigSchema.Checked
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(configPath)
        } catch {
            errors.line("runone: \(error)")
            return 2
        }
        do {
            checked = try ConfigSchema.check(bytes, path: configPath, runone: true, memory: HostMemory.budget())
            guard let runone = checked.runone else { return 2 }
            config = runone
        } catch {
            errors.line("runone: \(error)")
            return 2
        }
        // The kernels' build for a whole-brain model, checked before anything is written.
        var instructionSet = InstructionSet.baseline
        if case .wholeBrain = config {
            switch CPUFeatures.instructionSet() {
            case .success(let set): instructionSet = set
            case .failure(let error):
                errors.line("runone: \(error.message)")
                return 2
            }
        }
        let output = parsed.output ?? Environment.value("MULTIRUN_OUTPUT").flatMap { $0.isEmpty ? nil : $0 }
            ?? defaultOutputFolder(for: configPath)
        var run = RunMetadata(configPath: configPath, configSHA256: checked.sha256, bases: checked.bases, contentSHA256: checked.contentSHA256,
                              identity: Environment.value("MULTIRUN_TASK_IDENTITY").flatMap { $0.isEmpty ? nil : $0 },
                              outputFolder: output, config: config)
        if !parsed.overwrite, run.previousRunSucceeded() {
            Console.standardOutput.line("runone: \(output) already holds a successful run of \(configPath) (same \(run.identity == nil ? "content" : "task identity")); pass --overwrite to run it again")
            return 0
        }
        run.removePreviousOutputs()
        do {
            try FileIO.makeDirectories(output)
            try run.write(status: "running")
        } catch {
            errors.line("runone: cannot write results to \(output): \(error)")
            return 1
        }
        // Signals are taken synchronously (sigwait/sigpending), so a TERM from multirun
        // ends the run with its metadata written.
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)

        let exit: TaskExit
        // The TERM/INT/HUP runone itself received, if any: only that makes a run interrupted.
        let stoppedBy: Int32?
        switch config {
        case .model(let parameters):
            exit = runKuramoto(parameters, output: output, run: &run)
            stoppedBy = exit.signal
        case .wholeBrain(let parameters):
            exit = runWholeBrain(parameters, configPath: configPath, output: output, instructionSet: instructionSet, run: &run)
            stoppedBy = exit.signal
        case .command(let spec):
            (exit, stoppedBy) = runCommand(spec, configPath: configPath, output: output, mask: mask)
        }
        run.exit = exit
        let status: String
        if exit.exitCode == 0 {
            status = "succeeded"
        } else if stoppedBy != nil {
            status = "interrupted"
        } else {
            // A command killed by a signal nobody sent runone (an OOM kill, a crash) was not
            // interrupted: it was killed.
            status = exit.signal != nil ? "killed" : "failed"
        }
        do { try run.write(status: status) } catch {
            errors.line("runone: cannot write metadata: \(error)")
            if exit.exitCode == 0 { return 1 }
        }
        if let signal = exit.signal {
            // Die of the same signal, so multirun records what really ended the command.
            if stoppedBy == nil { endBySignal(signal) }
            return 128 + signal
        }
        return exit.exitCode ?? 1
    }

    /// Ends runone with `signal`: default disposition, unblocked, raised (KILL and STOP
    /// cannot be caught, so they just are raised). No core file is written: the command
    /// that died may have written one, and a second of runone would only mislead.
    /// Returns only for a signal whose default action does not end a process.
    static func endBySignal(_ signal: Int32) {
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        if signal != SIGKILL && signal != SIGSTOP { _ = Glibc.signal(signal, SIG_DFL) }
        var only = sigset_t()
        sigemptyset(&only)
        sigaddset(&only, signal)
        pthread_sigmask(SIG_UNBLOCK, &only, nil)
        raise(signal)
    }

    /// The options `parse` takes (the nearest one is suggested for a typo).
    static let spellings = ["-c", "--config", "-o", "--output", "--overwrite", "-w", "-h", "--help", "-V", "--version"]

    static func parse(_ arguments: [String]) throws(UsageError) -> Arguments {
        var result = Arguments()
        var cursor = ArgumentCursor(arguments)
        while let word = cursor.next() {
            switch word {
            case "-c", "--config": result.config = try cursor.value(for: word, inline: nil, hint: "the config file to run")
            case "-o", "--output": result.output = try cursor.value(for: word, inline: nil, hint: "the results folder")
            case "--overwrite", "-w": result.overwrite = true
            case "-h", "--help": result.help = true
            case "-V", "--version": result.version = true
            default:
                let usage = "usage: runone -c FILE [--overwrite] [-o DIR]"
                if ArgumentCursor.looksLikeOption(word), let near = CommandTable.nearest(word, among: spellings) {
                    throw UsageError("unknown option '\(word)'; did you mean '\(near)'? \(usage)")
                }
                throw UsageError("unknown argument '\(word)'; \(usage)")
            }
        }
        return result
    }

    /// configs/exp-1/exp-1-2.yaml -> results/exp-1/exp-1-2 (the first `configs` folder
    /// becomes `results`, the extension goes).
    public static func defaultOutputFolder(for configPath: String) -> String {
        var parts = configPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if let last = parts.last, let dot = last.lastIndex(of: "."), dot != last.startIndex {
            parts[parts.count - 1] = String(last[..<dot])
        }
        if let index = parts.firstIndex(of: "configs") {
            parts[index] = "results"
            return parts.joined(separator: "/")
        }
        return "results/" + (parts.last ?? "run")
    }

    // MARK: - Model

    static func runKuramoto(_ parameters: KuramotoParameters, output: String, run: inout RunMetadata) -> TaskExit {
        var model = KuramotoModel(parameters)
        let neural: NPYWriter
        do {
            neural = try NPYWriter(path: output + "/neural.npy", shape: [parameters.timepoints, parameters.nodes])
        } catch {
            Console.standardError.line("runone: \(error)")
            return TaskExit(exitCode: 1)
        }
        var csv = "time_s,order_parameter\n"
        var orderSum = 0.0
        var samples = 0
        var stopSignal: Int32?
        let samplePeriod = Double(parameters.stepsPerSample) * parameters.dt
        let finished = model.run { row, order in
            neural.append(row)
            samples += 1
            orderSum += order
            csv += "\(JSON.number(Double(samples) * samplePeriod)),\(JSON.number(order))\n"
            // A pending TERM/INT/HUP is checked every 16 samples: cheap, and prompt enough.
            if samples % 16 == 0 { stopSignal = pendingStopSignal() }
            return stopSignal == nil
        }
        guard finished else {
            neural.abandon()
            return TaskExit(signal: stopSignal ?? SIGTERM)
        }
        do {
            try neural.finish()
            try FileIO.writeAtomically(output + "/order_parameter.csv", text: csv)
        } catch {
            Console.standardError.line("runone: \(error)")
            return TaskExit(exitCode: 1)
        }
        run.extra = [("edges", .int(Int64(model.edgeCount))), ("mean_order_parameter", .double(orderSum / Double(max(samples, 1))))]
        return TaskExit(exitCode: 0)
    }

    /// A stop signal that arrived while blocked, taken off the pending set.
    static func pendingStopSignal() -> Int32? {
        var pending = sigset_t()
        sigpending(&pending)
        for signal in [SIGTERM, SIGINT, SIGHUP] where sigismember(&pending, signal) == 1 {
            var only = sigset_t()
            sigemptyset(&only)
            sigaddset(&only, signal)
            var taken: Int32 = 0
            sigwait(&only, &taken)
            return signal
        }
        return nil
    }

    // MARK: - Command

    /// How the command ended, and the stop signal (TERM/INT/HUP) runone received while it
    /// ran, if any.
    static func runCommand(_ spec: RunoneConfig.CommandSpec, configPath: String, output: String,
                           mask: sigset_t) -> (exit: TaskExit, stoppedBy: Int32?) {
        let argv: [String]
        do { argv = try CommandTemplate.argv(spec, config: configPath, output: output) } catch {
            Console.standardError.line("runone: \(configPath): \(error.message)")
            return (TaskExit(exitCode: 2), nil)
        }
        guard let program = ExecutableLookup.resolve(argv[0]) else {
            Console.standardError.line("runone: \(configPath): program '\(argv[0])' not found")
            return (TaskExit(exitCode: 127), nil)
        }
        let environment = Environment.entries().filter { !$0.hasPrefix("MULTIRUN_PARAM_") }
            + spec.params.map { "MULTIRUN_PARAM_\(CommandTemplate.environmentName($0.name))=\(CommandTemplate.text(of: $0.value))" }
            + ["MULTIRUN_OUTPUT=\(output)"]
        let child: pid_t
        do {
            // Same process group as runone: multirun signals the whole group.
            let spawner = try Spawner(group: .caller)
            child = try spawner.spawn(path: program, argv: argv, environment: environment, stdout: 1, stderr: 2)
        } catch {
            Console.standardError.line("runone: \(error)")
            return (TaskExit(exitCode: 127), nil)
        }
        var waitMask = mask
        var stoppedBy: Int32?
        while true {
            var status: Int32 = 0
            let reaped = waitpid(child, &status, WNOHANG)
            // A TERM to the whole group may still be pending when the command is already gone.
            if reaped == child { return (TaskExit(waitStatus: status), stoppedBy ?? pendingStopSignal()) }
            var signal: Int32 = 0
            sigwait(&waitMask, &signal)
            // Forward stop signals in case they were sent to runone alone.
            if signal != SIGCHLD {
                stoppedBy = stoppedBy ?? signal
                kill(child, signal)
            }
        }
    }
}

/// Fills `{name}` placeholders in a config's command from its params.
public enum CommandTemplate {
    public static func argv(_ spec: RunoneConfig.CommandSpec, config: String, output: String) throws(UsageError) -> [String] {
        var values: [String: String] = ["config": config, "output": output]
        for param in spec.params { values[param.name] = text(of: param.value) }
        switch spec.form {
        case .argv(let words):
            return try words.map { word throws(UsageError) in try fill(word, values) }
        case .shell(let line):
            // Values go into the shell line quoted for where each placeholder sits, so each
            // is literal text whatever it holds; one simple command replaces the shell.
            return CommandLineWords.shellArgv(try ShellLineTemplate.fill(line, values))
        }
    }

    static func fill(_ word: String, _ values: [String: String]) throws(UsageError) -> String {
        var result = ""
        var rest = Substring(word)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { result += rest[open...]; return result }
            let name = String(after[..<close])
            if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                result += rest[open...close]
            } else if let value = values[name] {
                result += value
            } else {
                throw UsageError("placeholder {\(name)} in command has no value; add '\(name):' under params (known: \(values.keys.sorted().joined(separator: ", ")))")
            }
            rest = after[after.index(after: close)...]
        }
        return result + rest
    }

    /// A param's text in a command or an environment variable: a scalar as `scalarText`,
    /// a list or mapping as JSON with non-finite numbers as Python writes them.
    static func text(of value: ConfigValue) -> String {
        if let text = value.scalarText { return text }
        var writer = JSONWriter()
        writer.writesNonFiniteAsPython = true
        writer.value(value.json)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func environmentName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}

/// metadata.json of a runone run, rewritten atomically at start and end.
struct RunMetadata {
    let configPath: String
    /// SHA-256 of the file's bytes; of the chain's, when it extends bases (`LoadedConfig.sha256`).
    let configSHA256: String
    /// The bases the config extends, nearest first: written as `extends` when there are any.
    let bases: [String]
    /// `ConfigSchema.contentHash` of the config: what a standalone runone compares.
    let contentSHA256: String
    /// The task identity multirun handed over (`MULTIRUN_TASK_IDENTITY`): what runone
    /// compares under multirun, so the two never disagree on what is done.
    let identity: String?
    let outputFolder: String
    let config: RunoneConfig
    let startWall = Clock.wall()
    let startMonotonic = Clock.monotonic()
    var exit: TaskExit?
    var extra: [(String, JSON)] = []

    var path: String { outputFolder + "/metadata.json" }

    /// Removes the arrays the previous run in this folder listed as its `outputs` (plain
    /// file names, never a path), so a rerun of edited content — another `timepoints`, BOLD
    /// turned off — leaves no stale `sim_*` file from the old content beside the new ones.
    func removePreviousOutputs() {
        guard let bytes = try? FileIO.read(path),
              let value = try? ConfigParser.parse(String(decoding: bytes, as: UTF8.self), dialect: .json, source: path),
              case .list(let outputs)? = value["outputs"]
        else { return }
        for case .string(let name) in outputs where !name.isEmpty && !name.contains("/") && name != "." && name != ".." && name != "metadata.json" {
            unlink(outputFolder + "/" + name)
        }
    }

    func previousRunSucceeded() -> Bool {
        guard let bytes = try? FileIO.read(path),
              let value = try? ConfigParser.parse(String(decoding: bytes, as: UTF8.self), dialect: .json, source: path)
        else { return false }
        // The content it ran is compared too: the identity multirun hands over was made
        // when it planned, and the file may have been edited before this run read it.
        guard value["status"] == .string("succeeded"), value["content_sha256"] == .string(contentSHA256) else { return false }
        return identity.map { value["identity"] == .string($0) } ?? true
    }

    func write(status: String) throws(SystemError) {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let ended = status != "running"
        let now = Clock.wall()
        let body = JSON.object([
            ("config", .string(configPath)),
            ("config_sha256", .string(configSHA256)),
            ("content_sha256", .string(contentSHA256)),
        ] + (bases.isEmpty ? [] : [("extends", JSON.array(bases.map { .string($0) }))]) + [
            ("identity", .optional(identity)),
            ("kind", .string({
                switch config {
                case .model: return "kuramoto"
                case .wholeBrain(let p): return p.name.rawValue
                case .command: return "command"
                }
            }())),
            ("host", .string(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))),
            ("start", .string(Clock.iso8601(startWall))),
            ("end", ended ? .string(Clock.iso8601(now)) : .null),
            ("duration_s", ended ? .double(Double(Clock.monotonic() - startMonotonic) / 1e9) : .null),
            ("cuda_visible_devices", .optional(Environment.value("CUDA_VISIBLE_DEVICES"))),
            ("status", .string(status)),
            ("exit_code", .optional(exit?.exitCode)),
            ("signal", .optional(exit?.signal)),
        ] + extra)
        try FileIO.writeAtomically(path, body.bytes(pretty: true, newline: true))
    }
}
