import Foundation
import Glibc
import Testing

/// `multirun log CONFIG` (-f, retries), `multirun log ID` of a task that never started,
/// and `--joblog +FILE`, through the built binaries.
struct LogAndJoblogTests {
    static let cpu = ["-gpu", "false", "-check", "false"]

    /// Bug 10: `log CONFIG -f` follows a one-shot task that still runs (its results
    /// folder's attempt record is locked) until it ends, as `log ID -f` does.
    @Test func logConfigFollowsARunningOneShotTask() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        let followed = try FIFO(project.path("followed"))
        try project.write("configs/c/a.yaml", "command: [/bin/sh, -c, 'echo first; echo started > \(project.path("events")); read line < \(project.path("gate")); echo second']\n")
        let run = try Launched(Binaries.multirun, ["-c", "c/a"] + Self.cpu, in: project)
        #expect(try events.nextLine() == "started")
        // The follower writes into a FIFO the test reads line by line.
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: Binaries.multirun)
        follower.arguments = ["log", "configs/c/a.yaml", "-f"]
        follower.currentDirectoryURL = URL(fileURLWithPath: project.root)
        guard let output = FileHandle(forWritingAtPath: followed.path) else { throw POSIXError(.EIO) }
        follower.standardOutput = output
        follower.standardError = FileHandle.standardError
        try follower.run()
        let header = try followed.nextLine()
        #expect(header.hasPrefix("==> ") && header.hasSuffix("/logs/configs/c/a.yaml.log <=="), "\(header)")
        #expect(try followed.nextLine() == "first")
        // Only now may the task go on: what it writes next reaches the follower.
        gate.send(lines: 1)
        #expect(try followed.nextLine() == "second")
        follower.waitUntilExit()
        #expect(follower.terminationStatus == 0)
        #expect(run.finish().status == 0)
        // Once it ended, -f prints and returns.
        let after = try multirun(["log", "configs/c/a.yaml", "-f"], in: project)
        #expect(after.status == 0 && after.stdout.hasSuffix("first\nsecond\n"), "\(after.stdout)\(after.stderr)")
    }

    /// Bug 11: after retries `log CONFIG` shows the newest attempt's log, the one the
    /// failure line names.
    @Test func logConfigShowsTheLastAttempt() throws {
        let project = try Project()
        let count = project.path("count")
        try project.write("configs/c/f.yaml", "command: [/bin/sh, -c, 'n=$(cat \(count) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(count); echo try-$n; exit 3']\n")
        let run = try multirun(["-c", "c/f", "--retries", "2"] + Self.cpu, in: project)
        #expect(run.status == 1, "\(run.stderr)")
        let log = try multirun(["log", "configs/c/f.yaml"], in: project)
        #expect(log.status == 0, "\(log.stderr)")
        #expect(log.stdout.hasSuffix("/logs/configs/c/f.yaml.attempt-3.log <==\ntry-3\n"), "\(log.stdout)")
        #expect(run.stdout.contains("f.yaml.attempt-3.log"), "\(run.stdout)")
    }

    /// Bug 12: a queued task that ended without starting (dependency_failed) has no log,
    /// and says so at once, with -f too.
    @Test func logOfATaskThatEndedWithoutStarting() throws {
        let project = try Project()
        try project.write("jobs.txt", "exit 3\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt", "--no-env"], in: project).status == 0)
        try project.write("more.txt", "echo never\n")
        #expect(try multirun(["submit", "--commands", "more.txt", "--no-env", "--after", "1"], in: project).status == 0)
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
        #expect(daemon.status == 0, "\(daemon.stderr)")
        for extra in [[], ["-f"]] {
            let log = try multirun(["log", "2"] + extra, in: project)
            #expect(log.status == 1, "\(extra) \(log.stdout)\(log.stderr)")
            #expect(log.stderr == "multirun: task 2 (echo never) ended as dependency_failed without starting, so it has no log\n", "\(log.stderr)")
            #expect(log.stdout.isEmpty)
        }
    }

    /// Bug 13: `--joblog +FILE` appends: a last line without a line break is ended, never
    /// cut off.
    @Test func joblogAppendKeepsAnUnterminatedLastLine() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\n")
        try project.write("jobs.log", "Seq\tHost\nmy own line")
        let run = try multirun(["--commands", "jobs.txt", "-d", "1", "--joblog", "+jobs.log"] + Self.cpu, in: project)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try project.read("jobs.log").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4, "\(lines)")
        #expect(Array(lines.prefix(2)) == ["Seq\tHost", "my own line"])
        #expect(lines[2].hasPrefix("1\t:\t") && lines[2].hasSuffix("\ttrue"), "\(lines)")
        #expect(lines[3] == "")
        // A terminated file gets no blank line.
        #expect(try multirun(["--commands", "jobs.txt", "-d", "1", "--joblog", "+jobs.log"] + Self.cpu, in: project).status == 0)
        #expect(try project.read("jobs.log").split(separator: "\n").count == 4)
    }
}
