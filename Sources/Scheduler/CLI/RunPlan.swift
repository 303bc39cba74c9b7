/// The tasks of one run, decided before anything starts: selection, resume skips, argv,
/// log paths. Every problem found here is a usage error, so a bad input starts nothing.
struct RunPlan {
    var tasks: [TaskSpec] = []
    var skipped: [TaskRecord] = []
    /// Lines to show before the run (skips, changed configs).
    var notes: [String] = []
    /// What the confirmation question names: `runone`, or the runner's program.
    var runnerName = "runone"

    /// `placement`: the run's devices; nil for `submit`, whose tasks the daemon places.
    static func make(_ options: Options, placement: Placement?, runFolder: String) throws(UsageError) -> RunPlan {
        if options.resultsDir.isEmpty {
            throw UsageError("--results: the folder name is empty; give a folder, e.g. --results results")
        }
        // Nothing has started yet: a TERM, INT or HUP ends the process at once (128+N), even
        // in the middle of a 10 MB config, instead of waiting in the blocked set.
        return try SignalChannel.withStopSignalsDeliverable {
            Result { () throws(UsageError) in try plan(options, placement: placement, runFolder: runFolder) }
        }.get()
    }

    private static func plan(_ options: Options, placement: Placement?, runFolder: String) throws(UsageError) -> RunPlan {
        if let file = options.commandsFile {
            return try commands(from: file, demand: placement?.demand(TaskResources(), config: file) ?? .gpu(), runFolder: runFolder)
        }
        return try configs(options, placement: placement, runFolder: runFolder)
    }

    // MARK: - Configs

