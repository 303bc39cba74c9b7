import Foundation
import Glibc
import Testing

/// One base config, several variants (`extends:`), run with the default runner (runone)
/// as a user would: one-shot runs and the queue daemon, resume, a base edited, refusals
/// that start nothing, another working folder; and the `x-`/`.` keys the schema ignores.
@Suite(.serialized)
struct ExtendsTests {
    static let twoCPU = ["-gpu", "false", "-d", "2", "-check", "false"]

    /// A base (never a task: its name ends in -base) and two variants of it.
    func project(under prefix: String = "") throws -> Project {
        let project = try Project()
        try project.write(prefix + "configs/lr/lr-base.yaml", """
        # Shared by every lr variant.
        x-note: {owner: me}
        command: "echo lr={lr} seed={seed} > {output}/out.txt"
        params: {lr: 0.1, seed: 1}
        resources: {device: cpu}
        """)
        try project.write(prefix + "configs/lr/v-1.yaml", "extends: lr-base.yaml\nparams: {lr: 0.2}\n")
        try project.write(prefix + "configs/lr/v-2.yaml", "extends: ./lr-base.yaml\n.why: a seed of its own\nparams:\n  seed: 5\n")
        return project
    }

    func statuses(_ project: Project) throws -> [String] {
        try project.latestSummary().compactMap { $0["status"] as? String }
    }

