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

    /// Pure: the arguments after `log`.
    static func parse(_ arguments: [String]) throws(UsageError) -> Request {
        var request = Request()
        var targets: [String] = []
        var index = 0
        func value(_ flag: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(flag) needs a value; \(usage)") }
            return arguments[index]
        }
        while index < arguments.count {
            let word = arguments[index]
            switch word {
            case "-n", "--lines":
                let text = try value(word)
                guard let count = Int(text), count >= 0 else { throw UsageError("\(word) '\(text)' is not a number of lines; give 0 or more, e.g. -n 50") }
                request.lines = count
            case "-f", "--follow": request.follow = true
            case "--queue": request.queue = try value(word)
            case "--results": request.results = try value(word)
            default:
                if word.hasPrefix("-") && word.count > 1 { throw UsageError("unknown option '\(word)' for log; \(usage)") }
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
        for run in folders where FileIO.exists(runs + "/" + run + relative + ".log") {
            let path = runs + "/" + run + relative + ".log"
            Console.standardOutput.line("==> \(path) <==")
            _ = printTail(path, lines: request.lines)
            return 0
        }
        throw UsageError("no log of '\(request.target)': it is not a task id of the queue, and no one-shot run under \(runs)/ ran a config of that path; give a task id (multirun status) or a config path like configs/exp-1/exp-1-2.yaml")
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
