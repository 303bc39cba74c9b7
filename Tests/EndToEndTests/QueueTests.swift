import Foundation
import Glibc
import Testing

/// The daemon, submit, status, cancel, wait and drain, run as a user would.
@Suite(.serialized)
struct QueueTests {
    /// Reports start, waits for the gate when GATE is set (ignoring TERM when asked),
    /// records that it ran, reports its end. Spawns a child so groups matter.
    static let task = """
    #!/bin/sh
    [ -n "$IGNORE_TERM" ] && trap '' TERM
    sleep 30 &
    echo "start|$$|$!|$1" > "$EVENTS"
    if [ -n "$GATE" ]; then read go < "$GATE"; fi
    # WORK: configs ending in 0 or 5 run 1 s, the rest briefly, so some span a restart.
    if [ -n "$WORK" ]; then case "$1" in *[05].yaml) sleep 1;; *) sleep "$WORK";; esac; fi
    echo "$1" >> ran.txt
    kill $! 2>/dev/null
    echo "end|$$" > "$EVENTS"
    """

    func project(configs: Int) throws -> Project {
        let project = try Project()
        for i in 1...configs { try project.write(String(format: "configs/q/t-%02d.yaml", i), "n: \(i)\n") }
        try project.write("task.sh", Self.task, executable: true)
        return project
    }

    /// `--no-env`: these tests hand the task its variables (EVENTS, GATE, ...) through the
    /// daemon's environment; SubmitEnvironmentTests covers the environment captured at submit.
    func submit(_ project: Project, _ regex: String = "q/t-") throws -> String {
        let result = try multirun(["submit", "--no-env", "-c", regex, "--runner", "./task.sh {config}"], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    func status(_ project: Project) throws -> (counts: [String: Int], tasks: [[String: Any]]) {
        let result = try multirun(["status", "--json"], in: project)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return (object["counts"] as? [String: Int] ?? [:], object["tasks"] as? [[String: Any]] ?? [])
    }

    func id(of label: String, in project: Project) throws -> String {
        try #require(try status(project).tasks.first { $0["label"] as? String == label }?["id"] as? String)
    }

    func ranCounts(_ project: Project) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in ((try? project.read("ran.txt")) ?? "").split(separator: "\n") { counts[String(line), default: 0] += 1 }
        return counts
    }

    func daemon(_ project: Project, _ extra: [String], environment: [String: String]) throws -> Launched {
        try Launched(Binaries.multirun, ["daemon", "-gpu", "false"] + extra, in: project, environment: environment)
    }

    /// Ids are 1, 2, 3, … across submits and never reused, even when `next-id` is lost: a
    /// reused id would make the fold drop the second task as a replay.
    @Test func taskIDsCountUpAndAreNeverReused() throws {
        let project = try project(configs: 6)
        #expect(try submit(project, "q/t-0[1-3]").contains("Queued 3 configs/q/t-03.yaml"))
        try FileManager.default.removeItem(atPath: project.path(".multirun/next-id"))
        #expect(try submit(project, "q/t-0[4-5]").contains("Queued 5 configs/q/t-05.yaml"))
        #expect(try submit(project, "q/t-06").contains("Queued 6 configs/q/t-06.yaml"))
        let tasks = try status(project).tasks
        #expect(tasks.compactMap { $0["id"] as? String } == ["1", "2", "3", "4", "5", "6"])
        #expect(try status(project).counts["queued"] == 6)
    }

    @Test func submitWithoutSchedulerThenExitWhenIdleRunsEverything() throws {
        let project = try project(configs: 5)
        let events = try FIFO(project.path("events"))
        let out = try submit(project)
        #expect(out.contains("Submitted 5 task(s), 0 not queued; no scheduler runs on .multirun yet"))
        #expect(try status(project).counts["queued"] == 5)
        let result = try daemon(project, ["-d", "2", "--exit-when-idle"], environment: ["EVENTS": events.path]).finish()
        #expect(result.status == 0)
        #expect(ranCounts(project).count == 5 && ranCounts(project).values.allSatisfy { $0 == 1 })
        #expect(try status(project).counts["succeeded"] == 5)
        // The same configs again: nothing is added.
        #expect(try submit(project).contains("Submitted 0 task(s), 5 not queued"))
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("Start the process with configs/q/t-01.yaml"))
        #expect(log.contains("The process finished: ./task.sh configs/q/t-01.yaml ["))
        #expect(log.contains("[5/5]"))
    }

