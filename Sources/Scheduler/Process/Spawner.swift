import CSystem
import Glibc

/// Starts processes with posix_spawn: an argv (never a shell unless asked for), by default
/// in a new session and process group, with default signal handling and stdin from /dev/null.
public final class Spawner {
    private let devNull: Int32
    private var attributes = posix_spawnattr_t()
    /// File actions by descriptor layout, built once each: glibc checks every action's
    /// descriptors against the open-files limit (a getrlimit each, 7 a spawn), and a run
    /// reuses a handful of layouts (its log descriptors are the lowest free numbers).
    /// A short list searched in order: cheaper than hashing for a handful, and a
    /// Dictionary's first insert cost the runtime a conformance scan before the first task.
    private var actionsByLayout: [(layout: Layout, actions: UnsafeMutablePointer<posix_spawn_file_actions_t>)] = []
    private static let maxLayouts = 32

    private struct Layout: Equatable {
        let stdout: Int32
        let stderr: Int32
        let extras: [Int32]
    }

    /// Where a spawned child goes: a new session and process group (tasks, reapers, probes),
    /// a new process group in our session (a reaper's task), or our own group (runone's
    /// command, which multirun signals as part of runone's group).
    public enum Group: Sendable {
        case newSession
        case newGroup
        case caller
    }

    public init(group: Group = .newSession) throws(SystemError) {
        devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard devNull >= 0 else { throw SystemError("open /dev/null", errno: errno) }
        posix_spawnattr_init(&attributes)
        // The parent blocks its handled signals and ignores SIGPIPE; children must start
        // with an empty mask and default dispositions. (Naming every signal is also the
        // cheapest for glibc: one sigaction each in the child, where any signal left out
        // costs a query and then a reset.)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        switch group {
        case .newSession: flags |= Int32(csystem_spawn_setsid_flag())
        case .newGroup:
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        case .caller: break
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
    }

    deinit {
        for (_, actions) in actionsByLayout {
            posix_spawn_file_actions_destroy(actions)
            actions.deallocate()
        }
        posix_spawnattr_destroy(&attributes)
        close(devNull)
    }

    /// Spawns `path` with `argv` (argv[0] as the user wrote it) and `environment`
    /// (`NAME=value` entries). See `spawn(path:strings:stdout:stderr:passing:)`.
    public func spawn(path: String, argv: [String], environment: [String], stdout: Int32, stderr: Int32,
                      passing extras: [Int32] = []) throws(SystemError) -> pid_t {
        var strings = ExecStrings()
        for word in argv { strings.argument(word) }
        for entry in environment { strings.variable(entry) }
        return try spawn(path: path, strings: &strings, stdout: stdout, stderr: stderr, passing: extras)
    }

    /// Spawns `path` with the argv and environment in `strings`.
    /// Returns the pid, which is also the process group id (the child leads a new session).
    /// `passing` become the child's descriptors 3, 4, … (a supervisor's run lock, a results
    /// folder's attempt lock).
    public func spawn(path: String, strings: inout ExecStrings, stdout: Int32, stderr: Int32,
                      passing extras: [Int32] = []) throws(SystemError) -> pid_t {
        // The dup2s run in order: a descriptor passed that sits where an earlier one goes
        // would be overwritten first, so it travels as a copy above them all.
        var passed = extras
        var copies: [Int32] = []
        defer { for copy in copies { close(copy) } }
        let end = 3 + Int32(passed.count)
        for index in passed.indices where passed[index] >= 3 && passed[index] < end && passed[index] != 3 + Int32(index) {
            let copy = fcntl(passed[index], F_DUPFD_CLOEXEC, end)
            guard copy >= 0 else { throw SystemError("fcntl F_DUPFD", errno: errno) }
            passed[index] = copy
            copies.append(copy)
        }
        let layout = Layout(stdout: stdout, stderr: stderr, extras: passed)
        let actions: UnsafeMutablePointer<posix_spawn_file_actions_t>
        var temporary = false
        if let known = actionsByLayout.first(where: { $0.layout == layout }) {
            actions = known.actions
        } else {
            actions = makeActions(layout)
            if actionsByLayout.count < Self.maxLayouts { actionsByLayout.append((layout, actions)) } else { temporary = true }
        }
        defer {
            if temporary {
                posix_spawn_file_actions_destroy(actions)
                actions.deallocate()
            }
        }
        var pid: pid_t = 0
        let result = strings.withPointers { argv, envp in posix_spawn(&pid, path, actions, &attributes, argv, envp) }
        guard result == 0 else { throw SystemError("cannot start \(path)", errno: result) }
        return pid
    }