    private static func configs(_ options: Options, placement: Placement?, runFolder: String) throws(UsageError) -> RunPlan {
        let selection = try ConfigSelector.select(root: options.configsRoot, pattern: options.configRegex ?? "")
        let template = try RunnerTemplate(options.runner ?? RunnerTemplate.defaultText)
        let defaultTemplate = try RunnerTemplate(RunnerTemplate.defaultText)
        let isDefault = options.runner == nil
        let program = try resolveRunner(template.words[0], isDefault: isDefault)
        var plan = RunPlan()
        plan.runnerName = template.words[0]
        plan.notes = selection.skipped.map { "Warning: \($0)" }
        var launcher: (program: String, words: [String])?
        // Every selected config is read and checked before anything starts; all problems
        // are reported together, one line each.
        let folders = selection.paths.map { ConfigSelector.resultsFolder(for: $0, root: selection.root, results: options.resultsDir) }
        var problems = collisions(Array(zip(folders, selection.paths)))
        // results/runs/ holds the run folders: no config's results may go there.
        let runs = ConfigSelector.normalized(options.resultsDir) + "/runs"
        for (folder, path) in zip(folders, selection.paths) where folder == runs || folder.hasPrefix(runs + "/") {
            problems.append("config \(path) would write its results into \(runs)/, where multirun keeps its run folders; rename it or its folder")
        }
        // runone's built-in models are refused here when they would not fit in memory.
        let memory = isDefault ? HostMemory.budget() : nil
        // Bases that -c selected as tasks too, and that failed the checks, are told so.
        var extenders: [(config: String, bases: [String])] = []
        var refused: [(path: String, problem: Int)] = []
        // Per planned task: its priority, its `after:` names and where they were written.
        var ordering: [(priority: Int, after: [String], place: String)] = []
        for (path, folder) in zip(selection.paths, folders) {
            let bytes: [UInt8]
            do { bytes = try FileIO.read(path) } catch {
                problems.append("cannot read config \(path): \(error)")
                continue
            }
            let checked: ConfigSchema.Checked
            do throws(ConfigProblem) {
                let loaded = try ConfigLoader.load(bytes: bytes, path: path)
                if !loaded.bases.isEmpty { extenders.append((path, loaded.bases)) }
                do { checked = try ConfigSchema.check(loaded, runone: isDefault, memory: memory) } catch {
                    refused.append((path, problems.count))
                    throw error
                }
            } catch {
                problems.append(error.message)
                continue
            }
            let name = ConfigSelector.relativeName(path, root: selection.root)
            let resultsName = ConfigSelector.resultsFolder(for: path, root: selection.root, results: "")
            let identity = ConfigIdentity(path: path, name: name, sha256: checked.sha256, resultsFolder: folder, contentSHA256: checked.contentSHA256,
                                          runner: ConfigIdentity.runnerText(template, name: name, resultsName: String(resultsName.dropFirst())))
            let values = RunnerTemplate.Values(config: path, output: folder, gpu: "", slot: 0, overwrite: options.overwrite)
            // A results folder that is not there holds no marker, attempt record or results
            // of its own: one access(2) instead of five calls that fail, per config (a study
            // of 10,000 subjects plans in well under a second).
            let folderExists = FileIO.exists(folder)
            if !options.overwrite && folderExists {
                switch CompletionMarker.check(identity, defaultRunner: ConfigIdentity.runnerText(defaultTemplate, name: name, resultsName: String(resultsName.dropFirst())),
                                              bases: checked.bases) {
                case .completed:
                    plan.skipped.append(TaskRecord(number: 0, config: path, command: displayCommand(template.expand(values)), status: .skipped))
                    plan.notes.append("Skip \(path): it completed in an earlier run (\(CompletionMarker.path(in: folder))); pass -w to run it again")
                    continue
                case .changed where AttemptRecord.finishedUnrecorded(folder, identity: identity.digest)
                                     && CompletionMarker.stillDescribes(identity, file: path),
                     .absent where AttemptRecord.finishedUnrecorded(folder, identity: identity.digest)
                                     && CompletionMarker.stillDescribes(identity, file: path):
                    // Its run was killed after the task succeeded, before it wrote the marker.
                    var done = TaskRecord(number: 0, config: path, command: displayCommand(template.expand(values)), status: .skipped)
                    done.exit = TaskExit(exitCode: 0)
                    if !options.dryRun { try? CompletionMarker.write(identity, record: done, runID: "recovered") }
                    plan.skipped.append(done)
                    plan.notes.append("Skip \(path): it completed in an earlier run that was stopped before it could record that (\(AttemptRecord.path(in: folder))); pass -w to run it again")
                    continue
                case .changed(let why):
                    plan.notes.append("Run \(path) again: \(why)")
                case .absent:
                    if AttemptRecord.holdsForeignResults(folder) {
                        problems.append("config \(path): its results folder \(folder)/ already holds files that no multirun run made (no \(CompletionMarker.fileName)); pass -w to overwrite them, or move the folder away")
                        continue
                    }
                }
            }
            if folderExists, let holder = AttemptRecord.holder(folder) {
                // Its task is running right now (a killed run's, another run's, the daemon's).
                var record = TaskRecord(number: 0, config: path, command: displayCommand(template.expand(values)), status: .notStarted)
                record.error = "still running from an earlier or another run (\(holder.description))"
                plan.skipped.append(record)
                plan.notes.append("Leave out \(path): it is still running from an earlier or another run (\(holder.description)); it is not started again beside itself")
                continue
            }
            if folderExists && !FileIO.isDirectory(folder) {
                problems.append("config \(path): its results folder \(folder) is a file; move it away, or rename the config")
                continue
            }
            do throws(UsageError) {
                // A submitted task's demand is decided by the daemon, for its own devices.
                let demand: Demand
                do { demand = try placement?.demand(checked.resources, config: path) ?? .gpu() } catch {
                    let place = checked.document.place(of: "resources")
                    throw UsageError("\(place.location): \(error.message)\(place.inBase ? " (in \(path), which extends this base)" : "")")
                }
                var mpi: (program: String, words: [String])?
                if let np = checked.resources.mpiProcesses {
                    if launcher == nil { launcher = try resolveLauncher(options.mpiLauncher, config: path) }
                    if let launcher { mpi = (launcher.program, launcher.words + ["-np", String(np)]) }
                }
                // logs/ mirrors the config's path; an absolute --configs root adds no second slash.
                let log = runFolder + (path.utf8.first == UInt8(ascii: "/") ? "/logs" : "/logs/") + path + ".log"
                plan.tasks.append(TaskSpec(label: path, program: program, command: .runner(template, values), config: identity, logPath: log,
                                           demand: demand, launcher: mpi, resources: checked.resources))
                ordering.append((checked.priority, checked.after, checked.document.place(of: "after").location))
            } catch {
                problems.append(error.message)
            }
        }
        if !refused.isEmpty && !extenders.isEmpty {
            for (path, problem) in refused {
                if let note = selectedBaseNote(path, extenders: extenders) { problems[problem] += note }
            }
        }
        if !problems.isEmpty { throw UsageError(problems: problems) }
        // Whether a config -c did not select completed with its content as it is now, under
        // this runner: a prerequisite edited since is not complete.
        let completedAsIs = { (path: String) -> Bool in
            guard let bytes = try? FileIO.read(path), let loaded = try? ConfigLoader.load(bytes: bytes, path: path),
                  let checked = try? ConfigSchema.check(loaded, runone: isDefault, memory: nil) else { return false }
            let name = ConfigSelector.relativeName(path, root: selection.root)
            let resultsName = String(ConfigSelector.resultsFolder(for: path, root: selection.root, results: "").dropFirst())
            let identity = ConfigIdentity(path: path, name: name, sha256: checked.sha256,
                                          resultsFolder: ConfigSelector.resultsFolder(for: path, root: selection.root, results: options.resultsDir),
                                          contentSHA256: checked.contentSHA256,
                                          runner: ConfigIdentity.runnerText(template, name: name, resultsName: resultsName))
            return CompletionMarker.check(identity, defaultRunner: ConfigIdentity.runnerText(defaultTemplate, name: name, resultsName: resultsName),
                                          bases: checked.bases) == .completed
        }
        try order(&plan, ordering, root: selection.root, results: options.resultsDir, submitting: placement == nil, completedAsIs: completedAsIs)
        // Skipped rows are numbered after the tasks that run, so task numbers match MULTIRUN_TASK.
        for index in plan.skipped.indices { plan.skipped[index].number = plan.tasks.count + index + 1 }
        return plan
    }