    /// {gpu} and {slot} are kept through submit and filled by the daemon at launch, with
    /// the device the task really got.
    @Test func theDaemonFillsGPUAndSlotAtLaunch() throws {
        let project = try project(configs: 2)
        try project.fakeNvidiaSMI(gpus: 2)
        try project.write("args.sh", "#!/bin/sh\necho \"$1|$2|$3|$CUDA_VISIBLE_DEVICES\" >> seen.txt\n", executable: true)
        let submitted = try multirun(["submit", "-c", "q/t-", "--runner", "./args.sh {gpu} {slot} {config}"], in: project)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let result = try Launched(Binaries.multirun, ["daemon", "-d", "0", "1", "--exit-when-idle"], in: project).finish()
        #expect(result.status == 0, "\(result.stderr)")
        let seen = try project.read("seen.txt").split(separator: "\n").map(String.init).sorted()
        #expect(seen == ["1|0|configs/q/t-01.yaml|1", "1|0|configs/q/t-02.yaml|1"])
    }

    @Test func aSecondSchedulerOnTheSameQueueStepsAside() throws {
        let project = try project(configs: 3)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        _ = try submit(project)
        let first = try daemon(project, ["-d", "3", "--exit-when-idle"], environment: ["EVENTS": events.path, "GATE": gate.path])
        _ = try events.lines(until: 3) { $0.hasPrefix("start") }
        // cron's copy finds the queue taken and leaves at once, quietly.
        let cron = try daemon(project, ["-d", "3", "--exit-when-idle"], environment: ["EVENTS": events.path]).finish()
        #expect(cron.status == 0 && cron.stderr.isEmpty)
        let second = try daemon(project, ["-d", "3"], environment: [:]).finish()
        #expect(second.status == 1)
        #expect(second.stderr.contains("a scheduler (pid \(first.pid)) already runs queue .multirun"))
        // A one-shot run would put tasks on the daemon's slots: refused.
        let oneShot = try multirun(["-c", "q/t-", "-gpu", "false", "-check", "false", "--runner", "./task.sh {config}"], in: project)
        #expect(oneShot.status == 2 && oneShot.stderr.contains("hand it these tasks with 'multirun submit'"))
        gate.send(lines: 3)
        #expect(first.finish().status == 0)
        #expect(ranCounts(project).values.allSatisfy { $0 == 1 } && ranCounts(project).count == 3)
    }

    @Test func concurrentSubmitsQueueEachConfigOnce() throws {
        let project = try project(configs: 20)
        let scheduler = try daemon(project, ["-d", "4"], environment: ["EVENTS": "/dev/null"])
        let regexes = (0..<10).map { i in "q/t-(\(String(format: "%02d", 2 * i + 1))|\(String(format: "%02d", 2 * i + 2))|\(String(format: "%02d", (2 * i + 3) % 20 + 1)))" }
        let submits = try regexes.map { try Launched(Binaries.multirun, ["submit", "-c", $0, "--runner", "./task.sh {config}"], in: project, environment: ["EVENTS": "/dev/null"]) }
        for submit in submits { #expect(submit.finish().status == 0) }
        #expect(try multirun(["wait"], in: project).status == 0)
        scheduler.signal(SIGHUP)
        #expect(scheduler.finish().status == 0)
        let journal = try project.read(".multirun/journal.jsonl").split(separator: "\n")
        var submitted: [String: Int] = [:]
        for line in journal where line.contains("\"e\":\"submitted\"") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            submitted[object?["label"] as? String ?? "", default: 0] += 1
        }
        #expect(submitted.count == 20 && submitted.values.allSatisfy { $0 == 1 }, "\(submitted)")
        #expect(ranCounts(project).count == 20 && ranCounts(project).values.allSatisfy { $0 == 1 })
    }

