import Foundation
import Glibc
import Testing

/// Issue 16: --dry-run, --joblog, --on-finish, the terminal's status line, and the word
/// said while a task waits for GPU memory. Through the built binaries, in scratch folders.
@Suite(.serialized)
struct SeeingTests {
    static let cpu = ["-gpu", "false", "-check", "false"]

    /// Every file under the project, relative, sorted.
    func files(_ project: Project) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: project.root)
        var paths: [String] = []
        while let path = enumerator?.nextObject() as? String { paths.append(path) }
        return paths.sorted()
    }

    // MARK: - --dry-run

    @Test func aDryRunPrintsThePlanAndStartsAndWritesNothing() throws {
        let project = try Project()
        for i in 1...3 { try project.write("configs/e/e-\(i).yaml", "n: \(i)\n") }
        try project.write("mark.sh", "#!/bin/sh\ntouch \"ran-$(basename \"$2\")\"\n", executable: true)
        try project.fakeNvidiaSMI(gpus: 2)
        let before = files(project)
        let result = try multirun(["-c", "e/", "-d", "1", "1", "-check", "false", "--dry-run", "--runner", "./mark.sh {gpu} {config}"], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Would start [1/3] on gpu0 slot 0, CUDA_VISIBLE_DEVICES=0: ./mark.sh 0 configs/e/e-1.yaml"), "\(result.stdout)")
        #expect(result.stdout.contains("Would start [2/3] on gpu1 slot 1, CUDA_VISIBLE_DEVICES=1: ./mark.sh 1 configs/e/e-2.yaml"), "\(result.stdout)")
        #expect(result.stdout.contains("Would queue [3/3] until a slot is free: ./mark.sh '{gpu}' configs/e/e-3.yaml"), "\(result.stdout)")
        #expect(result.stdout.contains("Dry run: 3 to run (2 at once at the start), 0 skipped as completed"))
        #expect(!result.stdout.contains("Start the process"))
        // Nothing started, nothing written: no results folder, no marker, no run folder.
        // (The fake nvidia-smi counts its calls in bin/.)
        #expect(files(project).filter { $0 != "bin/nvidia-smi.calls" } == before.filter { $0 != "bin/nvidia-smi.calls" }, "\(files(project))")
        #expect(!project.exists("results"))
    }

    @Test func aDryRunSaysWhatIsSkippedAndWhyAndNeverCountsAnotherRunnersWorkAsDone() throws {
        let project = try Project()
        for i in 1...2 { try project.write("configs/e/e-\(i).yaml", "n: \(i)\n") }
        let trial = try multirun(["-c", "e-1", "-d", "1", "--runner", "echo python train.py"] + Self.cpu, in: project)
        #expect(trial.status == 0, "\(trial.stderr)")
        let marker = try project.read("results/e/e-1/multirun-done.json")
        let runs = project.runFolders()
        // The same runner: e-1 is skipped, and said why.
        let same = try multirun(["-c", "e/", "-d", "1", "--dry-run", "--runner", "echo python train.py"] + Self.cpu, in: project)
        #expect(same.status == 0)
        #expect(same.stdout.contains("Skip configs/e/e-1.yaml: it completed in an earlier run"), "\(same.stdout)")
        #expect(same.stdout.contains("Would start [1/1] on cpu slot 0: echo python train.py -c configs/e/e-2.yaml"), "\(same.stdout)")
        // Another runner: the trial's marker does not count.
        let other = try multirun(["-c", "e/", "-d", "1", "--dry-run", "--runner", "printf %s"] + Self.cpu, in: project)
        #expect(other.stdout.contains("Run configs/e/e-1.yaml again: it completed with another runner"), "\(other.stdout)")
        #expect(other.stdout.contains("Would start [1/2] on cpu slot 0: printf %s -c configs/e/e-1.yaml"), "\(other.stdout)")
        #expect(other.stdout.contains("Dry run: 2 to run"))
        #expect(try project.read("results/e/e-1/multirun-done.json") == marker)
        #expect(project.runFolders() == runs, "a dry run made a run folder")
        #expect(!project.exists("results/e/e-2"))
    }

    @Test func aDryRunRefusesWhatTheRunWouldRefuse() throws {
        let project = try Project()
        try project.write("configs/e/bad.yaml", "command: [echo, hi]\nparams: {a: [}\n")
        let result = try multirun(["-c", "e/", "-d", "1", "--dry-run"] + Self.cpu, in: project)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("multirun: configs/e/bad.yaml:"), "\(result.stderr)")
        #expect(!project.exists("results"))
    }

    // MARK: - --joblog

    static let jobLines = ["true", "sh -c \"exit 3\"", "sh -c 'kill -9 $$'", "echo \"a b\""]

    @Test func theJoblogMatchesGNUParallelFieldByField() throws {
        guard let parallel = ["/usr/bin/parallel", "/usr/local/bin/parallel"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "GNU parallel is not installed (apt-get install parallel)")
            return
        }
        let project = try Project()
        try project.write("jobs.txt", Self.jobLines.joined(separator: "\n") + "\n")
        let ours = try multirun(["--commands", "jobs.txt", "-d", "1", "--joblog", "ours.log"] + Self.cpu, in: project)
        #expect(ours.status == 1, "\(ours.stderr)")
        let theirs = Process()
        theirs.executableURL = URL(fileURLWithPath: parallel)
        theirs.arguments = ["--will-cite", "-j1", "--joblog", project.path("theirs.log"), "-a", project.path("jobs.txt")]
        theirs.currentDirectoryURL = URL(fileURLWithPath: project.root)
        theirs.standardOutput = FileHandle.nullDevice
        theirs.standardError = FileHandle.nullDevice
        try theirs.run()
        theirs.waitUntilExit()
        let a = try project.read("ours.log").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = try project.read("theirs.log").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(a.count == 6 && b.count == 6, "\(a) \(b)")
        #expect(a.first == "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand")
        #expect(a.first == b.first)
        #expect(a.last == "" && b.last == "")
        let start = try Regex("^[0-9]{10}\\.[0-9]{3}$")
        let runtime = try Regex("^ *[0-9]+\\.[0-9]{3}$")
        for (ours, theirs) in zip(a.dropFirst().dropLast(), b.dropFirst().dropLast()) {
            let x = ours.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let y = theirs.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(x.count == 9 && y.count == 9, "\(ours) | \(theirs)")
            guard x.count == 9, y.count == 9 else { continue }
            // Seq, Host, Send, Receive, Exitval, Signal, Command as parallel writes them.
            for field in [0, 1, 4, 5, 6, 7, 8] { #expect(x[field] == y[field], "field \(field): \(ours) | \(theirs)") }
            // Times: the same shapes (epoch seconds with 3 decimals; %10.3f).
            #expect(x[2].wholeMatch(of: start) != nil && y[2].wholeMatch(of: start) != nil, "\(x[2]) \(y[2])")
            #expect(x[3].wholeMatch(of: runtime) != nil && x[3].count == 10 && y[3].count == 10, "'\(x[3])' '\(y[3])'")
        }
        // The failure and the signal, spelled out, in case parallel changes under us.
        #expect(a[2].hasSuffix("\t0\t0\t3\t0\tsh -c \"exit 3\""), "\(a[2])")
        #expect(a[3].hasSuffix("\t0\t0\t0\t9\tsh -c 'kill -9 $$'"), "\(a[3])")
    }

    /// The daemon's joblog: one line per attempt as it ends, Seq the task id, exit codes and
    /// signals as parallel writes them; a later daemon appends (cron starts many).
    @Test func theDaemonWritesAJoblogLinePerAttemptAndAppends() throws {
        let project = try Project()
        try project.write("jobs.txt", Self.jobLines.joined(separator: "\n") + "\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt", "--no-env", "--retries", "1", "--retry-on", "3"], in: project).status == 0)
        let daemon = ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--joblog", "q.log"]
        #expect(try multirun(daemon, in: project).status == 0)
        var lines = try project.read("q.log").split(separator: "\n").map(String.init)
        #expect(lines.first == "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand")
        let fields = lines.dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(fields.map { $0[0] } == ["1", "2", "2", "3", "4"], "\(lines)")
        #expect(fields.map { "\($0[6])/\($0[7])" } == ["0/0", "3/0", "3/0", "0/9", "0/0"], "\(lines)")
        #expect(fields.allSatisfy { $0.count == 9 && $0[1] == ":" && $0[3].count == 10 })
        #expect(fields[4][5] == "4" && fields[4][8] == "echo \"a b\"", "\(fields[4])")
        try project.write("more.txt", "true\n")
        #expect(try multirun(["submit", "--commands", "more.txt", "--no-env"], in: project).status == 0)
        #expect(try multirun(daemon, in: project).status == 0)
        lines = try project.read("q.log").split(separator: "\n").map(String.init)
        #expect(lines.count == 7 && lines.filter { $0.hasPrefix("Seq\t") }.count == 1 && lines.last!.hasPrefix("5\t"), "\(lines)")
    }

    /// `submit --dry-run` says what would be queued, in queue order, and what not and why,
    /// and writes nothing, not even the queue folder.
    @Test func submitDryRunWritesNothing() throws {
        let project = try Project()
        try project.write("configs/d/a.yaml", "command: [/bin/sh, -c, 'exit 0']\n")
        try project.write("configs/d/b.yaml", "command: [/bin/sh, -c, 'exit 0']\npriority: 3\n")
        let dry = try multirun(["submit", "-c", "d/", "-n"], in: project)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout == """
        Dry run: nothing is queued and nothing is written.
        Would queue configs/d/b.yaml (priority 3): runone -c configs/d/b.yaml
        Would queue configs/d/a.yaml: runone -c configs/d/a.yaml
        Dry run: 2 to queue, 0 not queued. Run without --dry-run to submit them.

        """, "\(dry.stdout)")
        #expect(!project.exists(".multirun") && !project.exists("results"))
        #expect(try multirun(["submit", "-c", "d/a"], in: project).status == 0)
        let again = try multirun(["submit", "-c", "d/", "--dry-run", "--priority", "1"], in: project)
        #expect(again.stdout.contains("Would queue configs/d/b.yaml (priority 1): runone -c configs/d/b.yaml\n"), "\(again.stdout)")
        #expect(again.stdout.contains("Would not queue configs/d/a.yaml: already task 1 of queue .multirun"), "\(again.stdout)")
        #expect(again.stdout.hasSuffix("Dry run: 1 to queue, 1 not queued. Run without --dry-run to submit them.\n"))
    }

    @Test func aPlusJoblogAppendsAndAPlainOneStartsAfresh() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\nfalse\n")
        for _ in 0..<2 { _ = try multirun(["--commands", "jobs.txt", "-d", "1", "--joblog", "+j.log"] + Self.cpu, in: project) }
        let appended = try project.read("j.log").split(separator: "\n")
        #expect(appended.count == 5, "\(appended)")
        #expect(appended.filter { $0.hasPrefix("Seq\t") }.count == 1)
        #expect(appended.filter { $0.hasSuffix("\t1\t0\tfalse") }.count == 2)
        _ = try multirun(["--commands", "jobs.txt", "-d", "1", "--joblog", "j.log"] + Self.cpu, in: project)
        #expect(try project.read("j.log").split(separator: "\n").count == 3)
        let bad = try multirun(["--commands", "jobs.txt", "--joblog"] + Self.cpu, in: project)
        #expect(bad.status == 2 && bad.stderr == "multirun: --joblog needs a value: the file GNU parallel's joblog lines are appended to, e.g. --joblog jobs.log\n", "\(bad.stderr)")
    }

    // MARK: - --on-finish

    @Test func theHookGetsTheFactsAndAFailingHookIsSaidOnceAndNeverStopsTheRun() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\nsh -c \"exit 3\"\nsh -c 'kill -9 $$'\n")
        let hook = "echo \"$MULTIRUN_TASK|$MULTIRUN_STATUS|$MULTIRUN_EXIT_CODE|$MULTIRUN_SIGNAL|$MULTIRUN_DEVICE|$MULTIRUN_ATTEMPT|$MULTIRUN_COMMAND|${MULTIRUN_LOG##*/}\" >> hooks.txt; test \"$MULTIRUN_STATUS\" = succeeded"
        let result = try multirun(["--commands", "jobs.txt", "-d", "1", "--on-finish", hook] + Self.cpu, in: project)
        #expect(result.status == 1)
        let lines = try project.read("hooks.txt").split(separator: "\n").map(String.init).sorted()
        #expect(lines == ["1/3|succeeded|0||cpu|1|true|task-1.log",
                          "2/3|failed|3||cpu|1|sh -c \"exit 3\"|task-2.log",
                          "3/3|failed||9|cpu|1|sh -c 'kill -9 $$'|task-3.log"], "\(lines)")
        let warnings = result.stdout.split(separator: "\n").filter { $0.hasPrefix("Warning: the --on-finish hook") }
        #expect(warnings.count == 2, "\(result.stdout)")
        #expect(warnings.allSatisfy { $0.contains("failed with exit code 1 (output: results/runs/") && $0.hasSuffix("; the run goes on") })
        #expect(result.stdout.contains("Done in"))
        // The run's own end lines are the seed's.
        #expect(result.stdout.contains("The process finished: true [1/3]\n"))
    }

    @Test func aHookNeverDelaysTheNextStartAndRunsPastItsLimitOnlyUntilStopped() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        try project.write("jobs.txt", "sh -c 'echo start1 > \"$EVENTS\"'\nsh -c 'echo start2 > \"$EVENTS\"'\n")
        // The first hook blocks until the test releases it; the second starts only after it
        // would have to, if hooks were on the dispatch path.
        let hook = "echo hook$MULTIRUN_TASK > \"$EVENTS\"; read line < \"$GATE\""
        let running = try Launched(Binaries.multirun, ["--commands", "jobs.txt", "-d", "1", "--on-finish", hook] + Self.cpu,
                                   in: project, environment: ["EVENTS": events.path, "GATE": gate.path])
        let seen = try events.lines(until: 4) { _ in true }
        // Task 2 started while hook 1 was still blocked on the gate.
        #expect(seen.contains("start2"), "\(seen)")
        #expect(Set(seen) == ["start1", "hook1/2", "start2", "hook2/2"], "\(seen)")
        gate.send(lines: 2)
        let result = running.finish()
        #expect(result.status == 0, "\(result.stdout)")
        #expect(!result.stdout.contains("Warning"))

        // A hook past --on-finish-timeout is stopped and said; the run still ends 0.
        let slow = try multirun(["--commands", "jobs.txt", "-d", "1", "--on-finish", "read line < \"$GATE\"", "--on-finish-timeout", "0.2", "--grace", "0.1"] + Self.cpu,
                                in: project, environment: ["EVENTS": "/dev/null", "GATE": gate.path])
        #expect(slow.status == 0, "\(slow.stdout)")
        #expect(slow.stdout.split(separator: "\n").filter { $0.contains("ran past --on-finish-timeout and was stopped") }.count == 2, "\(slow.stdout)")
    }

    @Test func ctrlCEndsRunningHooksWithEverythingElse() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        try project.write("jobs.txt", "true\nsh -c 'echo task2 > \"$EVENTS\"; exec sleep 60'\n")
        let hook = "echo $$ > hook.pid; echo hook > \"$EVENTS\"; exec sleep 60"
        let running = try Launched(Binaries.multirun, ["--commands", "jobs.txt", "-d", "1", "--on-finish", hook] + Self.cpu,
                                   in: project, environment: ["EVENTS": events.path])
        _ = try events.lines(until: 2) { _ in true }
        running.signal(SIGINT)
        let result = running.finish()
        #expect(result.status == 130, "\(result.stdout)")
        let pid = try #require(Int32(try project.read("hook.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0 && errno == ESRCH, "the hook outlived multirun")
    }

    @Test func badHookOptionsAreOneLineAndExit2() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\n")
        let empty = try multirun(["--commands", "jobs.txt", "--on-finish", " "] + Self.cpu, in: project)
        #expect(empty.status == 2 && empty.stderr.hasPrefix("multirun: --on-finish: the command is empty;"), "\(empty.stderr)")
        let limit = try multirun(["--commands", "jobs.txt", "--on-finish", "true", "--on-finish-timeout", "soon"] + Self.cpu, in: project)
        #expect(limit.status == 2 && limit.stderr.hasPrefix("multirun: --on-finish-timeout: 'soon' is not a positive number of seconds"), "\(limit.stderr)")
        #expect(!project.exists("results"))
    }

    // MARK: - The status line

    /// Runs multirun under a pseudo-terminal (python3's pty), returning what the terminal
    /// received, raw.
    func underPTY(_ project: Project, _ arguments: [String], environment: [String: String]) throws -> [UInt8] {
        let script = """
        import os, pty, sys
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        out = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        """
        try project.write("under_terminal.py", script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", project.path("under_terminal.py"), Binaries.multirun] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: project.root)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    /// What a terminal shows: \r returns to the line's start, ESC[K erases to its end,
    /// colours are dropped; each finished line is returned.
    static func screenLines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var line: [UInt8] = []
        var column = 0
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x1B, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "[") {
                var j = i + 2
                while j < bytes.count, !(0x40...0x7E).contains(bytes[j]) { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "K") { line.removeSubrange(min(column, line.count)...) }
                i = j + 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\r"): column = 0
            case UInt8(ascii: "\n"):
                lines.append(String(decoding: line, as: UTF8.self))
                line = []
                column = 0
            default:
                if column < line.count { line[column] = byte } else { line.append(byte) }
                column += 1
            }
            i += 1
        }
        if !line.isEmpty { lines.append(String(decoding: line, as: UTF8.self)) }
        return lines
    }

    @Test func onATerminalTheStatusLineNeverGarblesTheSeedLines() throws {
        let project = try Project()
        try project.write("jobs.txt", (1...6).map { "echo \($0)" }.joined(separator: "\n") + "\nfalse\n")
        let raw = try underPTY(project, ["--commands", "jobs.txt", "-d", "2"] + Self.cpu, environment: ["TERM": "xterm", "NO_COLOR": ""])
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.contains("\r\u{1B}[K"), "no status line was drawn: \(text.debugDescription)")
        #expect(text.contains("done, "), "\(text.debugDescription)")
        #expect(text.contains("\u{1B}[31m1 failed\u{1B}[0m"), "failures are red without NO_COLOR")
        let lines = Self.screenLines(raw)
        let seed = lines.filter { !$0.hasPrefix("multirun: ") }
        // Every line the terminal keeps is one of multirun's own, whole.
        for line in seed {
            #expect(line.hasPrefix("Start the process with ") || line.hasPrefix("The process finished: ") || line.hasPrefix("The process failed with exit code 1 (log: ")
                    || line.hasPrefix("Done in "), "garbled: \(line.debugDescription)")
        }
        for k in 1...6 {
            #expect(seed.contains("Start the process with echo \(k)"))
            #expect(seed.filter { $0.hasPrefix("The process finished: echo \(k) [") && $0.hasSuffix("/7]") }.count == 1, "\(seed)")
        }
        // After the end, no status line is left on the screen.
        #expect(lines.last?.hasPrefix("Done in ") == true, "\(lines)")

        let plain = try underPTY(project, ["--commands", "jobs.txt", "-d", "2"] + Self.cpu, environment: ["TERM": "xterm", "NO_COLOR": "1"])
        #expect(!String(decoding: plain, as: UTF8.self).contains("\u{1B}[31m"), "NO_COLOR is respected")
        let dumb = try underPTY(project, ["--commands", "jobs.txt", "-d", "2"] + Self.cpu, environment: ["TERM": "dumb"])
        #expect(!String(decoding: dumb, as: UTF8.self).contains("\u{1B}"), "TERM=dumb draws nothing")
    }

    @Test func withoutATerminalTheOutputIsTheSeedsByteForByte() throws {
        let project = try Project()
        try project.write("jobs.txt", "echo 1\nfalse\n")
        let result = try multirun(["--commands", "jobs.txt", "-d", "1"] + Self.cpu, in: project, environment: ["TERM": "xterm-256color"])
        let run = try #require(project.runFolders().last)
        #expect(result.stderr == "")
        #expect(result.stdout.hasPrefix("""
        Start the process with echo 1
        The process finished: echo 1 [1/2]
        Start the process with false
        The process failed with exit code 1 (log: results/runs/\(run)/logs/task-2.log): false [2/2]
        Done in 
        """), "\(result.stdout.debugDescription)")
        #expect(!result.stdout.contains("\u{1B}") && !result.stdout.contains("\r"))
    }

    // MARK: - The daemon's --on-empty

    @Test func theDaemonRunsOnEmptyWhenItsQueueEmptiesAndAFailureIsOneLine() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\nfalse\n")
        #expect(try multirun(["submit", "--no-env", "--commands", "jobs.txt"], in: project).status == 0)
        let hook = "echo \"$MULTIRUN_EVENT|$(test -d \"$MULTIRUN_QUEUE\" && echo queue)\" >> empty.txt; exit 4"
        let result = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--on-empty", hook], in: project).finish()
        #expect(result.status == 0, "\(result.stderr)")
        // Once, after both tasks ended, before the scheduler exited.
        #expect(try project.read("empty.txt") == "empty|queue\n")
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.components(separatedBy: "Warning: --on-empty failed with exit code 4").count == 2, "\(log)")
        let end = try #require(log.range(of: "Queue is empty; exiting"))
        let ran = try #require(log.range(of: "Queue is empty; running --on-empty"))
        #expect(ran.lowerBound < end.lowerBound)
        // An empty queue at start is not the queue becoming empty: no hook.
        let idle = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--on-empty", hook], in: project).finish()
        #expect(idle.status == 0)
        #expect(try project.read("empty.txt") == "empty|queue\n")
    }

    /// The daemon's --on-finish: once per task, after its last attempt (a retried attempt
    /// runs none), with the facts of that attempt; a failing hook is one line in the
    /// scheduler's log and the queue goes on.
    @Test func theDaemonRunsOnFinishAfterEachTasksLastAttempt() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\n/bin/sh -c 'exit 3'\n")
        #expect(try multirun(["submit", "--no-env", "--commands", "jobs.txt", "--retries", "1"], in: project).status == 0)
        let hook = "echo \"$MULTIRUN_TASK|$MULTIRUN_STATUS|$MULTIRUN_EXIT_CODE|$MULTIRUN_ATTEMPT|$MULTIRUN_DEVICE|$(test -f \"$MULTIRUN_LOG\" && echo log)\" >> finished.txt; test $MULTIRUN_STATUS = succeeded"
        let result = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--on-finish", hook], in: project).finish()
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try project.read("finished.txt").split(separator: "\n").sorted()
        #expect(lines == ["1|succeeded|0|1|cpu|log", "2|failed|3|2|cpu|log"], "\(lines)")
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.components(separatedBy: "Warning: the --on-finish hook for task 2 ").count == 2, "\(log)")
        #expect(log.contains("failed with exit code 1 (output: ") && log.contains("on-finish.log); the scheduler goes on"))
    }

    @Test func hooksBelongToTheirModes() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\n")
        let oneShot = try multirun(["--commands", "jobs.txt", "--on-empty", "true"] + Self.cpu, in: project)
        #expect(oneShot.status == 2 && oneShot.stderr.hasPrefix("multirun: --on-empty does not apply to a one-shot run (multirun -c ...); it belongs to 'daemon'"), "\(oneShot.stderr)")
        let daemon = try multirun(["daemon", "-gpu", "false", "--exit-when-idle", "--dry-run"], in: project)
        #expect(daemon.status == 2 && daemon.stderr.hasPrefix("multirun: --dry-run does not apply to 'multirun daemon'; it belongs to one-shot runs, 'submit'"), "\(daemon.stderr)")
        let submit = try multirun(["submit", "--commands", "jobs.txt", "--on-finish", "true"], in: project)
        #expect(submit.status == 2 && submit.stderr.hasPrefix("multirun: --on-finish does not apply to 'multirun submit'"), "\(submit.stderr)")
        #expect(!project.exists("results"))
    }
}
