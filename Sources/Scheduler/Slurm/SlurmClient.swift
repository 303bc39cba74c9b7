import Glibc

/// Slurm's client commands, each call under a time limit: they hang about 9 s retrying
/// when slurmctld is down, and a hung `squeue` must not hang the run.
public struct SlurmClient: Sendable {
    public let sbatch: String
    public let squeue: String
    public let scontrol: String
    public let scancel: String
    /// Seconds one call may take.
    public var timeout: Double = 30
    /// Accounting's client, when installed (it answers only where slurmdbd runs).
    public var sacct: String?

    /// Finds the clients on PATH, or says which one is missing.
    public static func find() throws(UsageError) -> SlurmClient {
        var paths: [String] = []
        for name in ["sbatch", "squeue", "scontrol", "scancel"] {
            guard let path = ExecutableLookup.resolve(name) else {
                throw UsageError("--backend slurm needs Slurm's \(name), which is not on PATH; run multirun on a login node of the cluster (or install slurm-client)")
            }
            paths.append(path)
        }
        return SlurmClient(sbatch: paths[0], squeue: paths[1], scontrol: paths[2], scancel: paths[3], sacct: ExecutableLookup.resolve("sacct"))
    }

    public struct Failure: Error, Sendable {
        /// What the client printed (its first error line), or why it gave no answer.
        public let message: String
        /// The call ran past its time limit.
        public let timedOut: Bool
    }

    /// Runs a client to its end. `signals`: a signalfd whose signal interrupts the call.
    func call(_ program: String, _ arguments: [String], signals: Int32? = nil) -> Result<String, Failure> {
        let name = program.split(separator: "/").last.map(String.init) ?? program
        let output: ProcessCapture.Output
        do { output = try ProcessCapture.run(program, arguments, timeout: timeout, interruptedBy: signals) } catch {
            let late = error.code == ETIMEDOUT
            return .failure(Failure(message: late ? "\(name) gave no answer within \(Int(timeout)) s (is slurmctld up? scontrol ping)" : "\(name): \(error)",
                                    timedOut: late))
        }
        guard output.exit.exitCode == 0 else {
            // Slurm's clients end with the line that matters ("Batch job submission failed:
            // Invalid partition name specified", "fatal: Could not establish a configuration source").
            let said = output.stderr.split(separator: "\n").map(String.init).last { !$0.isEmpty }
                ?? output.stdout.split(separator: "\n").first.map(String.init) ?? "exit code \(output.exit.exitCode ?? -1)"
            return .failure(Failure(message: said.excerpt, timedOut: false))
        }
        return .success(output.stdout)
    }

    /// Whether a controller answers (`scontrol ping` fails at once when none does, where
    /// other clients retry for ~9 s); the failure says what scontrol said.
    public func ping(signals: Int32? = nil) -> Failure? {
        switch call(scontrol, ["ping"], signals: signals) {
        case .success(let text) where text.contains("DOWN"):
            return Failure(message: text.split(separator: "\n").first.map(String.init)?.excerpt ?? "DOWN", timedOut: false)
        case .success: return nil
        case .failure(let failure): return failure
        }
    }

    /// `MaxArraySize` from `scontrol show config` (Slurm's default, 1001, when unreadable).
    public func maxArraySize(signals: Int32? = nil) -> Int {
        guard case .success(let text) = call(scontrol, ["show", "config"], signals: signals) else { return 1001 }
        return Self.configValue("MaxArraySize", in: text).flatMap { Int($0) }.map { max(1, $0) } ?? 1001
    }

