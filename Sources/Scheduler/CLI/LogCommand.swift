import Glibc

/// `multirun log ID [-n N] [-f]`: the last lines of a queued task's log (its latest
/// attempt), following it with -f until the task ends; `multirun log CONFIG`: the log of
/// the last one-shot run of that config (`results/runs/<newest run>/logs/CONFIG.log`).
enum LogCommand {
    struct Request: Equatable {
        var target = ""
        var lines = 10
        var follow = false
        var queue: String?
        var results = "results"
    }

    static let usage = "usage: multirun log ID|CONFIG [-n N] [-f] [--queue DIR] [--results DIR]"

    /// Pure: the arguments after `log`. Options take `--name=value` as the run's do; an
    /// unknown one gets the nearest spelling from `CommandTable`.
    static func parse(_ arguments: [String]) throws(UsageError) -> Request {
        var request = Request()
        var targets: [String] = []
        var index = 0
        while index < arguments.count {
            let raw = arguments[index]
            var word = raw
            var inline: String?
            if raw.hasPrefix("--"), let eq = raw.firstIndex(of: "=") {
                word = String(raw[..<eq])
                inline = String(raw[raw.index(after: eq)...])
            }
            func value() throws(UsageError) -> String {
                if let inline { return inline }
                index += 1
                guard index < arguments.count else { throw UsageError("\(word) needs a value; \(usage)") }
                return arguments[index]
            }
            if let inline, let problem = CommandTable.switchValueProblem(flag: word, inline: inline) { throw UsageError(problem) }
            switch word {
            case "-n", "--lines":
                let text = try value()
                guard let count = Int(text), count >= 0 else { throw UsageError("\(word) '\(text)' is not a number of lines; give 0 or more, e.g. -n 50") }
                request.lines = count
            case "-f", "--follow": request.follow = true
            case "--queue": request.queue = try value()
            case "--results": request.results = try value()
            default:
                if word.hasPrefix("-") && word.count > 1 {
                    throw UsageError(CommandTable.problem(flag: word, raw: raw, command: "log") ?? "unknown option '\(raw)' for log; \(usage)")
                }
                targets.append(word)
            }
            index += 1
        }
        guard targets.count == 1 else {
            throw UsageError("log needs one task id (see multirun status) or one config path; \(usage)")
        }
        request.target = targets[0]
        return request
    }

