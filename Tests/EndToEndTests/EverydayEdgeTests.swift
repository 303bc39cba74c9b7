import Foundation
import Glibc
import Testing

/// The everyday features where a tester broke them: attempts in the joblog and hooks,
/// hooks and stops, the status line with retries, dependencies in dry runs and against
/// edited prerequisites, refusals that must leave nothing behind.
@Suite(.serialized)
struct EverydayEdgeTests {
    static let cpu = ["-gpu", "false", "-check", "false"]

    /// A one-shot run's joblog has a line per attempt (Seq the task's number) and its hook
    /// runs once, after the last attempt, with that attempt's number.
    @Test func joblogLinePerAttemptAndOneHookAfterTheLast() throws {
        let project = try Project()
        try project.write("jobs.txt", "sh -c \"exit 3\"\n")
        let run = try multirun(["--commands", "jobs.txt", "--retries", "2", "--joblog", "jl.txt",
                                "--on-finish", "echo $MULTIRUN_ATTEMPT $MULTIRUN_STATUS >> hook.txt"] + Self.cpu, in: project)
        #expect(run.status == 1, "\(run.stderr)")
        let lines = try project.read("jl.txt").split(separator: "\n").dropFirst()
        #expect(lines.count == 3 && lines.allSatisfy { $0.hasPrefix("1\t:\t") && $0.contains("\t3\t0\tsh -c \"exit 3\"") }, "\(lines)")
        #expect(try project.read("hook.txt") == "3 failed\n")
    }

