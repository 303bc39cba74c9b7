import Glibc

/// The queue folder of a daemon: journal, locks, key index, task logs and exit records.
///
///     .multirun/            0700, owned by the user
///       scheduler.lock      flock'd by the one scheduler of this folder
///       journal.lock        shared by appenders, exclusive while compacting
///       journal.jsonl       append-only events: the single source of truth
///       keys.idx            +KEY ID / -KEY ID lines: keys of queued, running, completed tasks
///       submit.lock         serialises submits (read the key index, append)
///       next-id             the next task id (ids are 1, 2, 3, … in submission order)
///       run/<id>-<n>.lock   flock'd by the supervisor of attempt n while it lives
///       run/<id>-<n>.pid    the pid of that attempt's task
///       exits/<id>-<n>.json written by that supervisor when its task ends
///       logs/<id>-<n>.log   the task's stdout and stderr
///       env/<id>.env        the environment of the submit whose first task is <id> (0600)
///       scheduler.log       the scheduler's own lines
///       cache/status.json   what `status` prints, as of a journal prefix (a cache)
public struct QueueFolder: Sendable {
    /// Absolute: the scheduler hands paths inside it to supervisors, which run in the
    /// task's own folder (a relative path there named another place).
    public let path: String
    /// The folder as the user gave it, for messages.
    public let name: String

    public init(path: String) {
        name = ConfigSelector.normalized(path)
        let cwd = Submitter.currentDirectory()
        if name.hasPrefix("/") || cwd.hasPrefix("/") {
            self.path = FileIO.lexicallyNormalized(Submitter.absolute(name, cwd))
        } else {
            self.path = name  // no working folder to anchor it (removed under us)
        }
    }

    /// `--queue DIR`, else $MULTIRUN_QUEUE, else `.multirun`.
    public static func resolve(_ option: String?) -> QueueFolder {
        QueueFolder(path: option ?? Environment.value("MULTIRUN_QUEUE").flatMap { $0.isEmpty ? nil : $0 } ?? ".multirun")
    }

    public var journal: String { path + "/journal.jsonl" }
    public var journalLock: String { path + "/journal.lock" }
    public var schedulerLock: String { path + "/scheduler.lock" }
    public var schedulerLog: String { path + "/scheduler.log" }
    public var statusSnapshot: String { path + "/cache/status.json" }
    public var nextID: String { path + "/next-id" }
    public func runLock(_ id: String, _ attempt: Int) -> String { "\(path)/run/\(id)-\(attempt).lock" }
    public func exitRecord(_ id: String, _ attempt: Int) -> String { "\(path)/exits/\(id)-\(attempt).json" }
    public func log(_ id: String, _ attempt: Int) -> String { "\(path)/logs/\(id)-\(attempt).log" }
    /// The task's own pid, written by its supervisor once spawned (the journal's `started`
    /// event precedes the spawn).
    public func taskPID(_ id: String, _ attempt: Int) -> String { "\(path)/run/\(id)-\(attempt).pid" }

    /// `taskPID` of the attempt whose exit record is `path` (`<queue>/exits/<id>-<n>.json`),
    /// for the supervisor, which is handed the exit record's path.
    public static func taskPIDFile(besideExitRecord path: String) -> String? {
        guard let slash = path.lastIndex(of: "/"), path.hasSuffix(".json") else { return nil }
        let exits = path[..<slash]
        guard exits.hasSuffix("/exits") else { return nil }
        let name = path[path.index(after: slash)...].dropLast(".json".count)
        return "\(exits.dropLast("/exits".count))/run/\(name).pid"
    }

