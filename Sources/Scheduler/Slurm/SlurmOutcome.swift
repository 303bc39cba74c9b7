/// How a Slurm task ended, from what there is: the wrapper's exit record first (right on
/// any cluster); else the element's final Slurm state and `ExitCode` (`scontrol`, while
/// Slurm remembers the job, MinJobAge after its end); else nothing, which is `unknown`,
/// never a success. Pure.
public enum SlurmOutcome {
    /// Element states after which nothing more of it runs (squeue's long names).
    public static let terminalStates: Set<String> = [
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY",
    ]

    public static func isTerminal(_ state: String) -> Bool { terminalStates.contains(state) }

    /// A task whose wrapper recorded that a stop (TERM) reached it before the task
    /// ended: its element's time limit (`timed_out`), or a cancel, preemption or node
    /// failure (`interrupted`: it runs again next time).
    public static func stopped(elementState: String?) -> TaskStatus {
        elementState == "TIMEOUT" ? .timedOut : .interrupted
    }

    /// A task with no exit record, whose element is over. `state`/`exit`: the element's
    /// final state and ExitCode from Slurm, nil when Slurm forgot the job; `started`:
    /// the wrapper wrote its start record. Returns the status, the exit to record and why.
    public static func withoutRecord(state: String?, exit: TaskExit, started: Bool, job: String) -> (status: TaskStatus, exit: TaskExit, error: String) {
        guard let state else {
            return (.unknown, TaskExit(), "Slurm no longer knows job \(job) and the task left no exit record")
        }
        if !started {
            if state == "COMPLETED" {
                return (.unknown, TaskExit(), "job \(job) ended COMPLETED, but the task left neither a start nor an exit record (is the run folder on shared storage?)")
            }
            return (.notStarted, TaskExit(), "job \(job) ended \(state) before the task started")
        }
        switch state {
        case "TIMEOUT":
            return (.timedOut, exit, "job \(job) reached its time limit")
        case "CANCELLED", "PREEMPTED", "NODE_FAIL", "BOOT_FAIL", "DEADLINE":
            return (.interrupted, exit, "job \(job) ended \(state)")
        case "FAILED", "OUT_OF_MEMORY":
            if exit.signal == nil && (exit.exitCode ?? 0) == 0 {
                return (.unknown, exit, "job \(job) ended \(state) with no exit code, and the task left no exit record")
            }
            let how = exit.signal.map { "signal \($0) (\(signalName($0)))" } ?? "exit code \(exit.exitCode ?? -1)"
            return (.failed, exit, "the task wrapper left no exit record; Slurm reports job \(job) \(state) with \(how)")
        default:
            return (.unknown, exit, "job \(job) ended \(state), and the task left no exit record")
        }
    }

    /// A task's device in summaries: `NODE:gpu0+gpu1`, or `NODE:cpu`.
    public static func device(node: String, gpu: String) -> String {
        let local = gpu.isEmpty ? "cpu" : gpu.split(separator: ",").map { "gpu\($0)" }.joined(separator: "+")
        return "\(node):\(local)"
    }
}