    @Test func cancelDropsQueuedAndKillsRunningThatIgnoresTerm() throws {
        let project = try project(configs: 2)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        _ = try submit(project)
        let scheduler = try daemon(project, ["-d", "1", "--grace", "1", "--exit-when-idle"],
                                   environment: ["EVENTS": events.path, "GATE": gate.path, "IGNORE_TERM": "1"])
        let start = try events.lines(until: 1) { $0.hasPrefix("start") }
        let pids = start[0].split(separator: "|").dropFirst().prefix(2).compactMap { Int32($0) }
        let queued = try id(of: "configs/q/t-02.yaml", in: project)
        let running = try id(of: "configs/q/t-01.yaml", in: project)
        let cancel = try multirun(["cancel", queued, running], in: project)
        #expect(cancel.status == 0)
        #expect(cancel.stdout.contains("Cancelled \(queued)") && cancel.stdout.contains("Stopping \(running)"))
        #expect(scheduler.finish().status == 0)
        #expect(try status(project).counts["cancelled"] == 2)
        #expect(!project.exists("ran.txt"), "neither task finished its work")
        for pid in pids { #expect(isDead(pid)) }
        #expect(try multirun(["cancel", "t-nonexistent"], in: project).status == 2)
    }

    @Test func timeoutStopsAQueuedTaskThatIgnoresTerm() throws {
        let project = try project(configs: 1)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        _ = try submit(project)
        let result = try daemon(project, ["-d", "1", "--timeout", "1", "--grace", "1", "--exit-when-idle"],
                                environment: ["EVENTS": events.path, "GATE": gate.path, "IGNORE_TERM": "1"]).finish()
        #expect(result.status == 0)
        let task = try #require(try status(project).tasks.first)
        #expect(task["state"] as? String == "timed_out")
        #expect(task["signal"] as? Int == Int(SIGKILL))
        #expect(!project.exists("ran.txt"))
        #expect(try project.read(".multirun/scheduler.log").contains("The process timed out"))
    }

    @Test func sighupDrainsRunningTasksAndStartsNothingNew() throws {
        let project = try project(configs: 3)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        _ = try submit(project)
        let scheduler = try daemon(project, ["-d", "1"], environment: ["EVENTS": events.path, "GATE": gate.path])
        _ = try events.lines(until: 1) { $0.hasPrefix("start") }
        scheduler.signal(SIGHUP)
        // The drain is logged before the running task is let go.
        #expect(eventually { ((try? project.read(".multirun/scheduler.log")) ?? "").contains("Draining (SIGHUP)") })
        gate.send(lines: 1)
        #expect(scheduler.finish().status == 0)
        #expect(ranCounts(project) == ["configs/q/t-01.yaml": 1])
        let counts = try status(project).counts
        #expect(counts["succeeded"] == 1 && counts["queued"] == 2)

        // 'multirun drain' does the same; a drain never carries over to the next scheduler.
        let next = try daemon(project, ["-d", "1"], environment: ["EVENTS": events.path, "GATE": gate.path])
        _ = try events.lines(until: 1) { $0.hasPrefix("start") }
        let drain = try multirun(["drain"], in: project)
        #expect(drain.status == 0 && drain.stdout.contains("Asked the scheduler (pid \(next.pid)) to drain"))
        #expect(eventually { ((try? project.read(".multirun/scheduler.log")) ?? "").contains("Draining (multirun drain)") })
        gate.send(lines: 1)
        #expect(next.finish().status == 0)
        #expect(ranCounts(project).count == 2)
        gate.send(lines: 1)
        #expect(try daemon(project, ["-d", "1", "--exit-when-idle"], environment: ["EVENTS": events.path, "GATE": gate.path]).finish().status == 0)
        #expect(ranCounts(project).count == 3, "the third scheduler ran the last task instead of draining at once")
    }

    @Test func sigtermInterruptsRunningTasksWhichRunAgainNextStart() throws {
        let project = try project(configs: 3)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        _ = try submit(project)
        let scheduler = try daemon(project, ["-d", "2", "--grace", "5"], environment: ["EVENTS": events.path, "GATE": gate.path])
        let starts = try events.lines(until: 2) { $0.hasPrefix("start") }
        let pids = starts.flatMap { $0.split(separator: "|").dropFirst().prefix(2).compactMap { Int32($0) } }
        scheduler.signal(SIGTERM)
        #expect(scheduler.finish().status == 143)
        for pid in pids { #expect(isDead(pid), "process \(pid) outlived the scheduler's SIGTERM") }
        #expect(try status(project).counts["queued"] == 3)
        gate.send(lines: 3)
        #expect(try daemon(project, ["-d", "2", "--exit-when-idle"], environment: ["EVENTS": events.path, "GATE": gate.path]).finish().status == 0)
        #expect(ranCounts(project).count == 3 && ranCounts(project).values.allSatisfy { $0 == 1 })
        let attempts = try status(project).tasks.compactMap { $0["attempts"] as? Int }.sorted()
        #expect(attempts == [1, 2, 2])
    }

    @Test func badQueueCommandsLeaveNoQueueFolder() throws {
        let project = try project(configs: 1)
        for arguments in [["cancel"], ["wait", "t00000000"], ["daemon", "-gpu", "false", "-d", "0"], ["submit", "-c", "nothing-matches"]] {
            let result = try multirun(arguments, in: project)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("multirun: "), "\(arguments): \(result.stderr)")
            #expect(!project.exists(".multirun"), "\(arguments) created the queue folder")
        }
    }

    @Test func aQueueFolderOthersCanWriteIsRefused() throws {
        let project = try project(configs: 1)
        try FileManager.default.createDirectory(atPath: project.path(".multirun"), withIntermediateDirectories: true)
        chmod(project.path(".multirun"), 0o775)
        let result = try daemon(project, ["-d", "1", "--exit-when-idle"], environment: [:]).finish()
        #expect(result.status == 2)
        #expect(result.stderr == "multirun: queue folder '.multirun' is writable by group or others (mode 775); run chmod 700 .multirun\n")
    }

    /// kill -9 the scheduler again and again while ~50 tasks run; after each kill one task
    /// ends while no scheduler runs, and the next scheduler adopts the rest.
    @Test func killingTheSchedulerLosesNothingAndRunsNothingTwice() throws {
        let project = try project(configs: 48)
        let events = try FIFO(project.path("events"))
        _ = try submit(project)
        var pids: [Int32] = []
        var running: Set<String> = []
        func note(_ line: String) {
            let fields = line.split(separator: "|").map(String.init)
            if fields.first == "start" {
                running.insert(fields[1])
                pids += fields.dropFirst().prefix(2).compactMap { Int32($0) }
            } else if fields.first == "end" {
                running.remove(fields[1])
            }
        }
        var rounds = 0
        var finished = false
        while !finished && rounds < 60 {
            rounds += 1
            let scheduler = try daemon(project, ["-d", "4", "--exit-when-idle"], environment: ["EVENTS": events.path, "WORK": "0.1"])
            // Let 1 to 5 more tasks start, then kill -9 (or see the scheduler finish).
            var started = 0
            let wanted = 1 + rounds % 5
            while started < wanted && scheduler.process.isRunning {
                guard let line = try? events.nextLine(timeout: 0.5) else { continue }
                note(line)
                if line.hasPrefix("start") { started += 1 }
            }
            if scheduler.process.isRunning { scheduler.signal(SIGKILL) }
            finished = scheduler.finish().status == 0
            // With no scheduler alive, one task ends: its supervisor must record it.
            if !finished && !running.isEmpty {
                while let line = try? events.nextLine(timeout: 10) {
                    note(line)
                    if line.hasPrefix("end") { break }
                }
            }
        }
        #expect(finished, "the queue never drained in \(rounds) rounds")
        while let line = try? events.nextLine(timeout: 0.2) { note(line) }
        let ran = ranCounts(project)
        #expect(ran.count == 48, "every task ran")
        #expect(ran.values.allSatisfy { $0 == 1 }, "a task ran twice: \(ran.filter { $0.value > 1 })")
        var succeeded: [String: Int] = [:]
        for line in try project.read(".multirun/journal.jsonl").split(separator: "\n") where line.contains("\"status\":\"succeeded\"") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            succeeded[object?["id"] as? String ?? "", default: 0] += 1
        }
        #expect(succeeded.count == 48 && succeeded.values.allSatisfy { $0 == 1 }, "one successful end per task in the journal")
        let counts = try status(project).counts
        #expect(counts["succeeded"] == 48 && counts["queued"] == 0 && counts["running"] == 0)
        for pid in pids { #expect(isDead(pid), "task process \(pid) is still alive") }
        #expect(rounds > 3, "the scheduler was killed several times")
        #expect(try project.read(".multirun/scheduler.log").contains("Adopted the running process"))
    }

    /// Submitted from another folder (`--queue ../.multirun`, an absolute path or
    /// $MULTIRUN_QUEUE): the task runs once, in the submitter's folder, its output in its log.
    @Test(arguments: ["relative", "absolute", "environment"])
    func aTaskSubmittedFromAnotherFolderRunsOnce(how: String) throws {
        let project = try Project()
        try project.write("sub/jobs.txt", "sh -c \"pwd >> ran.txt; echo hi\"\n")
        var arguments = ["submit", "--commands", "jobs.txt"]
        var environment: [String: String] = [:]
        switch how {
        case "relative": arguments += ["--queue", "../.multirun"]
        case "absolute": arguments += ["--queue", project.path(".multirun")]
        default: environment["MULTIRUN_QUEUE"] = project.path(".multirun")
        }
        let submitter = Process()
        submitter.executableURL = URL(fileURLWithPath: Binaries.multirun)
        submitter.arguments = arguments
        submitter.currentDirectoryURL = URL(fileURLWithPath: project.path("sub"))
        submitter.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        submitter.standardOutput = FileHandle.nullDevice
        try submitter.run()
        submitter.waitUntilExit()
        #expect(submitter.terminationStatus == 0)

        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project)
        let ended = eventually(timeout: 20) { !daemon.process.isRunning }
        if !ended { daemon.signal(SIGKILL) }
        let result = daemon.finish()
        #expect(ended && result.status == 0, "\(result.stderr)")
        #expect(try project.read("sub/ran.txt") == project.path("sub") + "\n")
        #expect(try project.read(".multirun/logs/1-1.log") == "hi\n")
        #expect(try status(project).counts["succeeded"] == 1)
    }