    @Test func variantsRunMergedAreSkippedWhenDoneAndRunAgainWhenTheBaseChanges() throws {
        let project = try project()
        let first = try multirun(["-c", "lr/"] + Self.twoCPU, in: project)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try statuses(project) == ["succeeded", "succeeded"])
        #expect(try project.read("results/lr/v-1/out.txt") == "lr=0.2 seed=1\n")
        #expect(try project.read("results/lr/v-2/out.txt") == "lr=0.1 seed=5\n")
        #expect(!project.exists("results/lr/lr-base"))
        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: project.path("results/lr/v-1/metadata.json")))) as? [String: Any]
        #expect(metadata?["extends"] as? [String] == ["configs/lr/lr-base.yaml"])

        let again = try multirun(["-c", "lr/"] + Self.twoCPU, in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("Skip configs/lr/v-1.yaml: it completed"), "\(again.stdout)")
        #expect(try statuses(project) == ["skipped", "skipped"])

        // A comment in the base is no change.
        try project.write("configs/lr/lr-base.yaml", "# edited comment\n" + (try project.read("configs/lr/lr-base.yaml")))
        #expect(try multirun(["-c", "lr/"] + Self.twoCPU, in: project).status == 0)
        #expect(try statuses(project) == ["skipped", "skipped"])

        // The base's command changed: both variants run again, and say why.
        try project.write("configs/lr/lr-base.yaml", (try project.read("configs/lr/lr-base.yaml")).replacingOccurrences(of: "seed={seed} >", with: "seed={seed} v2 >"))
        let edited = try multirun(["-c", "lr/"] + Self.twoCPU, in: project)
        #expect(edited.status == 0, "\(edited.stderr)")
        for variant in ["v-1", "v-2"] {
            #expect(edited.stdout.contains("Run configs/lr/\(variant).yaml again: its content changed since it completed (its own, or that of its base: configs/lr/lr-base.yaml)"), "\(edited.stdout)")
        }
        #expect(try statuses(project) == ["succeeded", "succeeded"])
        #expect(try project.read("results/lr/v-1/out.txt") == "lr=0.2 seed=1 v2\n")
        #expect(try project.read("results/lr/v-2/out.txt") == "lr=0.1 seed=5 v2\n")

        // runone alone reads the same merged config, and knows it is done.
        let alone = try Launched(Binaries.runone, ["-c", "configs/lr/v-2.yaml"], in: project).finish()
        #expect(alone.status == 0 && alone.stdout.contains("already holds a successful run"), "\(alone.stdout)\(alone.stderr)")
    }

    /// Bases are found from the config's folder, not the working folder: configs in another
    /// folder, through multirun (--configs) and runone.
    @Test func aVariantFindsItsBaseFromAnotherWorkingFolder() throws {
        let project = try project(under: "elsewhere/")
        let result = try multirun(["-c", "lr/", "--configs", "elsewhere/configs"] + Self.twoCPU, in: project)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try project.read("results/lr/v-1/out.txt") == "lr=0.2 seed=1\n")
        #expect(try project.read("results/lr/v-2/out.txt") == "lr=0.1 seed=5\n")

        let runone = try Launched(Binaries.runone, ["-c", project.path("elsewhere/configs/lr/v-1.yaml"), "-o", "by-hand"], in: project).finish()
        #expect(runone.status == 0, "\(runone.stderr)")
        #expect(try project.read("by-hand/out.txt") == "lr=0.2 seed=1\n")
    }

    @Test func aCycleIsRefusedAndNothingStarts() throws {
        let project = try Project()
        try project.write("configs/c/a-good.yaml", "command: [touch, \(project.path("canary"))]\n")
        try project.write("configs/c/b.yaml", "extends: c.yaml\ncommand: [touch, \(project.path("canary-b"))]\n")
        try project.write("configs/c/c.yaml", "extends: b.yaml\n")
        let result = try multirun(["-c", "c/"] + Self.twoCPU, in: project)
        #expect(result.status == 2)
        #expect(result.stderr.contains("multirun: configs/c/c.yaml:1:1: key 'extends': the bases form a cycle: configs/c/b.yaml -> configs/c/c.yaml -> configs/c/b.yaml; remove 'extends' from one of them\n"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("multirun: 2 problems; nothing was started\n"), "\(result.stderr)")
        #expect(!project.exists("canary") && !project.exists("canary-b") && project.runFolders().isEmpty)

        let runone = try Launched(Binaries.runone, ["-c", "configs/c/b.yaml"], in: project).finish()
        #expect(runone.status == 2)
        #expect(runone.stderr == "runone: configs/c/c.yaml:1:1: key 'extends': the bases form a cycle: configs/c/b.yaml -> configs/c/c.yaml -> configs/c/b.yaml; remove 'extends' from one of them\n")
        #expect(!project.exists("canary-b") && !project.exists("results/c/b"))

        let submit = try multirun(["submit", "--no-env", "-c", "c/"], in: project)
        #expect(submit.status == 2 && submit.stderr.contains("the bases form a cycle"), "\(submit.stderr)")
        #expect(((try? project.read(".multirun/journal.jsonl")) ?? "").isEmpty)
    }

    @Test func aMissingBaseOrABadKeyInABaseIsNamedWhereItIs() throws {
        let project = try Project()
        try project.write("configs/m/a-good.yaml", "command: [touch, \(project.path("canary"))]\n")
        try project.write("configs/m/missing.yaml", "# a variant\nextends: ../shared/gone.yaml\n")
        try project.write("configs/m/bad.yaml", "extends: bad-base.yaml\ncommand: [true]\n")
        try project.write("configs/m/bad-base.yaml", "resources:\n  gpus: 0\n")
        // A base named like a task, and selected: it is one, and fails as one (no command).
        try project.write("configs/m/common.yaml", "params: {a: 1}\n")
        try project.write("configs/m/uses-common.yaml", "extends: common.yaml\ncommand: [echo, '{a}']\n")
        let result = try multirun(["-c", "m/"] + Self.twoCPU, in: project)
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("multirun: configs/m/missing.yaml:2:1: key 'extends': base config configs/m/../shared/gone.yaml not found; the path is relative to this config's folder (configs/m/): fix it, or create the file"), "\(result.stderr)")
        #expect(lines.contains("multirun: configs/m/bad-base.yaml:2:3: key 'resources.gpus': must be a whole number of GPUs, 1 or more (found 0) (in configs/m/bad.yaml, which extends this base)"), "\(result.stderr)")
        #expect(lines.contains("multirun: configs/m/common.yaml:1:1: nothing to run: add 'command:' (with 'params:') or 'model_params:' (name: kuramoto); it is a base of configs/m/uses-common.yaml, and -c selected it as a task of its own too: rename it common-base.yaml (files named *-base or *_base are never tasks), or narrow -c"), "\(result.stderr)")
        #expect(lines.last == "multirun: 3 problems; nothing was started")
        #expect(!project.exists("canary") && project.runFolders().isEmpty)

        // Renamed as the line says, the base is no task and its variant runs.
        try FileManager.default.moveItem(atPath: project.path("configs/m/common.yaml"), toPath: project.path("configs/m/common-base.yaml"))
        try project.write("configs/m/uses-common.yaml", "extends: common-base.yaml\ncommand: \"echo {a} > {output}/out.txt\"\n")
        let fixed = try multirun(["-c", "m/(a-good|uses)"] + Self.twoCPU, in: project)
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(try project.read("results/m/uses-common/out.txt") == "1\n")
    }

    @Test func xAndDotKeysAreAcceptedAndIgnored() throws {
        let project = try Project()
        try project.write("configs/k/a.yaml", """
        x-defaults: {lr: 0.3, tags: [a, b]}
        .note: "not for runone"
        command: "echo lr={lr} > {output}/out.txt"
        params: {lr: 0.3}
        """)
        try project.write("configs/k/b.json", #"{"x-anything": [1, 2], ".hidden": null, "command": ["true"]}"#)
        let result = try multirun(["-c", "k/"] + Self.twoCPU, in: project)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try statuses(project) == ["succeeded", "succeeded"])
        #expect(try project.read("results/k/a/out.txt") == "lr=0.3\n")
        // Only those prefixes: another unknown key is still refused.
        try project.write("configs/k/c.yaml", "X-upper: 1\ncommand: [true]\n")
        let refused = try multirun(["-c", "k/c"] + Self.twoCPU, in: project)
        #expect(refused.status == 2 && refused.stderr.contains("configs/k/c.yaml:1:1: key 'X-upper': unknown key"), "\(refused.stderr)")
    }

    /// The daemon alike: a submit of done variants queues nothing; after the base changes,
    /// a submit queues both again and the daemon runs them.
    @Test func theQueueRunsVariantsAgainWhenTheBaseChanges() throws {
        let project = try project()
        func submit() throws -> String {
            let result = try multirun(["submit", "--no-env", "-c", "lr/"], in: project)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout
        }
        func drain() throws {
            let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "2", "--exit-when-idle"], in: project)
            let ended = eventually(timeout: 30) { !daemon.process.isRunning }
            if !ended { daemon.signal(SIGKILL) }
            let result = daemon.finish()
            #expect(ended && result.status == 0, "\(result.stdout)\(result.stderr)")
        }
        #expect(try submit().contains("Submitted 2 task(s), 0 not queued"))
        try drain()
        #expect(try project.read("results/lr/v-1/out.txt") == "lr=0.2 seed=1\n")
        #expect(project.exists("results/lr/v-2/multirun-done.json"))

        let done = try submit()
        #expect(done.contains("Submitted 0 task(s), 2 not queued"), "\(done)")

        try project.write("configs/lr/lr-base.yaml", (try project.read("configs/lr/lr-base.yaml")).replacingOccurrences(of: "seed={seed} >", with: "seed={seed} queued >"))
        let again = try submit()
        #expect(again.contains("Submitted 2 task(s), 0 not queued"), "\(again)")
        try drain()
        #expect(try project.read("results/lr/v-1/out.txt") == "lr=0.2 seed=1 queued\n")
        #expect(try project.read("results/lr/v-2/out.txt") == "lr=0.1 seed=5 queued\n")
        #expect(try submit().contains("Submitted 0 task(s), 2 not queued"))
    }
}
