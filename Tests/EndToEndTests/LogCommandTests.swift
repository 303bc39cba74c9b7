import Foundation
import Testing

/// `multirun log ID` and `multirun log CONFIG` through the real binary.
struct LogCommandTests {
    @Test func logOfAQueuedTaskAndOfAOneShotConfig() throws {
        let project = try Project()
        try project.write("jobs.txt", "/bin/sh -c 'for i in 1 2 3 4 5; do echo line-$i; done; exit 4'\n/bin/sh -c 'echo only'\n")
        let submitted = try multirun(["submit", "--commands", "jobs.txt", "--no-env"], in: project)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        // Not started yet: said so, no log.
        let early = try multirun(["log", "1"], in: project)
        #expect(early.status == 0 && early.stdout.contains("Task 1 ("), "\(early.stdout)\(early.stderr)")
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
        #expect(daemon.status == 0, "\(daemon.stderr)")
        let last2 = try multirun(["log", "1", "-n", "2"], in: project)
        #expect(last2.status == 0 && last2.stdout == "line-4\nline-5\n", "\(last2.stdout)\(last2.stderr)")
        let all = try multirun(["log", "1"], in: project)
        #expect(all.stdout == "line-1\nline-2\nline-3\nline-4\nline-5\n")
        // -f on an ended task prints what is there and returns.
        let followed = try multirun(["log", "2", "-f"], in: project)
        #expect(followed.status == 0 && followed.stdout == "only\n", "\(followed.stdout)\(followed.stderr)")
        // status names the failure and a log that exists.
        let status = try multirun(["status"], in: project)
        #expect(status.stdout.contains("1  failed (exit 4)"), "\(status.stdout)")
        #expect(status.stdout.contains("log: .multirun/logs/1-1.log") || status.stdout.contains("/.multirun/logs/1-1.log"), "\(status.stdout)")
        #expect(project.exists(".multirun/logs/1-1.log"))

        let unknown = try multirun(["log", "9"], in: project)
        #expect(unknown.status == 2 && unknown.stderr == "multirun: no task 9 in queue .multirun; see multirun status for the ids\n", "\(unknown.stderr)")
        let bad = try multirun(["log", "1", "-n", "x"], in: project)
        #expect(bad.status == 2 && bad.stderr.contains("-n 'x' is not a number of lines"))

        try project.write("configs/c/a.yaml", "command: [/bin/sh, -c, 'echo first; echo second']\n")
        #expect(try multirun(["-c", "c/a", "-gpu", "false", "-check", "false"], in: project).status == 0)
        let oneShot = try multirun(["log", "configs/c/a.yaml", "-n", "1"], in: project)
        #expect(oneShot.status == 0, "\(oneShot.stderr)")
        #expect(oneShot.stdout.hasSuffix("/logs/configs/c/a.yaml.log <==\nsecond\n"), "\(oneShot.stdout)")
        let none = try multirun(["log", "configs/c/none.yaml"], in: project)
        #expect(none.status == 2 && none.stderr.contains("no log of 'configs/c/none.yaml'"))
    }
}