    /// Puts the tasks in priority order (higher first, ties in path order) and resolves
    /// each `after:` name to a task of this run, or to a config that already completed.
    /// A name that matches nothing, configs in two folders, or a config that is neither
    /// selected nor complete, and a cycle, are refused before anything starts; a submit
    /// (`submitting`) leaves the last kind to `Submitter`, which may find it queued.
    private static func order(_ plan: inout RunPlan, _ ordering: [(priority: Int, after: [String], place: String)],
                              root: String, results: String, submitting: Bool, completedAsIs: (String) -> Bool) throws(UsageError) {
        guard ordering.contains(where: { $0.priority != 0 || !$0.after.isEmpty }) else { return }
        var after = Array(repeating: [Int](), count: plan.tasks.count)
        var elsewhere = Array(repeating: [(config: String, resultsFolder: String)](), count: plan.tasks.count)
        var problems: [String] = []
        if ordering.contains(where: { !$0.after.isEmpty }) {
            let all = (try? ConfigSelector.select(root: root, pattern: "").paths) ?? []
            var taskOf: [String: Int] = [:]
            for (index, task) in plan.tasks.enumerated() { taskOf[task.label] = index }
            let completed = Set(plan.skipped.filter { $0.status == .skipped }.compactMap(\.config))
            let runningElsewhere = Dictionary(plan.skipped.filter { $0.status == .notStarted }.compactMap { record in record.config.map { ($0, record.error ?? "") } }) { a, _ in a }
            for (index, entry) in ordering.enumerated() {
                for name in entry.after {
                    let matches = all.filter { afterName(name, matches: $0, root: root) }
                    guard let match = matches.first else {
                        problems.append("\(entry.place): after: '\(name)' names no config under \(root)/; give a config's path or file name without extension")
                        continue
                    }
                    if matches.count > 1 {
                        problems.append("\(entry.place): after: '\(name)' matches \(matches.count) configs (\(matches.joined(separator: ", "))); write the one you mean as its path")
                        continue
                    }
                    if let task = taskOf[match] {
                        if !after[index].contains(task) { after[index].append(task) }
                    } else if let why = runningElsewhere[match] {
                        problems.append("\(entry.place): after: '\(name)' is \(match), which is \(why); wait for it to end, then run again")
                    } else if !completed.contains(match) && !completedAsIs(match) {
                        if submitting {
                            elsewhere[index].append((match, ConfigSelector.resultsFolder(for: match, root: root, results: results)))
                            continue
                        }
                        problems.append("\(entry.place): after: '\(name)' is \(match), which -c did not select and which has not completed; add it to -c, or run it first")
                    }
                }
            }
            if problems.isEmpty, let cycle = DependencyGraph.cycle(after) {
                let names = cycle.map { plan.tasks[$0].label }
                problems.append("after: forms a cycle: \(names.joined(separator: " runs after ")); remove one of these after: entries")
            }
        }
        if !problems.isEmpty { throw UsageError(problems: problems) }
        let order = DependencyGraph.byPriority(ordering.map(\.priority))
        var position = Array(repeating: 0, count: order.count)
        for (new, old) in order.enumerated() { position[old] = new }
        plan.tasks = order.map { old in
            var task = plan.tasks[old]
            task.after = after[old].map { position[$0] }
            task.afterElsewhere = elsewhere[old]
            task.priority = ordering[old].priority
            return task
        }
    }

