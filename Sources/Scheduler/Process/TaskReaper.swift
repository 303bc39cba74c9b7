import CSystem
import Glibc

/// Runs one task so that every process it starts ends with it, even those that left its
/// process group (`setsid`, double forks): the reaper is a child subreaper, so orphans of
/// the task are re-parented to it, and once the task's own process has ended it kills and
/// reaps every descendant left before it exits. Whoever started the reaper frees the task's
/// slot only when the reaper is gone, so nothing of one task overlaps the next on its slot.
///
/// The task runs in a process group of its own. TERM, INT and HUP sent to the reaper (or
/// its group) are relayed to the task's group; `killNow` (SIGUSR1) kills the task's group
/// and all its descendants at once, since SIGKILL itself cannot be relayed.
///
/// `multirun __reap --parent PID PROGRAM -- ARGV...` (one-shot runs) exits as the task did:
/// with its exit code, or by raising the signal that killed it, so the caller sees the real
/// end. If the one-shot multirun dies (kill -9), the reaper kills the task: nothing runs on
/// unattended. Descriptor 3, when given, is the results folder's lock (`AttemptRecord`):
/// held while the reaper lives, never passed to the task.
/// The daemon's `Supervisor` runs its task through the same `run`.
public enum TaskReaper {
    public static let command = "__reap"
    /// Asks a reaper to kill its task's processes now (the KILL after a grace period).
    public static let killNow = SIGUSR1

    public static func main(_ arguments: [String]) -> Int32 {
        var arguments = arguments
        // `--parent PID`: the one-shot multirun that started us. Its death (kill -9) is our
        // `killNow`, so its tasks end with it instead of running on unattended.
        if arguments.first == "--parent", arguments.count >= 2, let parent = pid_t(arguments[1]) {
            arguments.removeFirst(2)
            _ = csystem_set_parent_death_signal(killNow)
            if getppid() != parent { return 128 + SIGKILL }  // it died before we could ask
        }
        // `--record`: descriptor 3 is the results folder's attempt record, whose lock we hold.
        let holdsRecord = arguments.first == "--record"
        if holdsRecord { arguments.removeFirst() }
        guard arguments.count >= 3, arguments[1] == "--" else {
            Console.standardError.line("multirun \(command): internal command, started by multirun for each task")
            return 2
        }
        if holdsRecord { AttemptRecord.recordPID(in: 3, getpid()) }
        // How it ended, where a multirun killed before it could write the marker finds it.
        let exit = run(program: arguments[0], argv: Array(arguments[2...]), environment: Environment.entries(), stdout: 1, stderr: 2,
                       ended: { status, stopped in if holdsRecord { AttemptRecord.recordEnd(in: 3, exit: status, stopped: stopped) } })
        if let error = exit.error {
            Console.standardError.line("multirun: cannot start \(arguments[0]): \(error)")
            return 127
        }
        return end(like: exit.status)
    }

    /// Runs `argv` (`program` is its resolved path) to its end, then kills and reaps every
    /// descendant it left. `error`: why it could not start (then `status` is exit 127).
    /// `stopped`: a stop (TERM, INT, HUP, `killNow`) came before the task ended, so even an
    /// exit 0 may not be a finished task.
    /// `ended` is called the moment the task's own process has ended, before its leftovers
    /// are killed: where that is noted, a kill of the reaper right after cannot lose it.
    public static func run(program: String, argv: [String], environment: [String], stdout: Int32, stderr: Int32,
                           started: ((pid_t) -> Void)? = nil,
                           ended: ((_ status: TaskExit, _ stopped: Bool) -> Void)? = nil) -> (status: TaskExit, error: String?, stopped: Bool) {
        _ = csystem_set_child_subreaper()
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, killNow] { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        let task: pid_t
        do {
            task = try Spawner(group: .newGroup).spawn(path: program, argv: argv, environment: environment, stdout: stdout, stderr: stderr)
        } catch {
            return (TaskExit(exitCode: 127), "\(error)", false)
        }
        started?(task)
        var status: TaskExit?
        var stopped = false
        while status == nil {
            var raw: Int32 = 0
            var reaped = waitpid(-1, &raw, WNOHANG)
            while reaped > 0 {
                if reaped == task { status = TaskExit(waitStatus: raw) }
                reaped = waitpid(-1, &raw, WNOHANG)
            }
            if status != nil { break }
            var signal: Int32 = 0
            sigwait(&mask, &signal)
            switch signal {
            case SIGCHLD: continue
            case killNow:
                stopped = true
                status = killAll(group: task) ?? status
            default:
                stopped = true
                kill(-task, signal)
            }
        }
        let final = status ?? TaskExit(signal: SIGKILL)
        ended?(final, stopped)
        _ = killAll(group: task)
        return (final, nil, stopped)
    }

    /// SIGKILLs the task's group, then every process re-parented to us, until none is left
    /// (killing one may orphan its own children, which then come to us). Returns how the
    /// task's own process (`group`, its leader) ended, if it was reaped here.
    static func killAll(group task: pid_t) -> TaskExit? {
        var ended: TaskExit?
        var raw: Int32 = 0
        func reaped(_ pid: pid_t) { if pid == task { ended = TaskExit(waitStatus: raw) } }
        kill(-task, SIGKILL)
        while true {
            var pid = waitpid(-1, &raw, WNOHANG)
            while pid > 0 {
                reaped(pid)
                pid = waitpid(-1, &raw, WNOHANG)
            }
            let children = TaskRunner.childPIDs()
            if children.isEmpty { return ended }
            for child in children { kill(child, SIGKILL) }
            // Only those killed: an orphan re-parented meanwhile lives until the next round.
            for child in children {
                while waitpid(child, &raw, 0) < 0 && errno == EINTR {}
                reaped(child)
            }
        }
    }

    /// Kills and reaps every child of ours that `isOurs` does not claim, until none is left:
    /// orphans of a reaper or supervisor that was itself killed, re-parented to us (a child
    /// subreaper), whose task would otherwise run on beside the next one on its slot.
    /// Returns how each reaped orphan ended: one that had already exited on its own (a
    /// zombie when we came) shows its real status.
    @discardableResult
    static func killOrphans(keeping isOurs: (pid_t) -> Bool) -> [(pid: pid_t, exit: TaskExit)] {
        var ended: [(pid: pid_t, exit: TaskExit)] = []
        while true {
            let orphans = TaskRunner.childPIDs().filter { !isOurs($0) }
            if orphans.isEmpty { return ended }
            for orphan in orphans { kill(orphan, SIGKILL) }
            var raw: Int32 = 0
            for orphan in orphans {
                while waitpid(orphan, &raw, 0) < 0 && errno == EINTR {}
                ended.append((orphan, TaskExit(waitStatus: raw)))
            }
        }
    }

    /// Ends this process as the task ended: its exit code, or its signal raised again with
    /// the default action (no core file: the task's own would be the one that matters).
    static func end(like exit: TaskExit) -> Int32 {
        guard let signal = exit.signal else { return exit.exitCode ?? 1 }
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &noCore)
        Glibc.signal(signal, SIG_DFL)
        var only = sigset_t()
        sigemptyset(&only)
        sigaddset(&only, signal)
        pthread_sigmask(SIG_UNBLOCK, &only, nil)
        raise(signal)
        return 128 + signal
    }
}