    /// Ctrl-C ends a running hook with the tasks: the run does not wait out the hook.
    @Test func ctrlCEndsARunningHook() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        try project.write("jobs.txt", "true\nsleep 60\n")
        let began = Date()
        let running = try Launched(Binaries.multirun, ["--commands", "jobs.txt", "-d", "2", "--on-finish", "echo hook > \"$EVENTS\"; sleep 60"] + Self.cpu,
                                   in: project, environment: ["EVENTS": events.path])
        _ = try events.lines(until: 1) { $0 == "hook" }
        running.signal(SIGINT)
        let result = running.finish()
        #expect(result.status == 130, "\(result.stdout)\(result.stderr)")
        #expect(Date().timeIntervalSince(began) < 30, "the run waited for its hook")
        #expect(!result.stdout.contains("on-finish hook for [2/2]"), "a hook started after the stop")
    }

    /// `daemon --halt`: the task that made it halt still gets its hook, and its end line
    /// comes before the halt line.
    @Test func daemonHaltRunsTheHookOfTheTaskThatHaltedIt() throws {
        let project = try Project()
        try project.write("jobs.txt", "sh -c \"exit 3\"\ntrue\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt", "--no-env"], in: project).status == 0)
        let run = try multirun(["daemon", "-gpu", "false", "-d", "1", "--halt", "now,fail=1", "--on-finish", "echo $MULTIRUN_TASK $MULTIRUN_STATUS >> hook.txt"], in: project)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try project.read("hook.txt") == "1 failed\n")
        let log = try project.read(".multirun/scheduler.log")
        let failed = try #require(log.range(of: "The process failed with exit code 3"))
        let halting = try #require(log.range(of: "Halting ("))
        #expect(failed.lowerBound < halting.lowerBound, "\(log)")
    }

    /// On a terminal, a retried attempt's line is a line of its own, and the status line's
    /// running count comes back to 0.
    @Test func retriesOnATerminalKeepLinesWholeAndCountsRight() throws {
        let project = try Project()
        try project.write("jobs.txt", "echo 1\necho 2\nsh -c \"exit 2\"\necho 3\n")
        let raw = try SeeingTests().underPTY(project, ["--commands", "jobs.txt", "-d", "2", "--retries", "1"] + Self.cpu,
                                             environment: ["TERM": "xterm", "NO_COLOR": "1"])
        let lines = SeeingTests.screenLines(raw).filter { !$0.hasPrefix("multirun: ") }
        #expect(lines.contains("The process failed with exit code 2, retrying (attempt 2 of 2): sh -c \"exit 2\""), "\(lines)")
        for line in lines {
            #expect(line.hasPrefix("Start the process with ") || line.hasPrefix("The process ") || line.hasPrefix("Done in "), "garbled: \(line.debugDescription)")
        }
        let text = String(decoding: raw, as: UTF8.self)
        let drawn = text.components(separatedBy: "\r\u{1B}[K").filter { $0.hasPrefix("multirun: ") }
        #expect(drawn.last?.hasPrefix("multirun: 4/4 done, 0 running, 0 queued") == true, "\(drawn.suffix(3))")
        #expect(!drawn.contains { $0.contains(" 3 running") }, "more running than slots: \(drawn)")
    }

    /// A dry run's first wave leaves out what waits for another task.
    @Test func dryRunFirstWaveHonoursAfter() throws {
        let project = try Project()
        try project.write("configs/x/a.yaml", "command: [/bin/sh, -c, 'exit 0']\n")
        try project.write("configs/x/c.yaml", "command: [/bin/sh, -c, 'exit 0']\nafter: [a]\n")
        try project.write("configs/x/d.yaml", "command: [/bin/sh, -c, 'exit 0']\nafter: [c]\npriority: 10\n")
        let dry = try multirun(["-c", "x/", "-gpu", "false", "-d", "1", "-n"], in: project)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("Would start [") && dry.stdout.contains("on cpu slot 0: runone -c configs/x/a.yaml\n"), "\(dry.stdout)")
        #expect(dry.stdout.contains("until configs/x/c.yaml succeeded: runone -c configs/x/d.yaml"), "\(dry.stdout)")
    }

    /// A prerequisite edited since it completed has not completed as it is now.
    @Test func anEditedPrerequisiteIsNotComplete() throws {
        let project = try Project()
        try project.write("configs/x/a.yaml", "command: [/bin/sh, -c, 'exit 0']\n")
        try project.write("configs/x/c.yaml", "command: [/bin/sh, -c, 'echo c >> ran.txt']\nafter: [a]\n")
        #expect(try multirun(["-c", "x/a"] + Self.cpu, in: project).status == 0)
        try project.write("configs/x/a.yaml", "command: [/bin/sh, -c, 'exit 0; echo edited']\n")
        let refused = try multirun(["-c", "x/c"] + Self.cpu, in: project)
        #expect(refused.status == 2 && refused.stderr.contains("which -c did not select and which has not completed"), "\(refused.stderr)")
        #expect(!project.exists("ran.txt"))
    }

    /// Refusals leave nothing behind: no queue folder, no run folder.
    @Test func refusalsWriteNothing() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\n")
        let after = try multirun(["submit", "--commands", "jobs.txt", "--after", "99"], in: project)
        #expect(after.status == 2 && after.stderr.contains("has no task 99"), "\(after.stderr)")
        #expect(!project.exists(".multirun"))
        let joblog = try multirun(["--commands", "jobs.txt", "--joblog", "/nonexistent/j.txt"] + Self.cpu, in: project)
        #expect(joblog.status == 2 && joblog.stderr.hasPrefix("multirun: --joblog: "), "\(joblog.stderr)")
        #expect(!project.exists("results/runs"))
        let empty = try multirun(["--commands", "jobs.txt", "--results", ""] + Self.cpu, in: project)
        #expect(empty.status == 2 && empty.stderr.contains("--results: the folder name is empty"), "\(empty.stderr)")
        let emptyDry = try multirun(["--commands", "jobs.txt", "--results", "", "-n"] + Self.cpu, in: project)
        #expect(emptyDry.status == 2)
    }

    /// After `restart -w`, the daemon's lines show the command as it ran, with -w.
    @Test func restartWShowsTheCommandAsItRan() throws {
        let project = try Project()
        try project.write("configs/k.yaml", "command: [/bin/sh, -c, 'exit 0']\n")
        try project.write("r.sh", "#!/bin/sh\necho \"$@\" >> args.txt\n", executable: true)
        #expect(try multirun(["submit", "-c", "k", "--runner", "./r.sh --ow {overwrite?True:False} -c {config}"], in: project).status == 0)
        let daemon = ["daemon", "-gpu", "false", "--exit-when-idle"]
        #expect(try multirun(daemon, in: project).status == 0)
        #expect(try multirun(["restart", "1", "-w"], in: project).status == 0)
        #expect(try multirun(daemon, in: project).status == 0)
        #expect(try project.read("args.txt") == "--ow False -c configs/k.yaml\n--ow True -c configs/k.yaml\n")
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("The process finished: ./r.sh --ow False -c configs/k.yaml [1/1]") && log.contains("The process finished: ./r.sh --ow True -c configs/k.yaml [1/1]"), "\(log)")
    }
}