    /// Whether an `after:` name means the config at `path`: its path as selected, its name
    /// below the configs folder, either without the extension, or its file's stem.
    static func afterName(_ name: String, matches path: String, root: String) -> Bool {
        func stem(_ text: Substring) -> Substring {
            guard let dot = text.lastIndex(of: "."), !text[dot...].contains("/") else { return text }
            return text[..<dot]
        }
        let relative = Substring(ConfigSelector.relativeName(path, root: root))
        let file = relative.lastIndex(of: "/").map { relative[relative.index(after: $0)...] } ?? relative
        let given = Substring(name.hasPrefix("./") ? String(name.dropFirst(2)) : name)
        return given == Substring(path) || given == stem(Substring(path)) || given == relative || given == stem(relative)
            || (!given.contains("/") && given == stem(file))
    }

    /// For a selected config that failed the schema and that another selected config
    /// extends: why it was checked at all (-c selected it as a task of its own), and how to
    /// keep a base from being one. nil when no config extends it.
    static func selectedBaseNote(_ path: String, extenders: [(config: String, bases: [String])]) -> String? {
        guard let file = ConfigLoader.fileKey(path),
              let extender = extenders.first(where: { $0.bases.contains { ConfigLoader.fileKey($0) == file } }) else { return nil }
        var name = Substring(path)
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        let dot = name.lastIndex(of: ".") ?? name.endIndex
        let renamed = name[..<dot] + "-base" + name[dot...]
        return "; it is a base of \(extender.config), and -c selected it as a task of its own too: rename it \(renamed) (files named *-base or *_base are never tasks), or narrow -c"
    }

    /// Configs whose results would land in one folder (`lr.yaml`, `lr.json`): one line per
    /// pair. Sorted by folder, so equal folders are neighbours whatever the configs' order.
    static func collisions(_ configs: [(folder: String, path: String)]) -> [String] {
        let sorted = configs.sorted { ConfigSelector.bytesPrecede($0.folder, $1.folder) }
        var lines: [String] = []
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.folder == b.folder {
            lines.append("configs \(a.path) and \(b.path) would both write their results to \(a.folder)/; rename one of them, or select only one with -c")
        }
        return lines
    }

