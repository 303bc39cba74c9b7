import Glibc

/// What multirun leaves in a config's results folder when it starts the task, before the
/// runner writes anything, and keeps there: the folder's results are multirun's own (an
/// earlier attempt, which may have been interrupted, failed or killed, or a completed one
/// whose marker was removed to run it again), so a later run may replace them. A folder with
/// results but neither this nor a completion marker holds someone else's work, which
/// multirun never overwrites unless asked (`-w`). The launch of a task removes an older
/// completion marker (`CompletionMarker.invalidate`), so no marker vouches for results of
/// an attempt that has not succeeded.
///
/// The record is also the task's lock: `claim` takes an flock on it, and the descriptor
/// goes to the task's reaper (one-shot runs) or supervisor (the daemon), which holds it
/// until every process of the task is gone. A run that finds it held leaves the task out:
/// it is still running, from an earlier run that was killed, another run, or the daemon.
public enum AttemptRecord {
    public static let fileName = "multirun-attempt.json"

    public static func path(in folder: String) -> String { folder + "/" + fileName }

    public enum Claim {
        /// The lock is ours: the descriptor holds it (pass it on, then close it).
        case claimed(Int32)
        /// A running attempt holds it.
        case held(Holder)
    }

    /// Claims `config`'s results folder (made if missing) for a new attempt: opens the
    /// record without following a symlink, takes its lock without waiting, and writes the
    /// identity and run id into it. Written in place, not renamed over: the lock is on
    /// this file.
    public static func claim(_ config: ConfigIdentity, runID: String) throws(SystemError) -> Claim {
        // Checked at the run's start too; again here, for a link planted since (the daemon
        // starts a task long after its submit).
        var verified: Set<String> = []
        if let (link, owner) = FileIO.foreignSymlink(on: config.resultsFolder, verified: &verified) {
            throw SystemError(ResultsPaths.refusal(config.resultsFolder, link: link, owner: owner), errno: ELOOP, complete: true)
        }
        try FileIO.makeDirectories(config.resultsFolder)
        let fd = try FileIO.openForWriting(path(in: config.resultsFolder), O_RDWR, access: .shared)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Holder(pid: recordedPID(fd))
            close(fd)
            return .held(holder)
        }
        write(config, runID: runID, pid: nil, to: fd)
        return .claimed(fd)
    }

    /// Adds the pid of the process that now holds the lock (the reaper or supervisor).
    public static func record(_ config: ConfigIdentity, runID: String, pid: pid_t, in fd: Int32) {
        write(config, runID: runID, pid: pid, to: fd)
    }

    private static func write(_ config: ConfigIdentity, runID: String, pid: pid_t?, to fd: Int32) {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.key("config"); writer.string(config.path)
        writer.key("identity"); writer.string(config.digest)
        writer.key("run_id"); writer.string(runID)
        writer.key("pid"); writer.int(pid.map(Int64.init))
        writer.endObject()
        writer.bytes.append(UInt8(ascii: "\n"))
        // Not synced: a lost record only makes the next run ask for -w.
        _ = ftruncate(fd, 0)
        _ = writer.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Adds how the task ended to the record open at `fd` (the task's reaper holds it):
    /// `exit_code`, `signal`, and `stopped` when a stop came first.
    public static func recordEnd(in fd: Int32, exit: TaskExit, stopped: Bool) {
        update(fd, [("exit_code", exit.exitCode.map { .int(Int($0)) } ?? .null), ("signal", exit.signal.map { .int(Int($0)) } ?? .null),
                    ("stopped", .bool(stopped))])
    }

    /// The reaper's own pid, written by the reaper as it starts (the only writer then).
    public static func recordPID(in fd: Int32, _ pid: pid_t) { update(fd, [("pid", .int(Int(pid)))]) }

    /// Sets `fields` in the record open at `fd`, keeping the others.
    private static func update(_ fd: Int32, _ fields: [(key: String, value: ConfigValue)]) {
        guard case .map(var entries)? = read(fd) else { return }
        entries.removeAll { entry in fields.contains { $0.key == entry.key } }
        entries += fields
        let bytes = ConfigValue.map(entries).json.bytes(pretty: true, newline: true)
        _ = ftruncate(fd, 0)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Marks the record's end as no success of its identity (the config changed while its
    /// task waited or ran, so the results are of another version).
    public static func markNotFinished(_ folder: String) {
        let fd = open(path(in: folder), O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
        recordEnd(in: fd, exit: TaskExit(), stopped: true)
    }

    /// Whether `folder`'s record says the task of `identity` ran to exit 0 with no stop
    /// before it, and nothing runs there now: the run that started it was killed before it
    /// wrote the completion marker.
    public static func finishedUnrecorded(_ folder: String, identity: String) -> Bool {
        let fd = open(path(in: folder), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0, let value = read(fd) else { return false }
        return value["identity"]?.string == identity && value["exit_code"] == .int(0) && value["stopped"] == .bool(false)
    }

    private static func read(_ fd: Int32) -> ConfigValue? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return try? ConfigParser.parse(bytes: Array(buffer[..<count]), dialect: .json, source: fileName)
    }

    /// A running attempt that holds a folder's record.
    public struct Holder: Sendable {
        /// The reaper's or supervisor's pid, once recorded.
        public let pid: pid_t?

        public var description: String { pid.map { "pid \($0)" } ?? "pid not recorded yet" }
    }

    /// Who holds `folder`'s record, if an attempt is running there; nil when no record is
    /// there or nobody holds it.
    public static func holder(_ folder: String) -> Holder? {
        let fd = open(path(in: folder), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) != 0 else { return nil }
        return Holder(pid: recordedPID(fd))
    }

    private static func recordedPID(_ fd: Int32) -> pid_t? {
        guard let pid = read(fd)?["pid"]?.int, pid > 0, pid <= Int(Int32.max) else { return nil }
        return pid_t(pid)
    }

    /// Undoes `begin` for a task that never started: the record goes, and the folder too
    /// when nothing else is in it. A record beside other files stays (they are an earlier
    /// attempt's, and the record is what says so).
    public static func abandon(_ folder: String) {
        guard let names = FileIO.names(in: folder), names.allSatisfy({ $0 == fileName }) else { return }
        unlink(path(in: folder))
        rmdir(folder)
    }

    /// Whether `folder` holds files that no multirun run made: it exists, is not empty, and
    /// has neither a completion marker, nor an attempt record, nor runone's metadata.json
    /// (a config run by hand with runone).
    public static func holdsForeignResults(_ folder: String) -> Bool {
        guard let names = FileIO.names(in: folder), !names.isEmpty else { return false }
        if names.contains(fileName) || names.contains(CompletionMarker.fileName) { return false }
        return !(names.contains("metadata.json") && isRunoneMetadata(folder + "/metadata.json"))
    }

    /// A metadata.json that runone wrote (it names the config's hash), not another tool's.
    static func isRunoneMetadata(_ path: String) -> Bool {
        guard let bytes = try? FileIO.read(path),
              let value = try? ConfigParser.parse(bytes: bytes, dialect: .json, source: path) else { return false }
        return value["config_sha256"]?.string != nil
    }
}
