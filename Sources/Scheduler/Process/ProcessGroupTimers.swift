import Glibc

/// Deadlines of running process groups (the key is the leader's pid, which is the group
/// id): a task's timeout, and the KILL that follows a TERM after the grace period. Both
/// event loops use it, and it gives them their poll(2) timeout.
///
/// Each group is led by a `TaskReaper` (one-shot runs) or a `Supervisor` (the daemon), with
/// the task in a group of its own below it: TERM to the leader's group is relayed to the
/// task, and the KILL is asked of the leader (`TaskReaper.killNow`), which kills the task
/// and every descendant, escaped ones too, before it exits. A leader that has not exited
/// `lastResortDelay` seconds later is SIGKILLed with its group.
struct ProcessGroupTimers {
    let grace: Double
    static let lastResortDelay = 5.0
    private var timeouts: [pid_t: UInt64] = [:]
    private var kills: [pid_t: UInt64] = [:]
    private var lastResorts: [pid_t: UInt64] = [:]

    init(grace: Double) { self.grace = grace }

    mutating func started(_ pid: pid_t, now: UInt64, timeout: Double?) {
        if let timeout { timeouts[pid] = now + UInt64(timeout * 1e9) }
    }

    mutating func ended(_ pid: pid_t) {
        timeouts[pid] = nil
        kills[pid] = nil
        lastResorts[pid] = nil
    }

    /// TERM to the group now and KILL after the grace period (at once when grace is 0).
    mutating func terminate(_ pid: pid_t, now: UInt64) {
        timeouts[pid] = nil
        if grace == 0 {
            killNow(pid, now: now)
            return
        }
        kill(-pid, SIGTERM)
        if kills[pid] == nil { kills[pid] = now + UInt64(grace * 1e9) }
    }

    /// Asks the group's leader to kill its task and all it started, at once.
    mutating func killNow(_ pid: pid_t, now: UInt64) {
        kills[pid] = nil
        kill(pid, TaskReaper.killNow)
        if lastResorts[pid] == nil { lastResorts[pid] = now + UInt64(Self.lastResortDelay * 1e9) }
    }

    /// KILLs groups whose grace ran out, TERMs those whose timeout came, and returns the
    /// latter so the caller can record them as timed out.
    mutating func fire(now: UInt64) -> [pid_t] {
        for (pid, at) in kills where at <= now { killNow(pid, now: now) }
        for (pid, at) in lastResorts where at <= now {
            kill(-pid, SIGKILL)
            lastResorts[pid] = nil
        }
        let expired = timeouts.filter { $0.value <= now }.map(\.key)
        for pid in expired { terminate(pid, now: now) }
        return expired
    }

    /// Milliseconds until the next deadline, or -1 (sleep until an event) when none.
    func pollTimeout(now: UInt64) -> Int32 {
        guard let next = (Array(timeouts.values) + Array(kills.values) + Array(lastResorts.values)).min() else { return -1 }
        return next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }
}
