import Foundation
import Glibc
import Testing

/// `multirun sweep` as users run it: generate a grid (and subjects) into a folder under
/// configs/, select it with -c, run it, read the summary's study figures.
struct SweepTests {
    static let cpu = ["-gpu", "false", "-d", "2", "-check", "false"]

    static let kuramotoBase = """
    description: a small study
    model_params:
      name: kuramoto
      nodes: 8
      timepoints: 20
      dt: 0.001
      TR: 0.01

    """

    /// A runone `command:` base: --subjects sets params.subject, which fills {subject}.
    static let commandBase = """
    command: [echo, "{subject}"]
    params:
      G: 0.5

    """

    static func sweep(_ arguments: [String], in project: Project) throws -> (status: Int32, stdout: String, stderr: String) {
        try multirun(["sweep"] + arguments, in: project)
    }

    static func files(_ project: Project, _ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: project.path(folder))) ?? []).sorted()
    }

    static func summary(_ project: Project) throws -> [String: Any] {
        let run = try #require(project.runFolders().last)
        let data = try Data(contentsOf: URL(fileURLWithPath: project.path("results/runs/\(run)/summary.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aGridIsWrittenSelectedAndRunByRunone() throws {
        let project = try Project()
        try project.write("configs/study-base.yaml", Self.kuramotoBase)
        let made = try Self.sweep(["configs/study-base.yaml", "--grid", "model_params.coupling=0.5,1e-3", "--grid", "model_params.nodes=4,8",
                                   "--out", "configs/sweep-1/"], in: project)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout == "Sweep of configs/study-base.yaml: 4 configs (2 coupling × 2 nodes) in configs/sweep-1/: 4 written, 0 unchanged.\n")
        #expect(Self.files(project, "configs/sweep-1") == ["study__coupling-0.001__nodes-4.yaml", "study__coupling-0.001__nodes-8.yaml",
                                                           "study__coupling-0.5__nodes-4.yaml", "study__coupling-0.5__nodes-8.yaml"])
        // Flattened: the base's keys and the point's values, numbers written as numbers.
        let text = try project.read("configs/sweep-1/study__coupling-0.001__nodes-8.yaml")
        #expect(text.contains("\n  nodes: 8\n") && text.contains("\n  coupling: 0.001\n") && text.contains("description: a small study\n"), "\(text)")
        #expect(!text.contains("extends"))

        let ran = try multirun(["-c", "sweep-1/"] + Self.cpu, in: project)
        #expect(ran.status == 0, "\(ran.stdout)\(ran.stderr)")
        for name in Self.files(project, "configs/sweep-1") {
            let stem = String(name.dropLast(5))
            #expect(project.exists("results/sweep-1/\(stem)/metadata.json"), "\(stem)")
        }
        let summary = try Self.summary(project)
        #expect(summary["tasks_total"] as? Int == 4)
        #expect(summary["tasks_succeeded"] as? Int == 4)
        #expect(summary["tasks_failed"] as? Int == 0)
        let wall = try #require(summary["wall_s"] as? Double)
        let taskTime = try #require(summary["task_time_sum_s"] as? Double)
        let tasks = try #require(summary["tasks"] as? [[String: Any]])
        let durations = tasks.compactMap { $0["duration_s"] as? Double }.reduce(0, +)
        #expect(abs(taskTime - durations) < 0.01, "\(taskTime) vs \(durations)")
        if wall > 0, taskTime > 0 {
            let speedup = try #require(summary["speedup"] as? Double)
            #expect(abs(speedup - taskTime / wall) < 0.05 * speedup + 0.01)
        }
        #expect(ran.stdout.contains("of task time, speedup "), "\(ran.stdout)")
    }

    @Test func subjectsRunWithAFakeRunnerAndTheSummaryCountsFailures() throws {
        let project = try Project()
        try project.write("configs/cohort-base.yaml", Self.commandBase)
        // The fake runner records the subject its config holds; subject 3 fails.
        try project.write("fake.sh", """
        #!/bin/sh
        mkdir -p "$2"
        subject=$(sed -n 's/^  subject: //p' "$1")
        echo "$subject" > "$2/subject.txt"
        [ "$subject" != 3 ]
        """, executable: true)
        let made = try Self.sweep(["configs/cohort-base.yaml", "--subjects", "0-5", "--out", "configs/cohort"], in: project)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(Self.files(project, "configs/cohort") == (0...5).map { "cohort__sub-000\($0).yaml" })
        let ran = try multirun(["-c", "cohort/", "--runner", "./fake.sh {config} {output}"] + Self.cpu, in: project)
        #expect(ran.status == 1, "\(ran.stdout)\(ran.stderr)")
        for subject in 0...5 {
            #expect(try project.read("results/cohort/cohort__sub-000\(subject)/subject.txt") == "\(subject)\n")
        }
        let summary = try Self.summary(project)
        #expect(summary["tasks_total"] as? Int == 6)
        #expect(summary["tasks_succeeded"] as? Int == 5)
        #expect(summary["tasks_failed"] as? Int == 1)
        #expect(summary["task_time_sum_s"] is Double)
        #expect(summary.keys.contains("speedup"))
    }

    @Test func runningItAgainLeavesIdenticalFilesAlone() throws {
        let project = try Project()
        try project.write("configs/study-base.yaml", Self.kuramotoBase)
        let arguments = ["configs/study-base.yaml", "--grid", "model_params.coupling=0.5,1.0,2", "--out", "configs/s"]
        #expect(try Self.sweep(arguments, in: project).status == 0)
        func stamps() throws -> [String: [Int]] {
            var out: [String: [Int]] = [:]
            for name in Self.files(project, "configs/s") {
                var info = stat()
                #expect(stat(project.path("configs/s/" + name), &info) == 0)
                out[name] = [Int(info.st_ino), info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
            }
            return out
        }
        let before = try stamps()
        #expect(before.count == 3)
        let again = try Self.sweep(arguments, in: project)
        #expect(again.stdout == "Sweep of configs/study-base.yaml: 3 configs (3 coupling) in configs/s/: 0 written, 3 unchanged.\n")
        #expect(try stamps() == before)
        // An edited base reaches every file.
        try project.write("configs/study-base.yaml", Self.kuramotoBase.replacingOccurrences(of: "nodes: 8", with: "nodes: 9"))
        #expect(try Self.sweep(arguments, in: project).stdout.hasSuffix(": 3 written, 0 unchanged.\n"))
    }

    @Test func aShrunkGridListsWhatItNoLongerMakesAndPruneRemovesIt() throws {
        let project = try Project()
        try project.write("configs/study-base.yaml", Self.kuramotoBase)
        #expect(try Self.sweep(["configs/study-base.yaml", "--grid", "model_params.coupling=0.5,1.0,2", "--out", "configs/s"], in: project).status == 0)
        // A file of the user's own with a look-alike name is not the sweep's.
        try project.write("configs/s/study__mine.yaml", "command: [true]\n")
        let shrunk = ["configs/study-base.yaml", "--grid", "model_params.coupling=0.5", "--out", "configs/s"]
        let listed = try Self.sweep(shrunk, in: project)
        #expect(listed.status == 0)
        #expect(listed.stdout.hasSuffix("\n2 configs in configs/s/ that an earlier sweep of this base made are not part of this one: study__coupling-1.0.yaml, study__coupling-2.yaml; pass --prune to remove them.\n"), "\(listed.stdout)")
        #expect(Self.files(project, "configs/s").count == 4)
        let pruned = try Self.sweep(shrunk + ["--prune"], in: project)
        #expect(pruned.stdout.hasSuffix("\nRemoved 2 configs that an earlier sweep of this base made and this one does not: study__coupling-1.0.yaml, study__coupling-2.yaml.\n"), "\(pruned.stdout)")
        #expect(Self.files(project, "configs/s") == ["study__coupling-0.5.yaml", "study__mine.yaml"])
    }

    @Test func aFileOfTheUsersOwnUnderAPointsNameIsNeverReplaced() throws {
        let project = try Project()
        try project.write("configs/study-base.yaml", Self.kuramotoBase)
        try project.write("configs/s/study__coupling-2.yaml", "command: [true]\n")
        let refused = try Self.sweep(["configs/study-base.yaml", "--grid", "model_params.coupling=0.5,2", "--out", "configs/s"], in: project)
        #expect(refused.status == 2)
        #expect(refused.stderr == "multirun: sweep: 1 file in configs/s/ has the name of a point but was not written by multirun sweep (study__coupling-2.yaml), so nothing was written; move it away, or give another --out\n")
        #expect(Self.files(project, "configs/s") == ["study__coupling-2.yaml"])
        #expect(try project.read("configs/s/study__coupling-2.yaml") == "command: [true]\n")
    }

    @Test func anInvalidPointRefusesTheWholeSweepAndWritesNothing() throws {
        let project = try Project()
        try project.write("configs/study-base.yaml", Self.kuramotoBase)
        let refused = try Self.sweep(["configs/study-base.yaml", "--grid", "model_params.nodes=4,0", "--grid", "model_params.dt=0.001,oops", "--out", "configs/s"], in: project)
        #expect(refused.status == 2)
        #expect(refused.stderr == "multirun: sweep: 3 of 4 points are invalid, so nothing was written; the first: configs/s/study__nodes-4__dt-oops.yaml:8:3: key 'model_params.dt': must be a number, found a string (the point model_params.nodes=4, model_params.dt=oops)\n")
        #expect(!project.exists("configs/s"))
    }

    @Test func numbersAndTextReadBackAsTheirTypes() throws {
        let project = try Project()
        try project.write("configs/p-base.yaml", "command: [echo, \"{x}\"]\nparams: {}\n")
        let made = try Self.sweep(["configs/p-base.yaml", "--grid", "params.x=1e-3,0.5,'007',true", "--out", "configs/p"], in: project)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(Self.files(project, "configs/p") == ["p__x-0.001.yaml", "p__x-0.5.yaml", "p__x-007.yaml", "p__x-true.yaml"])
        #expect(try project.read("configs/p/p__x-007.yaml").hasSuffix("params:\n  x: '007'\n"))
        #expect(try project.read("configs/p/p__x-0.001.yaml").hasSuffix("params:\n  x: 0.001\n"))
        #expect(try project.read("configs/p/p__x-true.yaml").hasSuffix("params:\n  x: true\n"))
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badInputs: [Case] = [
        Case(arguments: ["configs/none.yaml", "--subjects", "0-3", "--out", "configs/s"], message: "sweep: no such base config configs/none.yaml; give the path of a .yaml or .json config"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.G", "--out", "configs/s"], message: "--grid 'model_params.G': no '='; write KEY=V1,V2,..., e.g. --grid model_params.G=0.5,1.0"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.G=", "--out", "configs/s"], message: "--grid 'model_params.G=': the value list is empty; give at least one value, e.g. --grid model_params.G=0.5,1.0"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.name.x=1", "--out", "configs/s"],
             message: "sweep: key model_params.name.x goes through model_params.name, which is a string in configs/b.yaml, not a mapping; sweep a key that is (or fix the base)"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.nodes=4", "--grid", "model_params.nodes=8", "--out", "configs/s"],
             message: "--grid model_params.nodes is given twice; give each key once, with all its values: --grid model_params.nodes=V1,V2"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.nodes=4", "--out", "configs/b.yaml"], message: "--out configs/b.yaml is a file, not a folder; give a folder (it is created if missing)"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.nodes=4", "--out", "configs/b.yaml/s"], message: "--out configs/b.yaml/s: cannot create folder configs/b.yaml/s: Not a directory; give a folder you can create"),
        Case(arguments: ["configs/b.yaml", "--subjects", "5-1", "--out", "configs/s"], message: "--subjects '5-1': the range runs backwards; write the smaller number first, e.g. --subjects 1-5"),
        Case(arguments: ["configs/b.yaml", "--subjects", "a-b", "--out", "configs/s"], message: "--subjects 'a-b': not a range of subject numbers; write FIRST-LAST with whole numbers from 0 to 999999999, e.g. --subjects 0-9999"),
        Case(arguments: ["configs/b.yaml", "--subjects", "0-100000", "--out", "configs/s"], message: "--subjects '0-100000': 100001 subjects, more than the 100000 one sweep makes; split the range over several --out folders"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.nodes=4"], message: "sweep needs --out DIR, the folder the configs go to: multirun sweep BASE.yaml --grid KEY=V1,V2 [--subjects A-B] --out DIR"),
        Case(arguments: ["--grid", "model_params.nodes=4", "--out", "configs/s"], message: "sweep needs the base config that every point starts from: multirun sweep BASE.yaml --grid KEY=V1,V2 [--subjects A-B] --out DIR"),
        Case(arguments: ["configs/b.yaml", "--out", "configs/s"], message: "sweep: nothing to sweep; give --grid KEY=V1,V2 (once per key) and/or --subjects A-B"),
        Case(arguments: ["configs/b.yaml", "--grid", "model_params.nodes=4", "--out", "configs/s", "--timeout", "3"],
             message: "--timeout does not apply to 'multirun sweep'; it belongs to one-shot runs, 'daemon' (see 'multirun help sweep')"),
    ]

    @Test(arguments: badInputs)
    func badInputIsOneLineExit2AndWritesNothing(_ bad: Case) throws {
        let project = try Project()
        try project.write("configs/b.yaml", Self.kuramotoBase)
        let result = try Self.sweep(bad.arguments, in: project)
        #expect(result.status == 2)
        #expect(result.stderr == "multirun: \(bad.message)\n")
        #expect(result.stdout == "")
        #expect(!project.exists("configs/s"))
    }

    @Test func theHelpPageListsItsOptions() throws {
        let project = try Project()
        let help = try multirun(["sweep", "--help"], in: project)
        #expect(help.status == 0)
        for flag in ["--grid KEY=V1,V2,...", "--subjects A-B", "--out DIR", "--prune", "BASE"] {
            #expect(help.stdout.contains(flag), "\(flag)")
        }
    }
}