    private func makeActions(_ layout: Layout) -> UnsafeMutablePointer<posix_spawn_file_actions_t> {
        let actions = UnsafeMutablePointer<posix_spawn_file_actions_t>.allocate(capacity: 1)
        posix_spawn_file_actions_init(actions)
        posix_spawn_file_actions_adddup2(actions, devNull, 0)
        posix_spawn_file_actions_adddup2(actions, layout.stdout, 1)
        posix_spawn_file_actions_adddup2(actions, layout.stderr, 2)
        // Tasks get stdin, stdout and stderr only: no descriptor inherited from whoever
        // started multirun (a cron pipe, a terminal multiplexer) stays open in a task.
        for (offset, extra) in layout.extras.enumerated() { posix_spawn_file_actions_adddup2(actions, extra, 3 + Int32(offset)) }
        csystem_spawn_close_from(actions, 3 + Int32(layout.extras.count))
        return actions
    }
}

/// Runs a short helper program (nvidia-smi) to completion and captures what it prints.
public enum ProcessCapture {
    public struct Output: Sendable {
        public var exit: TaskExit
        public var stdout: String
        public var stderr: String
    }

    /// Runs `program` to its end and returns what it printed. `timeout` (seconds): past it
    /// the program and its group are killed and the call throws (ETIMEDOUT), so a hung
    /// probe (nvidia-smi with a wedged driver) never hangs its caller. `interruptedBy`: an
    /// event loop's signalfd; a signal that arrives while the program still writes (a stop,
    /// a task's end) kills it and throws EINTR at once, leaving the signal for the loop.
    public static func run(_ program: String, _ arguments: [String], timeout: Double = 10,
                           interruptedBy signals: Int32? = nil) throws(SystemError) -> Output {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0 else { throw SystemError("pipe", errno: errno) }
        guard pipe(&errPipe) == 0 else { throw SystemError("pipe", errno: errno) }
        // Close-on-exec: the child gets only the dup2'd copies, so EOF comes when it exits.
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawner = try Spawner()
        let pid: pid_t
        do {
            pid = try spawner.spawn(path: program, argv: [program] + arguments,
                                    environment: Environment.entries(), stdout: outPipe[1], stderr: errPipe[1])
        } catch {
            for fd in outPipe + errPipe { close(fd) }
            throw error
        }
        close(outPipe[1])
        close(errPipe[1])
        defer {
            close(outPipe[0])
            close(errPipe[0])
        }
        // Both pipes are read as they fill, until both close or the time is up.
        var output: [[UInt8]] = [[], []]
        var open = [true, true]
        let deadline = Clock.monotonic() + UInt64(max(timeout, 0) * 1e9)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while open[0] || open[1] {
            let now = Clock.monotonic()
            guard now < deadline else {
                kill(-pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw SystemError("\(program) did not answer within \(Clock.duration(timeout))", errno: ETIMEDOUT)
            }
            var entries = [pollfd(fd: open[0] ? outPipe[0] : -1, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: open[1] ? errPipe[0] : -1, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signals ?? -1, events: Int16(POLLIN), revents: 0)]
            guard poll(&entries, 3, Int32(min((deadline - now) / 1_000_000 + 1, 60_000))) > 0 else { continue }
            // Its own end closes the pipes first; a signal while they are open is someone else's.
            if entries[2].revents != 0 && entries[0].revents == 0 && entries[1].revents == 0 {
                kill(-pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw SystemError("\(program) was stopped for a signal", errno: EINTR)
            }
            for index in 0..<2 where open[index] && entries[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(entries[index].fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { open[index] = false } else { output[index] += chunk[..<count] }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Output(exit: TaskExit(waitStatus: status), stdout: String(decoding: output[0], as: UTF8.self),
                      stderr: String(decoding: output[1], as: UTF8.self))
    }
}