    /// A `Key = value` line's value in `scontrol show config` output.
    static func configValue(_ key: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimming(" \t") == key { return String(parts[1]).trimming(" \t") }
        }
        return nil
    }

    /// Submits; returns the job id that `--parsable` prints (`ID` or `ID;cluster`).
    public func submit(_ arguments: [String], signals: Int32? = nil) -> Result<String, Failure> {
        switch call(sbatch, arguments, signals: signals) {
        case .failure(let failure): return .failure(failure)
        case .success(let text):
            let id = text.split(separator: "\n").first.map { String($0.split(separator: ";").first ?? "") } ?? ""
            guard !id.isEmpty, id.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                return .failure(Failure(message: "sbatch printed '\(text.excerpt)' instead of a job id", timedOut: false))
            }
            return .success(id)
        }
    }

    /// The states of array `job`'s elements that Slurm still knows (`squeue -r -t all`):
    /// element index → state (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...).
    /// An empty answer for a job Slurm forgot (MinJobAge after it ended); a failure when
    /// squeue gave no answer.
    public func elementStates(_ job: String, signals: Int32? = nil) -> Result<[Int: String], Failure> {
        switch call(squeue, ["-h", "-r", "-t", "all", "-j", job, "-o", "%i %T"], signals: signals) {
        case .failure(let failure):
            // squeue answers a purged id with an error instead of an empty list.
            if failure.message.contains("Invalid job id") { return .success([:]) }
            return .failure(failure)
        case .success(let text): return .success(Self.parseStates(text, job: job))
        }
    }

    /// `ID_INDEX STATE` lines of job `job` (other lines ignored).
    static func parseStates(_ text: String, job: String) -> [Int: String] {
        var states: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2 else { continue }
            let id = words[0].split(separator: "_")
            guard id.count == 2, id[0] == job, let index = Int(id[1]) else { continue }
            states[index] = String(words[1])
        }
        return states
    }

    /// `JobState` and `ExitCode` (code, signal) of one element from `scontrol show job`;
    /// nil when Slurm no longer knows it.
    public func element(_ job: String, _ index: Int, signals: Int32? = nil) -> (state: String, exit: TaskExit)? {
        guard case .success(let text) = call(scontrol, ["show", "job", "-o", "\(job)_\(index)"], signals: signals) else { return nil }
        return Self.parseJob(text)
    }

    /// `State` and `ExitCode` of one element from accounting (`sacct -X`): for an element
    /// the controller forgot (MinJobAge after its end). nil without accounting ("Slurm
    /// accounting storage is disabled") or when it has no record yet (records arrive a few
    /// seconds late).
    public func accounted(_ job: String, _ index: Int, signals: Int32? = nil) -> (state: String, exit: TaskExit)? {
        guard let sacct, case .success(let text) = call(sacct, ["-j", "\(job)_\(index)", "-X", "-n", "-P", "-o", "State,ExitCode"], signals: signals) else { return nil }
        return Self.parseAccounting(text)
    }

    /// sacct's `STATE|CODE:SIGNAL` line (`CANCELLED by 0|0:0`, `FAILED|3:0`).
    static func parseAccounting(_ text: String) -> (state: String, exit: TaskExit)? {
        guard let line = text.split(separator: "\n").first else { return nil }
        let fields = line.split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count >= 2, let state = fields[0].split(separator: " ").first, !state.isEmpty else { return nil }
        return parseJob("JobState=\(state) ExitCode=\(fields[1])")
    }

    static func parseJob(_ text: String) -> (state: String, exit: TaskExit)? {
        var state: String?
        var exit = TaskExit()
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if word.hasPrefix("JobState=") { state = String(word.dropFirst(9)) }
            if word.hasPrefix("ExitCode=") {
                let parts = word.dropFirst(9).split(separator: ":")
                if parts.count == 2, let code = Int32(parts[0]), let signal = Int32(parts[1]) {
                    exit = signal > 0 ? TaskExit(signal: signal) : TaskExit(exitCode: code)
                }
            }
        }
        return state.map { ($0, exit) }
    }

    /// Cancels whole arrays (pending and running elements).
    @discardableResult
    public func cancel(_ jobs: [String]) -> Result<String, Failure> {
        guard !jobs.isEmpty else { return .success("") }
        return call(scancel, jobs)
    }
}

/// The run's stop signals (TERM, INT, HUP), collected from its signalfd between Slurm
/// calls. Each client call is interrupted by a stop that arrives while it runs, but not
/// by the SIGCHLD of an earlier call, which `collect` drains; once a stop came, calls
/// (scancel, the final squeue) run to their end or their time limit.
final class StopSignals {
    let channel: SignalChannel
    private(set) var stop: Int32?

    init(_ channel: SignalChannel) { self.channel = channel }

    /// The first stop signal so far, if any.
    @discardableResult
    func collect() -> Int32? {
        for signal in channel.drain() where signal != SIGCHLD && stop == nil { stop = signal }
        return stop
    }

    /// The descriptor that interrupts the next call: nil once stopped.
    var forCalls: Int32? { collect() == nil ? channel.fd : nil }
}
