/// How a task ended, as recorded in summaries and shown in log lines.
public enum TaskStatus: String, Sendable, CaseIterable {
    case succeeded
    case failed
    case timedOut = "timed_out"
    case interrupted
    case skipped
    /// Still queued when a run was interrupted.
    case notStarted = "not_started"
    /// Never started: a task it runs `after:` did not succeed.
    case dependencyFailed = "dependency_failed"
    /// Its end is not known: a Slurm job that left no exit record and that Slurm forgot.
    /// Never counted as a success.
    case unknown
}

/// What the kernel told us about a reaped task, plus why we may have signalled it.
public struct TaskExit: Equatable, Sendable {
    public var exitCode: Int32?
    public var signal: Int32?

    public init(exitCode: Int32? = nil, signal: Int32? = nil) {
        self.exitCode = exitCode
        self.signal = signal
    }

    /// Decodes a waitpid(2) status word.
    public init(waitStatus: Int32) {
        let low = waitStatus & 0x7f
        if low == 0 {
            self.init(exitCode: (waitStatus >> 8) & 0xff)
        } else {
            self.init(signal: low)
        }
    }

    /// N when the exit code is 128+N for a signal number N (1 to 64): how /bin/sh reports
    /// a command killed by signal N. Only a hint: a program may exit 137 of its own accord.
    public var signalReportedByShell: Int32? {
        guard let code = exitCode, code > 128, code <= 128 + 64 else { return nil }
        return code - 128
    }

    /// A task we signalled for a timeout or a shutdown keeps that status whatever its
    /// exit code: it did not finish its work.
    public func status(timedOut: Bool, interrupted: Bool) -> TaskStatus {
        if timedOut { return .timedOut }
        if interrupted { return .interrupted }
        return exitCode == 0 ? .succeeded : .failed
    }
}