    /// CPU ticks (user + system) a process has used, from /proc/PID/stat.
    func cpuTicks(_ pid: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// `wait` sleeps until the journal changes (its own reads and locks do not wake it),
    /// and Ctrl-C or SIGTERM end it at once with 130 or 143.
    @Test(arguments: [SIGINT, SIGTERM])
    func waitSleepsAndStopsOnASignal(signal: Int32) throws {
        let project = try project(configs: 1)
        _ = try submit(project)
        let waiter = try Launched(Binaries.multirun, ["wait"], in: project)
        // Asleep in poll(2): its CPU time stops growing.
        var last = -1
        #expect(eventually {
            let now = cpuTicks(waiter.pid) ?? -2
            defer { last = now }
            return now == last
        })
        let before = cpuTicks(waiter.pid) ?? 0
        usleep(500_000)  // a window to measure idleness in, not a synchronisation
        let after = cpuTicks(waiter.pid) ?? 0
        #expect(after - before <= 1, "wait used \(after - before) ticks in 0.5 s while idle")
        waiter.signal(signal)
        let result = waiter.finish()
        #expect(result.status == 128 + signal, "\(result.stderr)")
    }

    /// `status` shows a running task's own pid (not 0) and its last log lines, read from
    /// the end of the log: a 20 MB line is cut, not printed whole.
    @Test func statusShowsTheRealPidAndOnlyTheTailOfAHugeLog() throws {
        let project = try Project()
        let gate = try FIFO(project.path("gate"))
        try project.write("jobs.txt", "sh -c 'echo $$ > task.pid; head -c 20000000 /dev/zero | tr \"\\\\0\" x; echo; echo TAIL-MARK; read go < \(gate.path)'\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt"], in: project).status == 0)
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project)
        #expect(eventually(timeout: 30) { ((try? project.read(".multirun/logs/1-1.log")) ?? "").hasSuffix("TAIL-MARK\n") })
        let pid = try project.read("task.pid").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(eventually { ((try? status(project).tasks.first?["pid"]) as? Int).map(String.init) == pid })
        let text = try multirun(["status"], in: project)
        #expect(text.stdout.contains("pid \(pid)"), "\(text.stdout.prefix(2000))")
        #expect(text.stdout.contains("| TAIL-MARK") && text.stdout.utf8.count < 4000, "\(text.stdout.utf8.count) bytes")
        gate.send(lines: 1)
        #expect(daemon.finish().status == 0)
    }

    /// A compaction cut short by a kill leaves its temp file; the next scheduler removes it.
    @Test func aNewSchedulerRemovesAnAbandonedCompaction() throws {
        let project = try project(configs: 1)
        _ = try submit(project)
        try project.write(".multirun/journal.jsonl.tmp-999999", String(repeating: "x", count: 4096))
        try project.write(".multirun/keys.idx.tmp-999998", "+a 1\n")
        let result = try daemon(project, ["-d", "1", "--exit-when-idle"], environment: ["EVENTS": "/dev/null"]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!project.exists(".multirun/journal.jsonl.tmp-999999") && !project.exists(".multirun/keys.idx.tmp-999998"))
        #expect(try status(project).counts["succeeded"] == 1)
    }

    /// A task adopted by a restarted scheduler keeps its --timeout, counted from its start.
    @Test func anAdoptedTaskKeepsItsDeadline() throws {
        let project = try project(configs: 1)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))  // never opened for the task: it waits until stopped
        _ = try submit(project)
        let first = try daemon(project, ["-d", "1", "--timeout", "2", "--grace", "1"], environment: ["EVENTS": events.path, "GATE": gate.path])
        let start = try events.nextLine()
        #expect(start.hasPrefix("start|"))
        first.signal(SIGKILL)
        _ = first.finish()
        let began = Date()
        let second = try daemon(project, ["-d", "1", "--timeout", "2", "--grace", "1", "--exit-when-idle"], environment: ["EVENTS": events.path])
        let ended = eventually(timeout: 20) { !second.process.isRunning }
        if !ended { second.signal(SIGKILL) }
        let result = second.finish()
        #expect(ended && result.status == 0, "\(result.stderr)")
        #expect(Date().timeIntervalSince(began) < 10)
        let task = try #require(try status(project).tasks.first)
        #expect(task["state"] as? String == "timed_out", "\(task)")
    }

    /// The daemon tells a compound line's 128+N exit for what it is, as a one-shot run does.
    @Test func theDaemonReportsASignalTheShellReports() throws {
        let project = try Project()
        try project.write("jobs.txt", "python3 -c 'import os; os.kill(os.getpid(), 9)'; exit $?\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt"], in: project).status == 0)
        let result = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
        #expect(result.status == 0, "\(result.stderr)")
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("The process failed with exit code 137 (the shell reports signal 9, SIGKILL)"), "\(log)")
    }

    /// A task whose submit folder is gone at launch fails saying why, in the scheduler log.
    @Test func aTaskWhoseFolderIsGoneFailsSayingWhy() throws {
        let project = try Project()
        try project.write("gone/jobs.txt", "true\n")
        let submitter = Process()
        submitter.executableURL = URL(fileURLWithPath: Binaries.multirun)
        submitter.arguments = ["submit", "--commands", "jobs.txt", "--queue", project.path(".multirun")]
        submitter.currentDirectoryURL = URL(fileURLWithPath: project.path("gone"))
        submitter.standardOutput = FileHandle.nullDevice
        try submitter.run()
        submitter.waitUntilExit()
        #expect(submitter.terminationStatus == 0)
        try FileManager.default.removeItem(atPath: project.path("gone"))
        let result = try daemon(project, ["-d", "1", "--exit-when-idle"], environment: [:]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("The process could not start (cannot enter \(project.path("gone"))"), "\(log)")
    }
}
