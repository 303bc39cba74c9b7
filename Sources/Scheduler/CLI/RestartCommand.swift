import Glibc

/// `multirun restart ID... | --failed [-w] [--queue DIR]`: queue ended tasks again.
/// Failed, timed-out, cancelled (and interrupted) tasks are restarted; a succeeded one only
/// with -w, so a completed task never runs again by accident. The journal gets one
/// `restarted` event per task (append-only: earlier attempts and their logs stay).
enum RestartCommand {
    struct Request: Equatable {
        var ids: [String] = []
        var failed = false
        var overwrite = false
        var queue: String?
    }

    static let usage = "usage: multirun restart ID... | --failed [-w] [--queue DIR]"

    static func parse(_ arguments: [String]) throws(UsageError) -> Request {
        var request = Request()
        var index = 0
        while index < arguments.count {
            let raw = arguments[index]
            var word = raw
            var inline: String?
            if raw.hasPrefix("--"), let eq = raw.firstIndex(of: "=") {
                word = String(raw[..<eq])
                inline = String(raw[raw.index(after: eq)...])
            }
            if let inline, let problem = CommandTable.switchValueProblem(flag: word, inline: inline) { throw UsageError(problem) }
            switch word {
            case "--failed": request.failed = true
            case "-w", "--overwrite": request.overwrite = true
            case "--queue":
                if let inline {
                    request.queue = inline
                } else {
                    index += 1
                    guard index < arguments.count else { throw UsageError("--queue needs a folder; \(usage)") }
                    request.queue = arguments[index]
                }
            default:
                if ArgumentCursor.looksLikeOption(word) {
                    throw UsageError(CommandTable.problem(flag: word, raw: raw, command: "restart") ?? "unknown option '\(raw)' for restart; \(usage)")
                }
                guard QueueLimits.isValidID(word), word.allSatisfy(\.isNumber) else {
                    throw UsageError("restart: '\(word)' is not a task id or option; \(usage)")
                }
                request.ids.append(word)
            }
            index += 1
        }
        guard request.failed || !request.ids.isEmpty else { throw UsageError("restart needs task ids (see multirun status) or --failed; \(usage)") }
        return request
    }

    /// Pure: which tasks to restart, or the one line that refuses the request.
    static func choose(_ request: Request, _ state: QueueState) throws(UsageError) -> [String] {
        var chosen: [String] = []
        if request.failed {
            for entry in state.entries {
                switch entry.phase {
                case .ended(.succeeded, _, _, _), .queued, .running: continue
                default: chosen.append(entry.task.id)
                }
            }
        }
        for id in request.ids where !chosen.contains(id) {
            guard let entry = state[id] else { throw UsageError("no task \(id) in queue; see multirun status for the ids") }
            switch entry.phase {
            case .queued, .running:
                throw UsageError("task \(id) is \(QueueState.name(of: entry.phase)), not ended; restart only ended tasks (cancel it first)")
            case .ended(.succeeded, _, _, _) where !request.overwrite:
                throw UsageError("task \(id) succeeded; pass -w to run it again")
            default: chosen.append(id)
            }
        }
        return chosen
    }

    static func run(_ arguments: [String]) throws(UsageError) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            Console.standardOutput.block(CommandTable.helpPage(CommandTable.subcommand("restart")!))
            return 0
        }
        let request = try parse(arguments)
        let folder = QueueFolder.resolve(request.queue)
        try folder.prepare(create: false)
        let state = try QueueCommands.fold(folder)
        let ids = try choose(request, state)
        let keys = KeyIndex(folder: folder)
        let owners = keys.load()
        var events: [QueueEvent] = []
        var newKeys: [(key: String, id: String)] = []
        var captured: [UInt8]?
        let now = Clock.wall()
        for id in ids {
            guard let entry = state[id] else { continue }
            let open = KeyIndex.openKeys(of: entry.task)
            if let taken = open.first(where: { owners[$0.key].map { $0 != id } ?? false }) {
                throw UsageError("task \(id) (\(entry.task.label)) cannot be queued again: task \(owners[taken.key]!) now holds its config or results folder; restart or cancel that one instead; nothing was restarted")
            }
            newKeys += open
            var env: String?
            if let name = entry.task.environment, EnvironmentFile.path(name, in: folder).map({ !FileIO.exists($0) }) ?? true {
                // Its submit's environment was removed once that submit's tasks all ended:
                // it starts with this shell's environment instead.
                if captured == nil { captured = EnvironmentFile.currentBytes() }
                let fresh = "env/\(id)-restart-\(entry.attempts + 1).env"
                do { try EnvironmentFile.write(captured!, as: fresh, in: folder) } catch {
                    throw UsageError("cannot write \(fresh): \(error); nothing was restarted")
                }
                env = fresh
            }
            // -w: it runs with the runner's {overwrite} filled (runone --overwrite), since
            // a runner that keeps its own record of success would skip it otherwise.
            events.append(.restarted(id: id, env: env, overwrite: request.overwrite, time: now))
        }
        guard !events.isEmpty else {
            Console.standardOutput.line("Nothing to restart: no task failed, timed out or was cancelled")
            return 0
        }
        do {
            try keys.add(newKeys)
            try Journal(folder: folder).append(events)
        } catch {
            throw QueueCommands.failure(error, "cannot write the queue journal: \(error); nothing was restarted")
        }
        for id in ids { Console.standardOutput.line("Restarted \(id) \(state[id]?.task.label ?? "")") }
        return 0
    }
}