    /// The default runner is the runone built beside multirun; anything else is looked up
    /// like a shell would (a path as is, a bare name on PATH).
    private static func resolveRunner(_ name: String, isDefault: Bool) throws(UsageError) -> String {
        if isDefault, let folder = ExecutableLookup.ownDirectory(),
           ExecutableLookup.isExecutableFile(folder + "/runone") {
            return folder + "/runone"
        }
        if let path = ExecutableLookup.resolve(name) { return path }
        if name.contains("/") {
            throw UsageError("runner '\(name)' is not an executable file; check the path, or chmod +x it")
        }
        throw UsageError("runner '\(name)' was not found on PATH; install it, give its path, or pass --runner 'CMD'")
    }

    /// The MPI launcher's words and program, looked up once, when a config first asks for it.
    private static func resolveLauncher(_ text: String, config: String) throws(UsageError) -> (program: String, words: [String]) {
        let words: [String]
        do { words = try CommandLineWords.split(text) } catch {
            throw UsageError("--mpi-launcher '\(text)': \(error.message)")
        }
        guard let name = words.first else { throw UsageError("--mpi-launcher is empty; give the launcher, e.g. --mpi-launcher mpiexec") }
        guard let program = ExecutableLookup.resolve(name) else {
            throw UsageError("config \(config): resources.mpi needs the MPI launcher '\(name)', which is not \(name.contains("/") ? "an executable file" : "on PATH"); install OpenMPI (apt-get install openmpi-bin) or pass --mpi-launcher CMD")
        }
        return (program, words)
    }

    // MARK: - Commands

    private static func commands(from file: String, demand: Demand, runFolder: String) throws(UsageError) -> RunPlan {
        let raw: [UInt8]
        do {
            raw = try FileIO.read(file == "-" ? "/dev/stdin" : file)
        } catch {
            throw UsageError("cannot read --commands \(file): \(error)")
        }
        return try commands(raw, file: file, demand: demand, runFolder: runFolder)
    }

