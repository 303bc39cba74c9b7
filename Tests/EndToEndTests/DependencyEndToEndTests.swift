import Foundation
import Testing

/// `priority:` and `after:` through the real binaries: the order of starts, statuses,
/// the closing line and the exit code; refusals before anything starts.
struct DependencyEndToEndTests {
    func config(_ project: Project, _ name: String, exit code: Int, extra: String = "") throws {
        try project.write("configs/p/\(name).yaml", "command: [/bin/sh, -c, 'exit \(code)']\n" + extra)
    }

    func starts(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").filter { $0.hasPrefix("Start the process with ") }.map { String($0.dropFirst(23)) }
    }

    @Test func priorityOrdersStartsAndAFailedPrerequisiteEndsItsDependants() throws {
        let project = try Project()
        try config(project, "a", exit: 3)
        try config(project, "b", exit: 0, extra: "after: [a]\n")
        try config(project, "c", exit: 0, extra: "after: p/b\n")
        try config(project, "d", exit: 0, extra: "priority: 5\n")
        try config(project, "e", exit: 0, extra: "after: [configs/p/d.yaml]\npriority: -1\n")
        try config(project, "f", exit: 0)
        let result = try multirun(["-c", "p/", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(starts(result.stdout) == ["configs/p/d.yaml", "configs/p/a.yaml", "configs/p/f.yaml", "configs/p/e.yaml"], "\(result.stdout)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("The process did not run (configs/p/a.yaml, which it runs after, did not succeed): configs/p/b.yaml [3/6]"), "\(result.stdout)")
        #expect(lines.contains("The process did not run (configs/p/a.yaml, which it runs after, did not succeed): configs/p/c.yaml [4/6]"), "\(result.stdout)")
        #expect(result.stdout.contains("3 succeeded, 1 failed, 0 timed out, 0 skipped, 0 interrupted, 0 not started, 2 dependency failed."), "\(result.stdout)")
        let statuses = Dictionary(uniqueKeysWithValues: try project.latestSummary().map { ($0["config"] as? String ?? "", $0["status"] as? String ?? "") })
        #expect(statuses == ["configs/p/a.yaml": "failed", "configs/p/b.yaml": "dependency_failed", "configs/p/c.yaml": "dependency_failed",
                             "configs/p/d.yaml": "succeeded", "configs/p/e.yaml": "succeeded", "configs/p/f.yaml": "succeeded"])
        #expect(!project.exists("results/p/b") && !project.exists("results/p/c"))

        // a fixed: the next run skips d, e, f and runs a, then b, then c.
        try config(project, "a", exit: 0)
        let again = try multirun(["-c", "p/", "-gpu", "false", "-d", "2", "-check", "false"], in: project)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(starts(again.stdout) == ["configs/p/a.yaml", "configs/p/b.yaml", "configs/p/c.yaml"], "\(again.stdout)")
    }

    /// A dependency that completed earlier counts as met even when -c does not select it;
    /// one that did not complete and is not selected is refused.
    @Test func unselectedDependencyMustHaveCompleted() throws {
        let project = try Project()
        try config(project, "a", exit: 0)
        try config(project, "b", exit: 0, extra: "after: [a]\n")
        let refused = try multirun(["-c", "p/b", "-gpu", "false", "-check", "false"], in: project)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("after: 'a' is configs/p/a.yaml, which -c did not select and which has not completed; add it to -c, or run it first"), "\(refused.stderr)")
        #expect(starts(refused.stdout).isEmpty && !project.exists("results/p"))
        #expect(try multirun(["-c", "p/a", "-gpu", "false", "-check", "false"], in: project).status == 0)
        let run = try multirun(["-c", "p/b", "-gpu", "false", "-check", "false"], in: project)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(starts(run.stdout) == ["configs/p/b.yaml"])
    }

    @Test func cyclesAmbiguousStemsAndUnknownNamesAreRefused() throws {
        let project = try Project()
        try config(project, "x", exit: 0, extra: "after: [y]\n")
        try config(project, "y", exit: 0, extra: "after: [z]\n")
        try config(project, "z", exit: 0, extra: "after: [x]\n")
        let cycle = try multirun(["-c", "p/", "-gpu", "false", "-check", "false"], in: project)
        #expect(cycle.status == 2)
        #expect(cycle.stderr.contains("after: forms a cycle: configs/p/x.yaml runs after configs/p/y.yaml runs after configs/p/z.yaml runs after configs/p/x.yaml; remove one of these after: entries"), "\(cycle.stderr)")
        #expect(starts(cycle.stdout).isEmpty && !project.exists("results/p"))

        let other = try Project()
        try other.write("configs/f1/s.yaml", "command: [true]\n")
        try other.write("configs/f2/s.yaml", "command: [true]\n")
        try other.write("configs/t.yaml", "command: [true]\nafter: [s, nothing-here]\n")
        let ambiguous = try multirun(["-c", ".", "-gpu", "false", "-check", "false"], in: other)
        #expect(ambiguous.status == 2)
        #expect(ambiguous.stderr.contains("after: 's' matches 2 configs (configs/f1/s.yaml, configs/f2/s.yaml); write the one you mean as its path"), "\(ambiguous.stderr)")
        #expect(ambiguous.stderr.contains("after: 'nothing-here' names no config under configs/"), "\(ambiguous.stderr)")
        #expect(starts(ambiguous.stdout).isEmpty && !other.exists("results/t"))
    }

