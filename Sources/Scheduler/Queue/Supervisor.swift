import Glibc

/// `multirun __supervise EXIT LOG CWD -- ARGV...`: runs one attempt of a queued task and
/// records how it ended, whether or not a scheduler is alive to see it.
///
/// The scheduler starts it in a new session and hands it the attempt's run lock as
/// descriptor 3; holding that lock is how a restarted scheduler knows the attempt still
/// runs. The task runs under `TaskReaper.run`: in a process group of its own, TERM relayed
/// to it, `TaskReaper.killNow` for the KILL, and every process it started (those that
/// left its group too) killed when it ends. Then the exit record is written atomically.
public enum Supervisor {
    public static let command = "__supervise"

    public static func main(_ arguments: [String]) -> Int32 {
        guard arguments.count >= 5, arguments[3] == "--" else {
            Console.standardError.line("multirun \(command): internal command, started by the scheduler")
            return 2
        }
        let exitRecord = arguments[0]
        let logPath = arguments[1]
        let cwd = arguments[2]
        let argv = Array(arguments[4...])
        let lockFD: Int32 = 3
        // Our pid in the lock file: a restarted scheduler opens a pidfd on it.
        FileLock.record(pid: getpid(), in: lockFD)

        let started = Clock.wall()
        if chdir(cwd) != 0 {
            record(exitRecord, TaskExit(exitCode: 127), started: started, error: "cannot enter \(cwd): \(String(cString: strerror(errno)))")
            return 127
        }
        // 0600 and never through a link: the log is the queue's, whatever the umask. A link
        // planted at its name fails the attempt; another failure sends the output to our stderr.
        var logFD: Int32 = -1
        do { logFD = try FileIO.openForWriting(logPath, O_WRONLY | O_TRUNC, access: .owner) } catch where error.code == ELOOP {
            record(exitRecord, TaskExit(exitCode: 127), started: started, error: "\(error)")
            return 127
        } catch {}
        let output = logFD >= 0 ? logFD : 2
        // Every process of the task, escaped ones too, has ended when this returns.
        let (exit, error, _) = TaskReaper.run(program: argv[0], argv: argv, environment: Environment.entries(), stdout: output, stderr: output,
                                              started: { child in
            // For `status`: the task's own pid (the journal's `started` event precedes the spawn).
            if let pidFile = QueueFolder.taskPIDFile(besideExitRecord: exitRecord) {
                try? FileIO.writeAtomically(pidFile, Array("\(child)\n".utf8), durable: false, access: .owner)
            }
        }, ended: { status, _ in
            // At once, before the leftovers are killed (no fsync yet: a kill of this process
            // cannot lose a written file), so a supervisor killed now still leaves the record.
            record(exitRecord, status, started: started, error: nil, durable: false)
        })
        if logFD >= 0 { close(logFD) }
        record(exitRecord, exit, started: started, error: error)
        return exit.exitCode ?? 128 + (exit.signal ?? 0)
    }

    @discardableResult
    static func record(_ path: String, _ exit: TaskExit, started: Int64, error: String?, durable: Bool = true) -> TaskExit {
        let end = Clock.wall()
        let body = JSON.object([
            ("exit_code", .optional(exit.exitCode)), ("signal", .optional(exit.signal)),
            ("start", .int(started)), ("end", .int(end)), ("error", .optional(error)),
        ])
        try? FileIO.writeAtomically(path, body.bytes(newline: true), durable: durable, access: .owner)
        return exit
    }

    /// Reads an exit record; nil if the supervisor never wrote one.
    /// `error`: why the task could not start (its folder is gone, its program missing).
    public static func readRecord(_ path: String) -> (exit: TaskExit, start: Int64, end: Int64, error: String?)? {
        guard let text = try? FileIO.readText(path),
              let value = try? ConfigParser.parse(text, dialect: .json, source: path) else { return nil }
        var exit = TaskExit()
        if case .int(let code)? = value["exit_code"] { exit.exitCode = Int32(code) }
        if case .int(let signal)? = value["signal"] { exit.signal = Int32(signal) }
        var end = Clock.wall()
        if case .int(let time)? = value["end"] { end = Int64(time) }
        var start = end
        if case .int(let time)? = value["start"] { start = Int64(time) }
        return (exit, start, end, value["error"]?.string)
    }
}