    /// The tasks of a commands file's bytes (`file` names it in messages). A NUL byte,
    /// invalid UTF-8 or a control character is refused with `file:line:col`: an argv
    /// cannot hold NUL, and a command rewritten by decoding is not the one written.
    static func commands(_ raw: [UInt8], file: String, demand: Demand, runFolder: String) throws(UsageError) -> RunPlan {
        let bytes: [UInt8]
        do {
            bytes = try ConfigEncoding.utf8(raw, dialect: .json, source: "--commands \(file)", lineBreaks: false)
        } catch {
            throw UsageError("\(error)")
        }
        var plan = RunPlan()
        plan.runnerName = "these commands"
        var programs: [String: String] = [:]
        // Lines are scanned as bytes, in place: the time to read 100,000 lines is time
        // before the first task starts.
        let lineCount = bytes.reduce(into: 1) { count, byte in if byte == UInt8(ascii: "\n") { count += 1 } }
        let width = String(lineCount).utf8.count
        let logPrefix = Array("\(runFolder)/logs/task-".utf8)
        let sourcePrefix = Array("\(file):".utf8)
        plan.tasks.reserveCapacity(lineCount)
        // One buffer each for the log path and FILE:LINE, reused line after line.
        var log = logPrefix
        var source = sourcePrefix
        var number = 0
        var lineStart = 0
        var lineIndex = 0
        var lastProgram: (name: String, path: String)?
        while lineStart <= bytes.count {
            let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var lineEnd = newline
            if lineEnd > lineStart && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer {
                lineStart = newline + 1
                lineIndex += 1
            }
            let line = bytes[lineStart..<lineEnd]
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            number += 1
            if line.count > maxLineBytes {
                throw UsageError("--commands \(file) line \(lineIndex + 1) is \(line.count) bytes long, more than a command line may be (\(maxLineBytes) bytes, within Linux's ARG_MAX); put the long part in a file")
            }
            var (text, words, underShell) = try Self.words(of: line)
            if let long = words.first(where: { $0.utf8.count >= maxArgumentBytes }) {
                throw UsageError("--commands \(file) line \(lineIndex + 1) has an argument of \(long.utf8.count) bytes; Linux passes at most \(maxArgumentBytes - 1) bytes in one (MAX_ARG_STRLEN), so it cannot run; put the long part in a file")
            }
            if words.count == 3, words[0] == "/bin/sh", let problem = Self.shellSyntaxProblem(text) {
                throw UsageError("--commands \(file) line \(lineIndex + 1): /bin/sh cannot read it (\(problem)); fix its quoting")
            }
            let program: String
            if let lastProgram, lastProgram.name == words[0] {
                program = lastProgram.path
            } else if let known = programs[words[0]] {
                program = known
            } else if let found = ExecutableLookup.resolve(words[0]) {
                program = found
            } else if CommandLineWords.shellOnlyWords.contains(words[0]) {
                // `exec sleep 9`, `cd /data`, `:`: builtins only a shell runs.
                words = CommandLineWords.shellArgv(text)
                underShell = words[2].utf8.count == text.utf8.count
                program = "/bin/sh"
            } else {
                throw UsageError("--commands \(file) line \(lineIndex + 1): program '\(words[0])' not found\(words[0].contains("/") ? "" : " on PATH"); fix the line or install it")
            }
            if let lastProgram, lastProgram.name != words[0] {
                // Most files run one program: the dictionary (whose first insert costs the
                // runtime a scan of every conformance) only keeps those the file moved away from.
                programs[lastProgram.name] = lastProgram.path
            }
            lastProgram = (words[0], program)
            log.removeSubrange(logPrefix.count...)
            DecimalText.append(Int64(number), width: width, to: &log)
            log += ".log".utf8
            source.removeSubrange(sourcePrefix.count...)
            DecimalText.append(Int64(lineIndex + 1), to: &source)
            plan.tasks.append(TaskSpec(label: text, program: program, command: .words(words), config: nil,
                                       logPath: String(decoding: log, as: UTF8.self), source: String(decoding: source, as: UTF8.self),
                                       demand: demand, underShell: underShell))
        }
        if plan.tasks.isEmpty {
            throw UsageError("--commands \(file) has no commands (every line is empty)")
        }
        return plan
    }

    /// MAX_ARG_STRLEN (32 pages of 4 KiB), which counts an argument's terminating NUL: a
    /// shell line is one argument of `sh -c`.
    static let maxArgumentBytes = 131_072
    /// A whole line: a quarter of the 8 MiB stack's ARG_MAX, leaving room for the environment.
    static let maxLineBytes = 1_048_576

    /// What /bin/sh says of a line whose quotes look unclosed (`sh -n`: read, not run);
    /// nil when the quotes are balanced or the shell reads it. Only such lines cost a
    /// process: a scan finds them.
    static func shellSyntaxProblem(_ line: String) -> String? {
        guard CommandLineWords.hasUnclosedQuote(line),
              let checked = try? ProcessCapture.run("/bin/sh", ["-n", "-c", line], timeout: 5), checked.exit.exitCode != 0 else { return nil }
        let said = checked.stderr.split(separator: "\n").first.map(String.init) ?? "exit code \(checked.exit.exitCode ?? -1)"
        return (said.hasPrefix("/bin/sh: ") ? String(said.dropFirst(9)) : said).excerpt
    }

    /// A commands line as text, and its argv: split, or `/bin/sh -c LINE` when only a
    /// shell can run it (`exec LINE` for one simple command, so the program replaces the
    /// shell). `underShell`: the shell stays, and reports a command killed by signal N as
    /// exit code 128+N.
    private static func words(of line: ArraySlice<UInt8>) throws(UsageError) -> (text: String, words: [String], underShell: Bool) {
        let text = String(decoding: line, as: UTF8.self)
        if CommandLineWords.needsShell(text) {
            let argv = CommandLineWords.shellArgv(text)
            return (text, argv, argv[2].utf8.count == text.utf8.count)
        }
        return (text, try CommandLineWords.split(text), false)
    }
}
