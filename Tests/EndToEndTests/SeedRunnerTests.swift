import Foundation
import Testing

/// The seed project's own runner, `python run.py -c CONFIG -d ORDINAL --overwrite True|False`,
/// driven through multirun on fake GPUs (issue 16). Tests/fixtures/seed_run.py stands in
/// for it: argparse with the seed's flags, the ordinal checked against the devices that
/// CUDA_VISIBLE_DEVICES leaves visible.
@Suite(.serialized)
struct SeedRunnerTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let recipe = "python3 run.py -d 0 --overwrite {overwrite?True:False}"

    func project(configs: [String], gpus: Int = 2) throws -> Project {
        let project = try Project()
        for name in configs { try project.write("configs/e/\(name).yaml", "n: 1\n") }
        try project.write("run.py", String(contentsOfFile: Self.repository + "/Tests/fixtures/seed_run.py", encoding: .utf8), executable: true)
        try project.fakeNvidiaSMI(gpus: gpus)
        return project
    }

    /// config → (ordinal, overwrite, CUDA_VISIBLE_DEVICES) as run.py saw them.
    func seen(_ project: Project) throws -> [String: (ordinal: String, overwrite: String, cvd: String)] {
        var result: [String: (ordinal: String, overwrite: String, cvd: String)] = [:]
        for line in try project.read("seen.txt").split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            #expect(result[f[0]] == nil, "\(f[0]) ran twice")
            result[f[0]] = (f[1], f[2], f[3])
        }
        return result
    }

    /// The documented recipe: each task sees only its GPU and gets ordinal 0; without -w
    /// run.py gets `--overwrite False`, with -w `--overwrite True`.
    @Test func theSeedsRunnerRunsOnEachGPUWithOrdinalZero() throws {
        let project = try self.project(configs: ["a", "b", "c"])
        let first = try multirun(["-c", "e/", "-check", "false", "-d", "1", "1", "--runner", Self.recipe], in: project)
        #expect(first.status == 0, "\(first.stderr)")
        var seen = try self.seen(project)
        #expect(seen.keys.sorted() == ["configs/e/a.yaml", "configs/e/b.yaml", "configs/e/c.yaml"])
        #expect(seen.values.allSatisfy { $0.ordinal == "0" && $0.overwrite == "False" })
        #expect(Set(seen.values.map(\.cvd)) == ["0", "1"], "the first two start at once, one on each GPU")
        #expect(first.stdout.contains("Start the process with configs/e/a.yaml\n"), "\(first.stdout)")
        #expect(first.stdout.contains("python3 run.py -d 0 --overwrite False -c configs/e/a.yaml ["), "\(first.stdout)")
        #expect(project.exists("results/e/a/done.txt"))

        // Completed: a second run skips them all, and starts nothing.
        try FileManager.default.removeItem(atPath: project.path("seen.txt"))
        let again = try multirun(["-c", "e/", "-check", "false", "-d", "1", "1", "--runner", Self.recipe], in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!project.exists("seen.txt"), "completed configs are not run again")

        // -w: run again, and run.py is told --overwrite True. The same task identity.
        let forced = try multirun(["-c", "e/", "-check", "false", "-d", "1", "1", "-w", "--runner", Self.recipe], in: project)
        #expect(forced.status == 0, "\(forced.stderr)")
        seen = try self.seen(project)
        #expect(seen.count == 3)
        #expect(seen.values.allSatisfy { $0.ordinal == "0" && $0.overwrite == "True" && ["0", "1"].contains($0.cvd) })
    }

    /// Why the recipe says `-d 0`: without it argparse refuses, and `-d {gpu}` names an
    /// ordinal the task cannot see on every GPU but the first.
    @Test func withoutTheOrdinalTheSeedsRunnerFails() throws {
        let project = try self.project(configs: ["a"])
        let bare = try multirun(["-c", "e/", "-check", "false", "-d", "1", "--runner", "python3 run.py"], in: project)
        #expect(bare.status != 0)
        let log = try String(contentsOfFile: project.path("results/runs/" + project.runFolders().first! + "/logs/configs/e/a.yaml.log"), encoding: .utf8)
        #expect(log.contains("the following arguments are required: -d/--device"), "\(log)")

        let second = try self.project(configs: ["a"])
        let physical = try multirun(["-c", "e/", "-check", "false", "-d", "0", "1", "--runner", "python3 run.py -d {gpu}"], in: second)
        #expect(physical.status != 0)
        let text = try String(contentsOfFile: second.path("results/runs/" + second.runFolders().first! + "/logs/configs/e/a.yaml.log"), encoding: .utf8)
        #expect(text.contains("run.py: invalid device ordinal 1 (1 visible)"), "\(text)")
    }

    /// A malformed choice is one usage line, exit 2, nothing started.
    @Test func aMalformedOverwriteChoiceStartsNothing() throws {
        let project = try self.project(configs: ["a"])
        let result = try multirun(["-c", "e/", "-check", "false", "-d", "1", "--runner", "python3 run.py -d 0 --overwrite {overwrite:True|False}"], in: project)
        #expect(result.status == 2)
        #expect(result.stderr.contains("{overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!project.exists("seen.txt"))
        #expect(project.runFolders().isEmpty)
    }
}