    /// runone accepts and ignores the scheduling keys.
    @Test func runoneIgnoresPriorityAndAfter() throws {
        let project = try Project()
        try project.write("configs/r.yaml", "command: [/bin/sh, -c, 'echo ok > \"$1/out.txt\"', x, '{output}']\npriority: 2\nafter: [other]\n")
        let result = try Launched(Binaries.runone, ["-c", "configs/r.yaml"], in: project).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.read("results/r/out.txt") == "ok\n")
    }

    func daemon(_ project: Project) throws -> (status: Int32, stdout: String, stderr: String) {
        try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
    }

    /// What each task of the queue ended as, by id (`status --json`).
    func queueStates(_ project: Project) throws -> [String: String] {
        let status = try JSONSerialization.jsonObject(with: Data(try multirun(["status", "--json"], in: project).stdout.utf8)) as? [String: Any]
        let tasks = status?["tasks"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: tasks.map { ("\($0["id"] ?? "")", $0["state"] as? String ?? "") })
    }

    /// The daemon picks higher priorities first across submits (ties in submission order),
    /// whether the priority came from a config or from `submit --priority`.
    @Test func daemonStartsHigherPriorityFirstAcrossSubmits() throws {
        let project = try Project()
        try project.write("configs/p/a.yaml", "command: [/bin/sh, -c, 'echo a >> order.txt']\n")
        try project.write("configs/p/b.yaml", "command: [/bin/sh, -c, 'echo b >> order.txt']\npriority: 2\n")
        let queued = try multirun(["submit", "-c", "p/", "--no-env"], in: project)
        #expect(queued.status == 0, "\(queued.stderr)")
        #expect(queued.stdout.contains("Queued 1 configs/p/b.yaml\nQueued 2 configs/p/a.yaml"), "\(queued.stdout)")
        try project.write("later.txt", "echo later >> order.txt\n")
        try project.write("urgent.txt", "echo urgent >> order.txt\n")
        #expect(try multirun(["submit", "--commands", "later.txt", "--no-env"], in: project).status == 0)
        #expect(try multirun(["submit", "--commands", "urgent.txt", "--no-env", "--priority", "9"], in: project).status == 0)
        let bad = try multirun(["submit", "--commands", "urgent.txt", "--priority", "high"], in: project)
        #expect(bad.status == 2 && bad.stderr.contains("--priority: 'high' is not a whole number"), "\(bad.stderr)")
        #expect(try daemon(project).status == 0)
        #expect(try project.read("order.txt") == "urgent\nb\na\nlater\n")
    }

    /// Dependencies in the queue: a dependant starts only once what it runs after
    /// succeeded (config `after:` within a submit, across submits, and `submit --after`);
    /// when one did not, it ends as dependency_failed without starting, and so do its own
    /// dependants, each with its [k/N] line; status counts them.
    @Test func daemonRunsDependantsAfterSuccessAndEndsThemAfterAFailure() throws {
        let project = try Project()
        try project.write("configs/p/a.yaml", "command: [/bin/sh, -c, 'echo a >> order.txt']\npriority: -1\n")
        try project.write("configs/p/b.yaml", "command: [/bin/sh, -c, 'echo b >> order.txt']\nafter: [a]\npriority: 5\n")
        try project.write("configs/p/bad.yaml", "command: [/bin/sh, -c, 'echo bad >> order.txt; exit 3']\n")
        let first = try multirun(["submit", "-c", "p/(a|b|bad)\\.", "--no-env"], in: project)
        #expect(first.status == 0, "\(first.stderr)")
        // Ids: b (priority 5) 1, bad 2, a (priority -1) 3.
        #expect(first.stdout.hasPrefix("Queued 1 configs/p/b.yaml\nQueued 2 configs/p/bad.yaml\nQueued 3 configs/p/a.yaml"), "\(first.stdout)")
        // A later submit's config runs after one queued earlier (found in the queue).
        try project.write("configs/p/c.yaml", "command: [/bin/sh, -c, 'echo c >> order.txt']\nafter: [bad]\n")
        #expect(try multirun(["submit", "-c", "p/c", "--no-env"], in: project).status == 0)
        try project.write("jobs.txt", "echo after-b >> order.txt\n")
        #expect(try multirun(["submit", "--commands", "jobs.txt", "--no-env", "--after", "1"], in: project).status == 0)
        try project.write("more.txt", "echo after-c >> order.txt\n")
        #expect(try multirun(["submit", "--commands", "more.txt", "--no-env", "--after", "4"], in: project).status == 0)

        let run = try daemon(project)
        #expect(run.status == 0, "\(run.stderr)")
        // b waits for a although its priority is higher; the --after task for b.
        #expect(try project.read("order.txt") == "bad\na\nb\nafter-b\n", "\((try? project.read("order.txt")) ?? "")")
        #expect(try queueStates(project) == ["1": "succeeded", "2": "failed", "3": "succeeded", "4": "dependency_failed",
                                             "5": "succeeded", "6": "dependency_failed"])
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("The process did not run (task 2 configs/p/bad.yaml, which it runs after, did not succeed): runone -c configs/p/c.yaml ["), "\(log)")
        #expect(log.contains("The process did not run (task 4 configs/p/c.yaml, which it runs after, did not succeed): echo after-c >> order.txt [3/6]"), "\(log)")
        #expect(!project.exists("results/p/c"))
        let status = try multirun(["status"], in: project)
        #expect(status.stdout.contains(", 2 dependency failed\n"), "\(status.stdout)")
        #expect(status.stdout.contains("dependency_failed (a task it runs after did not succeed)  configs/p/c.yaml"), "\(status.stdout)")

        // Restarted and fixed, the prerequisite succeeds and its dependants run.
        try project.write("configs/p/bad.yaml", "command: [/bin/sh, -c, 'echo fixed >> order.txt']\n")
        #expect(try multirun(["restart", "--failed"], in: project).status == 0)
        #expect(try daemon(project).status == 0)
        #expect(try queueStates(project).values.allSatisfy { $0 == "succeeded" }, "\((try? queueStates(project)) ?? [:])")
        #expect(try project.read("order.txt").hasSuffix("fixed\nc\nafter-c\n"), "\((try? project.read("order.txt")) ?? "")")
    }

    /// What a submit's dependencies name must exist: refused in one line, nothing queued.
    @Test func submitRefusesDependenciesItCannotMeet() throws {
        let project = try Project()
        try project.write("jobs.txt", "true\n")
        try project.write("fails.txt", "false\n")
        #expect(try multirun(["submit", "--commands", "fails.txt", "--no-env"], in: project).status == 0)
        #expect(try daemon(project).status == 0)
        let journal = try project.read(".multirun/journal.jsonl")
        let unknown = try multirun(["submit", "--commands", "jobs.txt", "--after", "99"], in: project)
        #expect(unknown.status == 2 && unknown.stderr == "multirun: --after 99: queue .multirun has no task 99; see multirun status for the ids; nothing was queued\n", "\(unknown.stderr)")
        let failed = try multirun(["submit", "--commands", "jobs.txt", "--after", "1"], in: project)
        #expect(failed.status == 2 && failed.stderr.contains("--after 1: task 1 (false) already ended as failed, so these tasks could never start; restart it first (multirun restart 1)"), "\(failed.stderr)")
        let notID = try multirun(["submit", "--commands", "jobs.txt", "--after", "x1"], in: project)
        #expect(notID.status == 2 && notID.stderr.contains("--after: 'x1' is not a task id"), "\(notID.stderr)")
        let oneShot = try multirun(["--commands", "jobs.txt", "--after", "1", "-gpu", "false", "-check", "false"], in: project)
        #expect(oneShot.status == 2 && oneShot.stderr.contains("--after does not apply to a one-shot run"), "\(oneShot.stderr)")
        // A config after one that is neither selected, complete, nor queued.
        try project.write("configs/p/a.yaml", "command: [/bin/sh, -c, 'exit 0']\n")
        try project.write("configs/p/b.yaml", "command: [/bin/sh, -c, 'exit 0']\nafter: [a]\n")
        let orphan = try multirun(["submit", "-c", "p/b"], in: project)
        #expect(orphan.status == 2 && orphan.stderr.contains("config configs/p/b.yaml runs after configs/p/a.yaml, which -c did not select, which has not completed, and which is not queued or running in queue .multirun; add it to -c, or submit it first"), "\(orphan.stderr)")
        // A cycle within one submit is named.
        try project.write("configs/p/a.yaml", "command: [/bin/sh, -c, 'exit 0']\nafter: [b]\n")
        let cycle = try multirun(["submit", "-c", "p/"], in: project)
        #expect(cycle.status == 2 && cycle.stderr.contains("after: forms a cycle"), "\(cycle.stderr)")
        #expect(try project.read(".multirun/journal.jsonl") == journal)
    }
}