    /// The one rule of every queue command (daemon, submit, status, cancel, wait, drain):
    /// the folder must be yours, reached through no other user's symbolic link, and
    /// writable by nobody else (its journal decides what runs as you); one that others can
    /// only read (0755, as mkdir makes it) is narrowed to 0700, saying so, for its logs and
    /// captured environments are yours alone. `create`: make the folder (0700) and its
    /// sub folders if missing (daemon, submit); the other commands leave a missing folder
    /// missing (there is nothing to read or stop in it).
    public func prepare(create: Bool = true) throws(UsageError) {
        var verified: Set<String> = []
        if let (link, owner) = FileIO.foreignSymlink(on: path, verified: &verified) {
            throw UsageError("queue folder '\(name)' leads through the symbolic link '\(link)', which belongs to user id \(owner), not you; use your own with --queue DIR")
        }
        if !FileIO.exists(path) {
            guard create else { return }
            do { try FileIO.makeDirectories(path, mode: 0o700) } catch {
                throw UsageError("cannot create the queue folder: \(error)")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw UsageError("queue folder '\(name)' is not a folder; pass --queue DIR")
        }
        if info.st_uid != geteuid() {
            throw UsageError("queue folder '\(name)' belongs to user id \(info.st_uid), not you; use your own with --queue DIR")
        }
        let mode = String(info.st_mode & 0o777, radix: 8)
        if info.st_mode & 0o022 != 0 {
            throw UsageError("queue folder '\(name)' is writable by group or others (mode \(mode)); run chmod 700 \(name)")
        }
        if info.st_mode & 0o077 != 0 {
            guard chmod(path, info.st_mode & 0o700) == 0 else {
                throw UsageError("queue folder '\(name)' is readable by group or others (mode \(mode)) and cannot be narrowed (\(String(cString: strerror(errno)))); run chmod 700 \(name)")
            }
            Console.standardError.line("multirun: queue folder '\(name)' was readable by group or others (mode \(mode)); made it 700, as its logs and environments are yours alone")
        }
        // Its folders must be real folders of ours: a link at logs/ or env/ would send task
        // output and captured environments (tokens) wherever it points.
        for sub in ["run", "exits", "logs", "env", "cache"] {
            var entry = stat()
            guard lstat(path + "/" + sub, &entry) == 0 else { continue }
            if (entry.st_mode & S_IFMT) == S_IFLNK {
                throw UsageError("queue folder '\(name)' holds a symbolic link at \(sub)/, and multirun keeps its files only in real folders; remove it (rm \(name)/\(sub)) and run again")
            }
            if (entry.st_mode & S_IFMT) != S_IFDIR || entry.st_uid != geteuid() {
                throw UsageError("queue folder '\(name)' holds \(sub), which is not a folder of yours; move it away and run again")
            }
        }
        guard create else { return }
        for sub in ["run", "exits", "logs"] {
            do { try FileIO.makeDirectories(path + "/" + sub, mode: 0o700) } catch {
                throw UsageError("cannot prepare the queue folder: \(error)")
            }
        }
    }
}

/// An flock(2) on a file, held until `release` or until the process dies (the kernel
/// drops it then, so a crashed holder never leaves a stale lock).
public final class FileLock {
    public let fd: Int32

    public enum Mode { case shared, exclusive }

    /// Opens (creating) `path` and locks it; nil when `wait` is false and another holds it.
    public init?(path: String, mode: Mode, wait: Bool, closeOnExec: Bool = true) throws(SystemError) {
        // Queue locks only (0600, never through a link); O_CLOEXEC is cleared below if asked.
        let fd = try FileIO.openForWriting(path, O_RDWR, access: .owner)
        if !closeOnExec { _ = fcntl(fd, F_SETFD, 0) }
        let operation = (mode == .shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB)
        while flock(fd, operation) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw SystemError("cannot lock \(path)", errno: code)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Makes `pid` the whole content of the lock file open on `fd`: whoever finds the lock
    /// held learns who holds it (the scheduler's pid, or an attempt's supervisor).
    public static func record(pid: pid_t, in fd: Int32) {
        let text = Array("\(pid)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// The pid recorded in the lock file at `path`, if any: 1 or more (a 0 or negative
    /// value there would make `kill(-pid, …)` signal our own group, or everyone).
    public static func recordedPID(_ path: String) -> pid_t? {
        guard let text = try? FileIO.readText(path), let pid = pid_t(text.trimming(" \n")), pid > 0 else { return nil }
        return pid
    }

    /// True if some process holds a lock on `path` (we could not take it at once).
    public static func isHeld(_ path: String) -> Bool {
        guard FileIO.exists(path) else { return false }
        return (try? FileLock(path: path, mode: .exclusive, wait: false)) == nil
    }
}
