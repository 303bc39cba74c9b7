import Foundation
import Glibc
import Testing

/// One identity per task from plan to marker (config path, content, runner), and configs
/// checked before anything starts: through the default runner (runone) and a custom one.
@Suite(.serialized)
struct TaskIdentityTests {
    static let oneCPU = ["-gpu", "false", "-d", "1", "-check", "false"]

    /// A runner of the user's own: writes `lr=<value>` from the config into {output}/out.txt.
    static let customRunner = """
    #!/bin/sh
    # usage: write.sh CONFIG OUTPUT
    printf 'lr=%s\\n' "$(sed -n 's/.*lr: *\\([0-9.]*\\).*/\\1/p' "$1" | head -1)" > "$2/out.txt"
    """

    func marker(_ project: Project, _ folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: project.path("\(folder)/multirun-done.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// sha256sum's digest of a file.
    func sha256(of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }

    func statuses(_ project: Project) throws -> [String] {
        try project.latestSummary().compactMap { $0["status"] as? String }
    }

    // MARK: - (1) An edited config runs again

    @Test(arguments: [false, true])
    func anEditedConfigRunsAgainAndItsNewResultsAreCertified(custom: Bool) throws {
        let project = try Project()
        try project.write("write.sh", Self.customRunner, executable: true)
        try project.write("configs/x/a.yaml", """
        command: "echo lr={lr} > {output}/out.txt"
        params: {lr: 0.1}
        """)
        let runner = custom ? ["--runner", "./write.sh {config} {output}"] : []
        let first = try multirun(["-c", "x/"] + Self.oneCPU + runner, in: project)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try project.read("results/x/a/out.txt") == "lr=0.1\n")
        let before = try marker(project, "results/x/a")

        try project.write("configs/x/a.yaml", """
        command: "echo lr={lr} > {output}/out.txt"
        params: {lr: 0.2}
        """)
        let second = try multirun(["-c", "x/"] + Self.oneCPU + runner, in: project)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("Run configs/x/a.yaml again: its content changed since it completed"))
        #expect(try project.read("results/x/a/out.txt") == "lr=0.2\n")
        #expect(try statuses(project) == ["succeeded"])
        let after = try marker(project, "results/x/a")
        #expect(after["content_sha256"] as? String != before["content_sha256"] as? String)
        #expect(after["identity"] as? String != before["identity"] as? String)

        // A comment, key order or a scheduling hint is not content: still complete.
        try project.write("configs/x/a.yaml", """
        # tuned by hand
        params: {lr: 0.2}
        command: "echo lr={lr} > {output}/out.txt"
        resources: {device: cpu}
        """)
        let third = try multirun(["-c", "x/"] + Self.oneCPU + runner, in: project)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains("Skip configs/x/a.yaml: it completed"))
        #expect(try statuses(project) == ["skipped"])
    }

    /// runone alone compares content; under multirun it compares the identity it is handed.
    @Test func runoneSkipsOnlyTheSameContentOrIdentity() throws {
        let project = try Project()
        try project.write("configs/x/a.yaml", "command: \"echo lr={lr} > {output}/out.txt\"\nparams: {lr: 0.1}\n")
        let runone = { (environment: [String: String]) in
            try Launched(Binaries.runone, ["-c", "configs/x/a.yaml"], in: project, environment: environment).finish()
        }
        #expect(try runone([:]).status == 0)
        let again = try runone([:])
        #expect(again.status == 0 && again.stdout.contains("already holds a successful run"))
        try project.write("configs/x/a.yaml", "command: \"echo lr={lr} > {output}/out.txt\"\nparams: {lr: 0.3}\n")
        let edited = try runone([:])
        #expect(edited.status == 0 && !edited.stdout.contains("already holds"))
        #expect(try project.read("results/x/a/out.txt") == "lr=0.3\n")
        // Another identity (another runner, say) runs, even with the content unchanged.
        let other = try runone(["MULTIRUN_TASK_IDENTITY": String(repeating: "a", count: 64)])
        #expect(other.status == 0 && !other.stdout.contains("already holds"))
    }

    // MARK: - (2) resources: with the default runner

    @Test func everyResourcesFormRunsThroughRunone() throws {
        let project = try Project()
        try project.fakeNvidiaSMI(gpus: 2)
        try project.write("configs/two/gpus.yaml", "command: [sh, -c, 'echo $CUDA_VISIBLE_DEVICES > {output}/cvd.txt']\nresources: {gpus: 2}\n")
        try project.write("configs/two/cpu.yaml", "command: [echo, hi]\nresources: {device: cpu}\n")
        try project.write("configs/two/mem.yaml", "command: [echo, hi]\nresources: {gpu_memory: 1GiB}\n")
        try project.write("configs/two/mpi.yaml", "command: [echo, hi]\nresources: {mpi: {np: 2}}\n")
        try project.write("configs/two/model.yaml", """
        model_params: {name: kuramoto, nodes: 4, timepoints: 3, TR: 0.01}
        resources: {gpus: 1}
        """)
        // A stand-in launcher: drops `-np K` and runs the rest.
        try project.write("fake-mpiexec", "#!/bin/sh\nshift 2\nexec \"$@\"\n", executable: true)
        let result = try multirun(["-c", "two/", "-d", "1", "1", "--cpu-slots", "2", "-check", "false",
                                   "--mpi-launcher", project.path("fake-mpiexec")], in: project)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let rows = try project.latestSummary()
        #expect(rows.count == 5 && rows.allSatisfy { $0["status"] as? String == "succeeded" }, "\(rows)")
        #expect(try project.read("results/two/gpus/cvd.txt") == "0,1\n")
    }

    // MARK: - (3) What ran is part of what is done

    @Test func aTrialRunnerDoesNotCountAsDoneAndAMovedBinaryDoes() throws {
        let project = try Project()
        for name in ["e-1", "e-2"] {
            try project.write("configs/e/\(name).yaml", "command: \"echo ran > {output}/out.txt\"\n")
        }
        let trial = try multirun(["-c", "e-"] + Self.oneCPU + ["--runner", "echo python train.py"], in: project)
        #expect(trial.status == 0, "\(trial.stderr)")
        #expect(!project.exists("results/e/e-1/out.txt"))

        let real = try multirun(["-c", "e-"] + Self.oneCPU, in: project)
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stdout.contains("Run configs/e/e-1.yaml again: it completed with another runner"))
        #expect(try statuses(project) == ["succeeded", "succeeded"])
        #expect(try project.read("results/e/e-1/out.txt") == "ran\n")

        // The runner is the template as written, not the binary's path: a copy elsewhere
        // (an install, another build) finds everything complete.
        let elsewhere = project.path("installed")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        for binary in ["multirun", "runone"] {
            try FileManager.default.copyItem(atPath: Binaries.folder + "/" + binary, toPath: elsewhere + "/" + binary)
        }
        let moved = try Launched(elsewhere + "/multirun", ["-c", "e-"] + Self.oneCPU, in: project).finish()
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(try statuses(project) == ["skipped", "skipped"])

        // Nor does how the folders are spelled: from another working folder, absolute paths.
        let other = Process()
        other.executableURL = URL(fileURLWithPath: Binaries.multirun)
        other.arguments = ["-c", "e-", "--configs", project.path("configs"), "--results", project.path("results")] + Self.oneCPU
        other.currentDirectoryURL = URL(fileURLWithPath: "/")
        let output = Pipe()
        other.standardOutput = output
        try other.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        other.waitUntilExit()
        #expect(other.terminationStatus == 0 && text.contains("0 succeeded, 0 failed, 0 timed out, 2 skipped"), "\(text)")
    }

    /// Markers from before identities (no runner, the file's own hash) count as the default runner's.
    @Test func anOlderMarkerCountsAsTheDefaultRunners() throws {
        let project = try Project()
        let text = "command: [echo, hi]\n"
        try project.write("configs/o/a.yaml", text)
        let digest = try sha256(of: project.path("configs/o/a.yaml"))
        try project.write("results/o/a/multirun-done.json", "{\"config\": \"configs/o/a.yaml\", \"config_sha256\": \"\(digest)\", \"exit_code\": 0}\n")
        try project.write("results/o/a/metadata.json", "{}\n")
        let skipped = try multirun(["-c", "o/"] + Self.oneCPU, in: project)
        #expect(skipped.status == 0 && skipped.stdout.contains("Skip configs/o/a.yaml"), "\(skipped.stdout)\(skipped.stderr)")
        let custom = try multirun(["-c", "o/"] + Self.oneCPU + ["--runner", "true"], in: project)
        #expect(custom.stdout.contains("Run configs/o/a.yaml again: it completed with another runner"), "\(custom.stdout)")
    }

    // MARK: - (4) Two configs, one results folder

    @Test func configsSharingAResultsFolderAreRefused() throws {
        let project = try Project()
        try project.write("configs/sweep/lr.yaml", "command: [touch, \(project.path("ran-yaml"))]\n")
        try project.write("configs/sweep/lr.json", "{\"command\": [\"touch\", \"\(project.path("ran-json"))\"]}\n")
        try project.write("configs/sweep/lr.yml", "command: [touch, \(project.path("ran-yml"))]\n")
        let result = try multirun(["-c", "sweep"] + Self.oneCPU, in: project)
        #expect(result.status == 2)
        #expect(result.stderr.contains("multirun: configs configs/sweep/lr.json and configs/sweep/lr.yaml would both write their results to results/sweep/lr/"))
        #expect(result.stderr.contains("configs/sweep/lr.yaml and configs/sweep/lr.yml"))
        #expect(!project.exists("ran-yaml") && !project.exists("ran-json") && !project.exists("ran-yml"))
        #expect(project.runFolders().isEmpty)
    }

    // MARK: - (5) Config errors start nothing

    @Test func everyConfigIsCheckedBeforeAnythingStarts() throws {
        let project = try Project()
        try project.write("configs/v/a-good.yaml", "command: [touch, \(project.path("canary"))]\n")
        let cases: [(file: String, text: String, line: String)] = [
            ("b-syntax.yaml", "command: [echo, hi\n", "configs/v/b-syntax.yaml:1:10: unclosed '['"),
            ("c-key.yaml", "command: [echo, hi]\nresource: {gpus: 1}\n",
             "configs/v/c-key.yaml:2:1: key 'resource': unknown key; did you mean 'resources'?"),
            ("d-placeholder.yaml", "command: [echo, \"{lr}\", \"{rate}\"]\nparams: {lr: 1}\n",
             "configs/v/d-placeholder.yaml:1:25: key 'command[2]': placeholder {rate} has no value; add 'rate:' under params"),
            ("e-type.yaml", "model_params:\n  name: kuramoto\n  nodes: many\n",
             "configs/v/e-type.yaml:3:3: key 'model_params.nodes': must be a whole number"),
            ("f-resources.yaml", "command: [echo, hi]\nresources:\n  gpus: 0\n",
             "configs/v/f-resources.yaml:3:3: key 'resources.gpus': must be a whole number of GPUs"),
        ]
        for item in cases { try project.write("configs/v/\(item.file)", item.text) }
        let result = try multirun(["-c", "v/"] + Self.oneCPU, in: project)
        #expect(result.status == 2)
        for item in cases { #expect(result.stderr.contains("multirun: " + item.line), "\(result.stderr)") }
        #expect(result.stderr.hasSuffix("multirun: 5 problems; nothing was started\n"))
        #expect(!project.exists("canary") && project.runFolders().isEmpty)

        // The same through submit: nothing queued.
        let submit = try multirun(["submit", "-c", "v/"], in: project)
        #expect(submit.status == 2 && submit.stderr.contains("c-key.yaml:2:1"), "\(submit.stderr)")
        let journal = (try? project.read(".multirun/journal.jsonl")) ?? ""
        #expect(journal.isEmpty)
    }

    /// With a runner of the user's own, its keys are its business; the file must still parse
    /// and multirun's own keys are still checked.
    @Test func aCustomRunnerOwnsItsKeysButNotTheSyntaxOrResources() throws {
        let project = try Project()
        try project.write("configs/c/a.yaml", "model: resnet\nlr: 0.1\n")
        let fine = try multirun(["-c", "c/a"] + Self.oneCPU + ["--runner", "true"], in: project)
        #expect(fine.status == 0, "\(fine.stderr)")
        try project.write("configs/c/b.yaml", "model: [resnet\n")
        try project.write("configs/c/c.yaml", "model: resnet\nresources: {gpu: 1}\n")
        let bad = try multirun(["-c", "c/[bc]"] + Self.oneCPU + ["--runner", "true"], in: project)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("multirun: configs/c/b.yaml:1:8: unclosed '['"), "\(bad.stderr)")
        #expect(bad.stderr.contains("multirun: configs/c/c.yaml:2:13: key 'resources.gpu': is not known; did you mean 'gpus'?"), "\(bad.stderr)")
    }

    // MARK: - Results no multirun run made

    @Test func resultsWithoutAMarkerAreNeverOverwrittenSilently() throws {
        let project = try Project()
        try project.write("configs/f/a.yaml", "command: \"echo new > {output}/out.txt\"\n")
        try project.write("results/f/a/out.txt", "someone else's\n")
        let refused = try multirun(["-c", "f/"] + Self.oneCPU, in: project)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("multirun: config configs/f/a.yaml: its results folder results/f/a/ already holds files that no multirun run made (no multirun-done.json); pass -w to overwrite them, or move the folder away"))
        #expect(try project.read("results/f/a/out.txt") == "someone else's\n")
        let forced = try multirun(["-c", "f/", "-w"] + Self.oneCPU, in: project)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try project.read("results/f/a/out.txt") == "new\n")
    }

    /// A failed attempt's results are multirun's own: the next run replaces them, and never
    /// with a marker before the task succeeds.
    @Test func aFailedAttemptRunsAgainWithoutAsking() throws {
        let project = try Project()
        try project.write("configs/f/a.yaml", "command: \"echo try >> {output}/out.txt; test -e {output}/../ok\"\n")
        let failed = try multirun(["-c", "f/"] + Self.oneCPU, in: project)
        #expect(failed.status == 1)
        #expect(!project.exists("results/f/a/multirun-done.json") && project.exists("results/f/a/multirun-attempt.json"))
        try project.write("results/f/ok", "")
        let retried = try multirun(["-c", "f/"] + Self.oneCPU, in: project)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(try project.read("results/f/a/out.txt") == "try\ntry\n")
        #expect(project.exists("results/f/a/multirun-done.json"))
    }

    // MARK: - The daemon and one-shot runs agree on what is done

    @Test func doneOneShotIsSkippedAtSubmitAndDoneByTheDaemonIsSkippedOneShot() throws {
        let project = try Project()
        try project.write("configs/d/one.yaml", "command: \"echo one >> {output}/out.txt\"\n")
        try project.write("configs/d/two.yaml", "command: \"echo two >> {output}/out.txt\"\n")
        #expect(try multirun(["-c", "d/one"] + Self.oneCPU, in: project).status == 0)

        let submitted = try multirun(["submit", "-c", "d/"], in: project)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stdout.contains("configs/d/one.yaml"), "\(submitted.stdout)")
        #expect(submitted.stdout.contains("Submitted 1 task(s)"), "\(submitted.stdout)")
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
        #expect(daemon.status == 0, "\(daemon.stderr)")
        #expect(try project.read("results/d/two/out.txt") == "two\n")
        let written = try marker(project, "results/d/two")
        #expect(written["runner"] as? String == "runone -c '{configs}/d/two.yaml' '{overwrite}'")

        let oneShot = try multirun(["-c", "d/"] + Self.oneCPU, in: project)
        #expect(oneShot.status == 0, "\(oneShot.stderr)")
        #expect(try statuses(project) == ["skipped", "skipped"])
        #expect(try project.read("results/d/one/out.txt") == "one\n")
        #expect(try project.read("results/d/two/out.txt") == "two\n")
    }

    /// A queued or running task holds its results folder: another config writing there, or
    /// another version of the same one, is refused at submit and in a one-shot run.
    @Test func aQueuedTaskHoldsItsResultsFolderAgainstOtherSubmitsAndOneShotRuns() throws {
        let project = try Project()
        try project.write("configs/s/a.yaml", "command: \"echo v1 >> {output}/out.txt\"\n")
        #expect(try multirun(["submit", "-c", "s/a.yaml"], in: project).status == 0)

        try project.write("configs/s/a.yaml", "command: \"echo v2 >> {output}/out.txt\"\n")
        let edited = try multirun(["submit", "-c", "s/a.yaml"], in: project)
        #expect(edited.status == 2)
        #expect(edited.stderr.contains("multirun: config configs/s/a.yaml: task 1 of queue .multirun, queued or running, writes the same results folder \(project.path("results/s/a"))/; wait for it to end, or cancel it (multirun cancel 1)"), "\(edited.stderr)")
        try project.write("configs/s/a.json", "{\"command\": [\"true\"]}\n")
        let other = try multirun(["submit", "-c", "s/a.json"], in: project)
        #expect(other.status == 2 && other.stderr.contains("task 1 of queue .multirun"), "\(other.stderr)")
        let oneShot = try multirun(["-c", "s/a.yaml"] + Self.oneCPU, in: project)
        #expect(oneShot.status == 2)
        #expect(oneShot.stderr.contains("multirun: config configs/s/a.yaml: task 1 of queue .multirun, queued or running, writes the same results folder results/s/a/; let the daemon run it (multirun daemon), or cancel it (multirun cancel 1)"), "\(oneShot.stderr)")
        #expect(!project.exists("results/s/a/out.txt"))

        // Cancelled, the folder is free again: the edited config is queued and runs.
        #expect(try multirun(["cancel", "1"], in: project).status == 0)
        let again = try multirun(["submit", "-c", "s/a.yaml"], in: project)
        #expect(again.status == 0 && again.stdout.contains("Queued 2 configs/s/a.yaml"), "\(again.stdout)\(again.stderr)")
        let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
        #expect(daemon.status == 0, "\(daemon.stderr)")
        #expect(try project.read("results/s/a/out.txt") == "v2\n")
        // Ended, it holds the folder no more: a one-shot run finds it complete.
        let after = try multirun(["-c", "s/a.yaml"] + Self.oneCPU, in: project)
        #expect(after.status == 0 && after.stdout.contains("Skip configs/s/a.yaml"), "\(after.stdout)\(after.stderr)")
    }

    /// The walk of configs/ survives a symlink loop and a name that is not UTF-8: both are
    /// reported and skipped, and the rest runs once.
    @Test func aSymlinkLoopAndAnOddNameAreSkippedWithAWarning() throws {
        let project = try Project()
        try project.write("configs/w/a.yaml", "command: \"echo ran >> {output}/out.txt\"\n")
        #expect(symlink("..", project.path("configs/w/loop")) == 0)
        // configs/w/b<0xFF>.yaml: a name no String can hold.
        var name = Array(project.path("configs/w/b").utf8) + [0xFF] + Array(".yaml".utf8) + [0]
        let fd = name.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { open($0, O_WRONLY | O_CREAT, 0o644) }
        }
        #expect(fd >= 0)
        close(fd)
        let run = try Launched(Binaries.multirun, ["-c", "w/"] + Self.oneCPU, in: project)
        let ended = eventually(timeout: 20) { !run.process.isRunning }
        if !ended { run.signal(SIGKILL) }
        let result = run.finish()
        #expect(ended && result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("this folder was already searched through another path"), "\(result.stdout)")
        #expect(result.stdout.contains("the name is not valid UTF-8; rename it to run it"), "\(result.stdout)")
        #expect(try project.read("results/w/a/out.txt") == "ran\n")
    }

    /// A config edited after the plan, before its task read it: its results are of the new
    /// version, so no marker may certify the planned one; reverting it runs it again.
    @Test func aConfigEditedWhileItsTaskWaitedIsNotCertified() throws {
        let project = try Project()
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        try project.write("configs/e/a.yaml", "command: [sh, -c, 'echo up > \"$0\"; read go < \"$1\"', \(events.path), \(gate.path)]\n")
        try project.write("configs/e/b.yaml", "command: \"echo A > {output}/o.txt\"\n")
        let run = try Launched(Binaries.multirun, ["-c", "e/"] + Self.oneCPU, in: project)
        #expect(try events.nextLine() == "up")
        try project.write("configs/e/b.yaml", "command: \"echo B > {output}/o.txt\"\n")
        gate.send(lines: 1)
        let first = run.finish()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Warning: configs/e/b.yaml changed after this run planned it"), "\(first.stdout)")
        #expect(try project.read("results/e/b/o.txt") == "B\n")
        #expect(!project.exists("results/e/b/multirun-done.json"))

        try project.write("configs/e/b.yaml", "command: \"echo A > {output}/o.txt\"\n")
        let again = try multirun(["-c", "e/b"] + Self.oneCPU, in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try project.read("results/e/b/o.txt") == "A\n")
        #expect(project.exists("results/e/b/multirun-done.json"))
    }

    /// Whether a config is complete is its marker's to say, in the queue too: a version
    /// the queue once completed runs again once the folder holds another's results, or none.
    @Test func theQueueAsksTheMarkerWhetherAConfigIsComplete() throws {
        let project = try Project()
        func submitAndRun(_ text: String) throws -> String {
            try project.write("configs/q/a.yaml", "command: \"echo \(text) > {output}/o.txt\"\n")
            let submitted = try multirun(["submit", "-c", "q/"], in: project)
            #expect(submitted.status == 0, "\(submitted.stderr)")
            let daemon = try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project).finish()
            #expect(daemon.status == 0, "\(daemon.stderr)")
            return submitted.stdout
        }
        _ = try submitAndRun("A")
        _ = try submitAndRun("B")
        #expect(try submitAndRun("A").contains("Queued 3 configs/q/a.yaml"))
        #expect(try project.read("results/q/a/o.txt") == "A\n")
        #expect(try submitAndRun("A").contains("Not queued configs/q/a.yaml: completed"))
        try FileManager.default.removeItem(atPath: project.path("results"))
        #expect(try submitAndRun("A").contains("Queued 4 configs/q/a.yaml"))
        #expect(try project.read("results/q/a/o.txt") == "A\n")
    }

    /// A run killed after a task succeeded but before it wrote the marker: the task's reaper
    /// noted the exit in the attempt record, so the next run records it instead of running it
    /// a second time. (Removing the marker by hand stands in for that kill.)
    @Test func aTaskThatSucceededBeforeItsRunWasKilledIsNotRunAgain() throws {
        let project = try Project()
        try project.write("configs/z/a.yaml", "command: \"echo ran >> {output}/out.txt\"\n")
        #expect(try multirun(["-c", "z/"] + Self.oneCPU, in: project).status == 0)
        try FileManager.default.removeItem(atPath: project.path("results/z/a/multirun-done.json"))
        let again = try multirun(["-c", "z/"] + Self.oneCPU, in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("Skip configs/z/a.yaml: it completed in an earlier run that was stopped before it could record that"), "\(again.stdout)")
        #expect(project.exists("results/z/a/multirun-done.json"))
        #expect(try project.read("results/z/a/out.txt") == "ran\n")
        // A failed or stopped attempt is not taken for a success.
        try project.write("configs/z/b.yaml", "command: \"echo ran >> {output}/out.txt; exit 3\"\n")
        #expect(try multirun(["-c", "z/b"] + Self.oneCPU, in: project).status == 1)
        #expect(try multirun(["-c", "z/b"] + Self.oneCPU, in: project).status == 1)
        #expect(try project.read("results/z/b/out.txt") == "ran\nran\n")
    }

    /// A link to a folder of the tree does not take the real folder's place (its configs
    /// keep their real names and results folders), whichever the walk meets first.
    @Test func aLinkedFolderDoesNotTakeTheRealOnesPlace() throws {
        let project = try Project()
        try project.write("configs/b/y.yaml", "command: \"echo hi > {output}/o.txt\"\n")
        try FileManager.default.createDirectory(atPath: project.path("configs/a"), withIntermediateDirectories: true)
        #expect(symlink("../b", project.path("configs/a/tob")) == 0)
        let result = try multirun(["-c", "^configs/b/"] + Self.oneCPU, in: project)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.read("results/b/y/o.txt") == "hi\n")
        #expect(result.stdout.contains("configs/a/tob/: this folder was already searched"), "\(result.stdout)")
    }
}
