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

    /// How an attempt ended, as its exit record says.
    public typealias ExitRecord = (exit: TaskExit, start: Int64, end: Int64, error: String?)

    /// Reads an exit record; nil if the supervisor never wrote one (or it cannot be read).
    /// `error`: why the task could not start (its folder is gone, its program missing).
    /// Throws a `SystemError` whose `damage` names the file when its content is damaged.
    public static func readRecord(_ path: String) throws(SystemError) -> ExitRecord? {
        guard let bytes = try? FileIO.read(path) else { return nil }
        do { return try decodeRecord(bytes: bytes[...]) } catch {
            throw SystemError(QueueFileError(.exitRecord, path: path, problem: error.problem))
        }
    }

    /// An exit record's content from any bytes: one JSON object with `exit_code` (0 to
    /// 255 or null), `signal` (1 to 64 or null), `start` and `end` (`QueueLimits.time`)
    /// and `error` (a string or null). Throws what is wrong; never traps.
    public static func decodeRecord(bytes: ArraySlice<UInt8>) throws(QueueDecodeError) -> ExitRecord {
        var fields = FlatFields()
        try FlatJSON.fields(bytes) { name, value throws(QueueDecodeError) in fields.values[name] = value }
        var exit = TaskExit()
        exit.exitCode = try fields.int("exit_code", QueueLimits.exitCode).map { Int32($0) }
        exit.signal = try fields.int("signal", QueueLimits.signal).map { Int32($0) }
        let end = try fields.int("end", QueueLimits.time) ?? Clock.wall()
        let start = try fields.int("start", QueueLimits.time) ?? end
        return (exit, start, end, try fields.string("error"))
    }
}