    static func run(_ arguments: [String]) throws(UsageError) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            Console.standardOutput.block(CommandTable.helpPage(CommandTable.subcommand("log")!))
            return 0
        }
        let request = try parse(arguments)
        if QueueLimits.isValidID(request.target) && request.target.allSatisfy(\.isNumber) {
            return try queued(request)
        }
        return try oneShot(request)
    }

    private static func queued(_ request: Request) throws(UsageError) -> Int32 {
        let folder = QueueFolder.resolve(request.queue)
        try folder.prepare(create: false)
        var state = try QueueCommands.fold(folder, light: true)
        guard var entry = state[request.target] else { throw UsageError("no task \(request.target) in queue \(folder.name); see multirun status for the ids") }
        let out = Console.standardOutput
        if entry.attempts == 0 && !entry.phase.isOpen {
            // Ended without an attempt (dependency_failed, cancelled while queued): no log
            // will ever come, so -f has nothing to wait for either.
            Console.standardError.line("multirun: task \(entry.task.id) (\(entry.task.label)) ended as \(QueueState.name(of: entry.phase)) without starting, so it has no log")
            return 1
        }
        if entry.attempts == 0 && !request.follow {
            out.line("Task \(entry.task.id) (\(entry.task.label)) has not started yet, so it has no log; pass -f to wait for it")
            return entry.phase.isOpen ? 0 : 1
        }
        // Wait (with -f) for the first attempt.
        while entry.attempts == 0 {
            guard entry.phase.isOpen else {
                out.line("Task \(entry.task.id) (\(entry.task.label)) ended without starting (\(QueueState.name(of: entry.phase)))")
                return 1
            }
            usleep(200_000)
            state = try QueueCommands.fold(folder, light: true)
            entry = state[request.target] ?? entry
        }
        var attempt = entry.attempts
        var path = folder.log(entry.task.id, attempt)
        if !FileIO.exists(path) && !request.follow { throw UsageError("the log \(path) of task \(entry.task.id) is gone") }
        var offset = printTail(path, lines: request.lines)
        guard request.follow else { return 0 }
        while true {
            offset = copyNew(path, from: offset)
            state = try QueueCommands.fold(folder, light: true)
            guard let now = state[request.target] else { return 0 }
            if now.attempts > attempt {
                // A new attempt (restarted, or queued again after an interruption): follow its log.
                attempt = now.attempts
                path = folder.log(now.task.id, attempt)
                offset = 0
                continue
            }
            if !now.phase.isOpen {
                _ = copyNew(path, from: offset)
                return 0
            }
            usleep(200_000)
        }
    }

    private static func oneShot(_ request: Request) throws(UsageError) -> Int32 {
        var config = request.target
        while config.hasPrefix("./") { config.removeFirst(2) }
        let runs = ConfigSelector.normalized(request.results) + "/runs"
        let folders = (FileIO.names(in: runs) ?? []).sorted { ConfigSelector.bytesPrecede($1, $0) }
        let relative = config.utf8.first == UInt8(ascii: "/") ? "/logs" + config : "/logs/" + config
        guard let run = folders.first(where: { FileIO.exists(runs + "/" + $0 + relative + ".log") }) else {
            throw UsageError("no log of '\(request.target)': it is not a task id of the queue, and no one-shot run under \(runs)/ ran a config of that path; give a task id (multirun status) or a config path like configs/exp-1/exp-1-2.yaml")
        }
        let first = runs + "/" + run + relative + ".log"
        var path = newestAttempt(of: first, from: 1).path
        Console.standardOutput.line("==> \(path) <==")
        var offset = printTail(path, lines: request.lines)
        guard request.follow else { return 0 }
        // The task runs while its results folder's attempt record is locked (the run's
        // reaper holds it until the task's processes are gone).
        let folder = resultsFolder(of: config, results: request.results)
        var attempt = newestAttempt(of: first, from: 1).attempt
        while true {
            offset = copyNew(path, from: offset)
            let newer = newestAttempt(of: first, from: attempt)
            if newer.attempt > attempt {
                // A retry: follow its log from the start.
                _ = copyNew(path, from: offset)
                (attempt, path, offset) = (newer.attempt, newer.path, 0)
                Console.standardOutput.line("==> \(path) <==")
                continue
            }
            guard let folder, AttemptRecord.holder(folder) != nil else {
                _ = copyNew(path, from: offset)
                return 0
            }
            usleep(200_000)
        }
    }

    /// The log of the newest attempt whose file exists (`TaskRunner.logPath`): the first
    /// attempt's is `first`, attempt K's is `NAME.attempt-K.log` beside it.
    static func newestAttempt(of first: String, from attempt: Int) -> (attempt: Int, path: String) {
        let base = first.hasSuffix(".log") ? String(first.dropLast(4)) : first
        var newest = (attempt: max(attempt, 1), path: attempt > 1 ? "\(base).attempt-\(attempt).log" : first)
        // Attempts are numbered without gaps; --retries is at most `OptionsParser.maxRetries`.
        var next = newest.attempt + 1
        while next <= OptionsParser.maxRetries + 1, FileIO.exists("\(base).attempt-\(next).log") {
            newest = (next, "\(base).attempt-\(next).log")
            next += 1
        }
        return newest
    }

    /// The results folder of `config` as a one-shot run named it: `results/<path below the
    /// configs root, without extension>`. The root is not in the log's path, so each
    /// leading folder is tried; the one whose attempt record names this config is it.
    static func resultsFolder(of config: String, results: String) -> String? {
        let roots = [""] + config.indices.filter { $0 > config.startIndex && config[$0] == "/" }.map { String(config[..<$0]) }
        for root in roots.reversed() {
            let folder = ConfigSelector.resultsFolder(for: config, root: root, results: results)
            guard let bytes = try? FileIO.read(AttemptRecord.path(in: folder)),
                  let record = try? ConfigParser.parse(bytes: bytes, dialect: .json, source: AttemptRecord.fileName) else { continue }
            if let named = record["config"]?.string, named == config || named.hasSuffix("/" + config) || config.hasSuffix("/" + named) { return folder }
        }
        return nil
    }

    /// Prints the last `lines` lines of the file; returns its size (where -f goes on).
    private static func printTail(_ path: String, lines: Int) -> Int {
        let size = Int(FileIO.size(path))
        if lines > 0 { for line in QueueCommands.lastLines(path, count: lines, window: 1 << 20, width: 4096) { Console.standardOutput.line(line) } }
        return size
    }

    /// Writes what the file gained since `offset` to stdout; returns the new offset.
    private static func copyNew(_ path: String, from offset: Int) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return offset }
        defer { close(fd) }
        var position = offset
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            if count <= 0 { break }
            _ = buffer.withUnsafeBytes { write(1, $0.baseAddress, count) }
            position += count
        }
        return position
    }
}
