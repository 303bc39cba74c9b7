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

    /// submit queues by priority within one submit (ids ascend in start order), and refuses
    /// after:, which the daemon does not read yet, before queueing anything.
    @Test func submitOrdersByPriorityAndRefusesAfter() throws {
        let project = try Project()
        try config(project, "a", exit: 0)
        try config(project, "b", exit: 0, extra: "priority: 2\n")
        let queued = try multirun(["submit", "-c", "p/", "--no-env"], in: project)
        #expect(queued.status == 0, "\(queued.stderr)")
        #expect(queued.stdout.contains("Queued 1 configs/p/b.yaml\nQueued 2 configs/p/a.yaml"), "\(queued.stdout)")
        try config(project, "c", exit: 0, extra: "after: [a]\n")
        let refused = try multirun(["submit", "-c", "p/c", "--no-env"], in: project)
        #expect(refused.status == 2 && refused.stderr.contains("after: is not supported by multirun submit yet"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("Queued"))
    }
}
