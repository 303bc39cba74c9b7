import Foundation
import Glibc
import Testing

/// `--retries`, `--retry-on`, `--halt` and per-config time limits through the built
/// multirun: attempt counts, exit statuses, lines, logs and summary rows.
@Suite(.serialized)
struct RetryHaltEndToEndTests {
    /// flaky.sh NAME FAILS CODE: fails (exit CODE, or `kill` = killed by SIGKILL) the first
    /// FAILS times it runs for NAME, then succeeds. Each run appends a line to runs-NAME.
    let flaky = """
    #!/bin/sh
    n=$(cat "runs-$1" 2>/dev/null | wc -l)
    echo "run $n" >> "runs-$1"
    echo "attempt ${MULTIRUN_ATTEMPT:-none} of $1"
    if [ "$n" -lt "$2" ]; then
      if [ "$3" = kill ]; then kill -9 $$; fi
      exit "$3"
    fi
    exit 0
    """

    func project(_ lines: [String]) throws -> Project {
        let project = try Project()
        try project.write("flaky.sh", flaky, executable: true)
        try project.write("cmds.txt", lines.joined(separator: "\n") + "\n")
        return project
    }

    func csvRows(_ project: Project) throws -> [[String]] {
        let run = try #require(project.runFolders().last)
        return try project.read("results/runs/\(run)/summary.csv").split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func jsonLines(_ project: Project) throws -> [[String: Any]] {
        let run = try #require(project.runFolders().last)
        return try project.read("results/runs/\(run)/tasks.jsonl").split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    @Test func aFlakyTaskRunsAgainAndEveryAttemptIsRecorded() throws {
        let project = try project(["./flaky.sh a 2 3", "./flaky.sh b 0 0"])
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-d", "1", "-check", "false", "--retries", "2"], in: project)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("Start the process with ./flaky.sh a 2 3") }.count == 3)
        #expect(lines.contains("The process failed with exit code 3, retrying (attempt 2 of 3): ./flaky.sh a 2 3"))
        #expect(lines.contains("The process failed with exit code 3, retrying (attempt 3 of 3): ./flaky.sh a 2 3"))
        #expect(lines.contains("The process finished: ./flaky.sh a 2 3 [1/2]"))
        #expect(lines.contains("The process finished: ./flaky.sh b 0 0 [2/2]"))
        // The retry goes first: b starts after a's last attempt.
        let starts = lines.filter { $0.hasPrefix("Start") }
        #expect(starts.last == "Start the process with ./flaky.sh b 0 0")
        #expect(try project.read("runs-a").split(separator: "\n").count == 3)
        #expect(lines.last?.hasPrefix("Done in") == true && lines.last?.contains("2 succeeded, 0 failed") == true)

        let rows = try csvRows(project)
        #expect(rows[0] == ["task", "config", "command", "device", "slot", "pid", "start", "end", "duration_s", "exit_code", "signal", "status", "log", "error", "attempt"])
        let body = rows.dropFirst().map { [$0[0], $0[9], $0[11], $0[14]] }
        #expect(body == [["1", "3", "failed", "1"], ["1", "3", "failed", "2"], ["1", "0", "succeeded", "3"], ["2", "0", "succeeded", "1"]])
        let json = try jsonLines(project)
        #expect(json.map { $0["attempt"] as? Int } == [1, 2, 3, 1])
        #expect(json.map { $0["retried"] as? Bool } == [true, true, false, false])
        // Each attempt has its own log, and the task saw its attempt number.
        let logs = json.compactMap { $0["log"] as? String }
        #expect(Set(logs).count == 4)
        #expect(try project.read(logs[0]).contains("attempt 1 of a"))
        #expect(try project.read(logs[1]).contains("attempt 2 of a"))
        #expect(logs[1].hasSuffix(".attempt-2.log") && logs[2].hasSuffix(".attempt-3.log"))
    }

    @Test func retriesRunOutAndTheLastAttemptsLineCountsTheTask() throws {
        let project = try project(["./flaky.sh a 5 4"])
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-check", "false", "--retries", "1"], in: project)
        #expect(result.status == 1)
        #expect(result.stdout.contains("The process failed with exit code 4, retrying (attempt 2 of 2): ./flaky.sh a 5 4\n"))
        #expect(result.stdout.contains("The process failed with exit code 4 (log: "))
        #expect(result.stdout.contains("./flaky.sh a 5 4 [1/1]"))
        #expect(result.stdout.contains("0 succeeded, 1 failed"))
        #expect(try project.read("runs-a").split(separator: "\n").count == 2)
    }

    @Test func retryOnTakesOnlyTheCodesGivenAndASignalAs128PlusN() throws {
        let project = try project(["./flaky.sh k 1 kill", "./flaky.sh e 1 3"])
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-check", "false", "--retries", "3", "--retry-on", "137,143"], in: project)
        #expect(result.status == 1)
        #expect(result.stdout.contains("The process was killed by signal 9 (SIGKILL), retrying (attempt 2 of 4): ./flaky.sh k 1 kill"))
        #expect(result.stdout.contains("The process finished: ./flaky.sh k 1 kill [1/2]"))
        #expect(result.stdout.contains("./flaky.sh e 1 3 [2/2]"))
        #expect(!result.stdout.contains("retrying (attempt 2 of 4): ./flaky.sh e"))
        #expect(try project.read("runs-k").split(separator: "\n").count == 2)
        #expect(try project.read("runs-e").split(separator: "\n").count == 1)
    }

    @Test func haltSoonStartsNothingMoreAndSaysWhy() throws {
        let project = try project(["./flaky.sh a 1 3", "./flaky.sh b 0 0", "./flaky.sh c 0 0"])
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-check", "false", "--halt", "soon,fail=1"], in: project)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("Halting (--halt soon,fail=1: 1 task failed): starting no more tasks"))
        #expect(lines.last?.hasPrefix("Halted (--halt soon,fail=1: 1 task failed) after ") == true)
        #expect(lines.last?.contains("0 succeeded, 1 failed, 0 timed out, 0 skipped, 0 interrupted, 2 not started") == true)
        #expect(!project.exists("runs-b") && !project.exists("runs-c"))
        let summary = try project.latestSummary()
        #expect(summary.map { $0["status"] as? String } == ["failed", "not_started", "not_started"])
    }

    @Test func haltNowStopsRunningTasks() throws {
        let project = try project(["sleep 60", "./flaky.sh a 1 3", "./flaky.sh b 0 0"])
        let started = Date()
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-d", "2", "-check", "false", "--halt", "now,fail=1", "--grace", "5"], in: project)
        #expect(Date().timeIntervalSince(started) < 30, "the sleeping task was stopped")
        #expect(result.status == 1)
        #expect(result.stdout.contains("Halting (--halt now,fail=1: 1 task failed): stopping 1 running task(s); they will run again next time"))
        #expect(result.stdout.contains("The process was interrupted: sleep 60 ["))
        let summary = try project.latestSummary()
        #expect(summary.map { $0["status"] as? String } == ["interrupted", "failed", "not_started"])
    }

    @Test func haltOnSuccessExitsZero() throws {
        let project = try project(["./flaky.sh a 0 0", "./flaky.sh b 0 0"])
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-check", "false", "--halt", "soon,success=1"], in: project)
        #expect(result.status == 0)
        #expect(result.stdout.contains("Halted (--halt soon,success=1: 1 task succeeded) after "))
        #expect(!project.exists("runs-b"))
    }

    /// A config's `resources: {time:}` overrides --timeout; a retried config completes and
    /// the next run skips it (resume is not weakened).
    @Test func configTimeLimitsAndRetriedConfigsResume() throws {
        let project = try Project()
        try project.write("flaky.sh", flaky, executable: true)
        try project.write("configs/t/slow.yaml", "resources: {time: 1s}\n")
        try project.write("configs/t/flaky.yaml", "resources: {time: '0-00:10:00'}\n")
        try project.write("task.sh", """
        #!/bin/sh
        case "$1" in
          *slow*) exec sleep 60 ;;
          *) exec ./flaky.sh f 1 3 ;;
        esac
        """, executable: true)
        let arguments = ["-c", "t/", "-gpu", "false", "-d", "2", "-check", "false", "--runner", "./task.sh {config}", "--timeout", "1h", "--retries", "1", "--retry-on", "3"]
        let first = try multirun(arguments, in: project)
        #expect(first.status == 1)
        #expect(first.stdout.contains("The process failed with exit code 3, retrying (attempt 2 of 2): ./task.sh configs/t/flaky.yaml"))
        #expect(first.stdout.contains("The process finished: ./task.sh configs/t/flaky.yaml ["))
        // The timeout (124) is not in --retry-on: one attempt.
        #expect(first.stdout.contains("The process timed out and was stopped (log: "))
        #expect(project.exists("results/t/flaky/multirun-done.json"))
        #expect(!project.exists("results/t/slow/multirun-done.json"))
        try project.write("configs/t/slow.yaml", "resources: {time: 0.2s}\n")
        let second = try multirun(arguments, in: project)
        #expect(second.stdout.contains("Skip configs/t/flaky.yaml") || second.stdout.contains("flaky.yaml: it already completed") || !second.stdout.contains("Start the process with configs/t/flaky.yaml"))
        #expect(!second.stdout.contains("Start the process with configs/t/flaky.yaml"))
        #expect(try project.read("runs-f").split(separator: "\n").count == 2, "the completed config never ran again")
        #expect(second.stdout.contains("[1/1]"))
    }

    @Test func badRetryAndHaltFlagsStartNothing() throws {
        let project = try project(["./flaky.sh a 0 0"])
        for (arguments, message) in [
            (["--retries", "x"], "multirun: --retries: 'x' is not a number of retries from 0 to 1000; e.g. --retries 2 runs a failed task at most twice more"),
            (["--halt", "soon"], "multirun: --halt: 'soon' is not a halt rule; write now or soon, then fail= or success= a count (1 or more) or a percentage (1% to 100%), e.g. --halt soon,fail=3 or --halt now,fail=10%"),
            (["--timeout", "1-25:00:00"], "multirun: --timeout: '1-25:00:00' is not a positive number of seconds (90) or a time limit such as 30s, 45m, 2h, 1d or HH:MM:SS (also D-HH:MM:SS); e.g. --timeout 90m"),
        ] {
            let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-check", "false"] + arguments, in: project)
            #expect(result.status == 2)
            #expect(result.stderr == message + "\n")
            #expect(!project.exists("runs-a"))
        }
    }
}

/// The same through submit and the daemon.
@Suite(.serialized)
struct QueueRetryHaltEndToEndTests {
    func project(_ lines: [String]) throws -> Project {
        let project = try Project()
        try project.write("flaky.sh", RetryHaltEndToEndTests().flaky, executable: true)
        try project.write("cmds.txt", lines.joined(separator: "\n") + "\n")
        return project
    }

    func journal(_ project: Project) throws -> [[String: Any]] {
        try project.read(".multirun/journal.jsonl").split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    @Test func theDaemonRetriesAndJournalsEveryAttempt() throws {
        let project = try project(["./flaky.sh a 2 3", "./flaky.sh b 9 3"])
        let submitted = try multirun(["submit", "--commands", "cmds.txt", "--retries", "2"], in: project)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
        #expect(daemon.status == 0, "\(daemon.stderr)")
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("The process failed with exit code 3, retrying (attempt 2 of 3): ./flaky.sh a 2 3\n"))
        #expect(log.contains("The process failed with exit code 3, retrying (attempt 3 of 3): ./flaky.sh a 2 3\n"))
        #expect(log.contains("The process finished: ./flaky.sh a 2 3 [1/2]"))
        #expect(log.contains("./flaky.sh b 9 3 [2/2]"))
        #expect(try project.read("runs-a").split(separator: "\n").count == 3)
        #expect(try project.read("runs-b").split(separator: "\n").count == 3)
        let ends = try journal(project).filter { $0["e"] as? String == "ended" }
        #expect(ends.map { "\($0["id"]!)-\($0["attempt"]!)-\($0["status"]!)" } ==
                ["1-1-failed", "1-2-failed", "1-3-succeeded", "2-1-failed", "2-2-failed", "2-3-failed"])
        #expect(project.exists(".multirun/logs/1-2.log") && project.exists(".multirun/logs/1-3.log"))
        // Resubmitting the succeeded line adds nothing; the failed one may be submitted again.
        let again = try multirun(["submit", "--commands", "cmds.txt", "--retries", "2"], in: project)
        #expect(again.stdout.contains("./flaky.sh b 9 3") && again.status == 0)
    }

    @Test func daemonHaltSoonLeavesTheRestQueuedForTheNextStart() throws {
        let project = try project(["./flaky.sh a 1 3", "./flaky.sh b 0 0", "./flaky.sh c 0 0"])
        #expect(try multirun(["submit", "--commands", "cmds.txt"], in: project).status == 0)
        let halted = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle", "--halt", "soon,fail=1"], in: project).finish()
        #expect(halted.status == 1)
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("Halting (--halt soon,fail=1: 1 task failed): starting no more tasks; 0 running task(s) will finish"))
        #expect(log.contains("Halted (--halt soon,fail=1: 1 task failed); queued tasks stay queued for the next start"))
        #expect(!project.exists("runs-b") && !project.exists("runs-c"))
        let status = try multirun(["status", "--json"], in: project)
        let counts = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["counts"] as? [String: Int])
        #expect(counts["queued"] == 2 && counts["failed"] == 1)
        // Resume: the next scheduler runs what the halt left, and nothing twice.
        let resumed = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
        #expect(resumed.status == 0)
        #expect(try project.read("runs-a").split(separator: "\n").count == 1)
        #expect(try project.read("runs-b").split(separator: "\n").count == 1 && project.exists("runs-c"))
    }

    @Test func daemonHaltNowStopsRunningTasksAndQueuesThemAgain() throws {
        let project = try project(["sleep 60", "./flaky.sh a 1 3"])
        #expect(try multirun(["submit", "--commands", "cmds.txt"], in: project).status == 0)
        let started = Date()
        let halted = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "2", "--exit-when-idle", "--halt", "now,fail=1", "--grace", "5"], in: project).finish()
        #expect(Date().timeIntervalSince(started) < 30, "the sleeping task was stopped")
        #expect(halted.status == 1)
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("Halting (--halt now,fail=1: 1 task failed): stopping 1 running task(s); they are queued again"))
        let status = try multirun(["status", "--json"], in: project)
        let counts = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["counts"] as? [String: Int])
        #expect(counts["queued"] == 1 && counts["failed"] == 1)
    }

    @Test func retriesBelongToSubmitAndHaltToTheDaemon() throws {
        let project = try project(["./flaky.sh a 0 0"])
        let submit = try multirun(["submit", "--commands", "cmds.txt", "--halt", "soon,fail=1"], in: project)
        #expect(submit.status == 2)
        #expect(submit.stderr == "multirun: --halt does not apply to 'multirun submit'; it belongs to one-shot runs, 'daemon' (see 'multirun help submit')\n")
        let daemon = try multirun(["daemon", "-gpu", "false", "--exit-when-idle", "--retries", "1"], in: project)
        #expect(daemon.status == 2)
        #expect(daemon.stderr == "multirun: --retries does not apply to 'multirun daemon'; it belongs to one-shot runs, 'submit' (see 'multirun help daemon')\n")
        let journal = (try? project.read(".multirun/journal.jsonl")) ?? ""
        #expect(!journal.contains("submitted"))
        #expect(!project.exists("runs-a"))
    }

    @Test func daemonAppliesAConfigsTimeLimit() throws {
        let project = try Project()
        try project.write("configs/t/slow.yaml", "resources: {time: 0.5s}\n")
        try project.write("task.sh", "#!/bin/sh\nexec sleep 60\n", executable: true)
        #expect(try multirun(["submit", "-c", "t/", "--runner", "./task.sh {config}"], in: project).status == 0)
        let started = Date()
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "--exit-when-idle", "--timeout", "1h", "--grace", "1"], in: project).finish()
        #expect(daemon.status == 0)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try project.read(".multirun/scheduler.log").contains("The process timed out and was stopped"))
    }
}
