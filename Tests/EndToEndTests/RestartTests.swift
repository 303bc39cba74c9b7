import Foundation
import Testing

/// `multirun restart` through the real binary: failed tasks run again as a new attempt,
/// succeeded ones only with -w; the journal keeps every record.
struct RestartTests {
    func daemon(_ project: Project) throws -> Int32 {
        try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish().status
    }

    @Test func restartFailedRunsANewAttemptAndSucceededNeedsW() throws {
        let project = try Project()
        try project.write("jobs.txt", "/bin/sh -c 'echo try; test -e ok'\n/bin/sh -c 'echo run >> runs.txt'\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt", "--no-env"], in: project).status == 0)
        #expect(try daemon(project) == 0)
        let none = try multirun(["restart", "2"], in: project)
        #expect(none.status == 2 && none.stderr == "multirun: task 2 succeeded; pass -w to run it again\n", "\(none.stderr)")
        let bad = try multirun(["restart"], in: project)
        #expect(bad.status == 2 && bad.stderr.contains("restart needs task ids"))
        let journalBefore = try project.read(".multirun/journal.jsonl")

        try project.write("ok", "")
        let restarted = try multirun(["restart", "--failed"], in: project)
        #expect(restarted.status == 0 && restarted.stdout.hasPrefix("Restarted 1 "), "\(restarted.stdout)\(restarted.stderr)")
        #expect(try multirun(["restart", "1"], in: project).status == 2)  // queued now, not ended
        #expect(try project.read(".multirun/journal.jsonl").hasPrefix(journalBefore))
        #expect(try daemon(project) == 0)
        let status = try JSONSerialization.jsonObject(with: Data(try multirun(["status", "--json"], in: project).stdout.utf8)) as? [String: Any]
        let tasks = status?["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.first?["state"] as? String == "succeeded" && tasks.first?["attempts"] as? Int == 2, "\(tasks)")
        #expect(project.exists(".multirun/logs/1-1.log") && project.exists(".multirun/logs/1-2.log"))
        #expect(try project.read("runs.txt") == "run\n")

        // -w runs a succeeded task again.
        let again = try multirun(["restart", "2", "-w"], in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try daemon(project) == 0)
        #expect(try project.read("runs.txt") == "run\nrun\n")
        #expect(try multirun(["restart", "--failed"], in: project).stdout == "Nothing to restart: no task failed, timed out or was cancelled\n")
    }

    /// The default runner keeps its own record of success (runone's metadata.json): a
    /// succeeded config task restarted with -w must reach it as `runone --overwrite`, or
    /// runone would skip it and the restart would do nothing.
    @Test func restartWRunsASucceededConfigTaskAgainThroughRunone() throws {
        let project = try Project()
        try project.write("configs/a/t.yaml", "command: [sh, -c, \"echo ran >> runs.txt\"]\n")
        #expect(try multirun(["submit", "-c", "a/t"], in: project).status == 0)
        #expect(try daemon(project) == 0)
        #expect(try project.read("runs.txt") == "ran\n")
        let again = try multirun(["restart", "1", "-w"], in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try daemon(project) == 0)
        let log2 = (try? project.read(".multirun/logs/1-2.log")) ?? ""
        #expect(try project.read("runs.txt") == "ran\nran\n", "\(log2)")
        // Only the restarted attempt had -w: the journal says so, the submit did not.
        let journal = try project.read(".multirun/journal.jsonl")
        #expect(journal.contains("\"e\":\"restarted\"") && journal.contains("\"overwrite\":true"))
        #expect(!(try project.read(".multirun/logs/1-1.log")).contains("already holds"))
    }
}
