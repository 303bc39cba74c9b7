import Foundation
import Glibc
import Testing

/// End-to-end runs of the built `multirun` with task scripts that report what they saw.
@Suite(.serialized)
struct SchedulingTests {
    /// A project with `count` configs under configs/e/ and the gated task script.
    func project(configs count: Int, gpus: Int? = nil) throws -> Project {
        let project = try Project()
        for i in 1...count { try project.write("configs/e/t-\(i).yaml", "n: \(i)\n") }
        try project.write("task.sh", gatedTask, executable: true)
        if let gpus { try project.fakeNvidiaSMI(gpus: gpus) }
        return project
    }

    /// Runs the gated task on every config of `project`. Returns the tasks that started
    /// before any was let go (`held` of them are awaited), then every task's interval.
    func gatedRun(_ project: Project, configs: Int, holding held: Int, _ arguments: [String],
                  environment extra: [String: String] = [:]) throws -> (held: [Interval], done: [Interval], result: (status: Int32, stdout: String, stderr: String)) {
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        let environment = extra.merging(["EVENTS": events.path, "GATE": gate.path]) { $1 }
        let running = try Launched(Binaries.multirun, arguments + ["-check", "false", "--runner", "./task.sh {config}"],
                                   in: project, environment: environment)
        let first = try events.lines(until: held) { $0.hasPrefix("start") }
        gate.send(lines: configs)
        // Every task writes one start and one end line.
        let rest = try events.lines(until: 2 * configs - first.count) { _ in true }
        return (intervalsStarted(first), intervals(from: first + rest), running.finish())
    }

    @Test func gpusOneAndThreeTakeOneTaskEach() throws {
        let run = try gatedRun(try project(configs: 6, gpus: 4), configs: 6, holding: 2, ["-c", "e/t-", "-d", "0", "1", "0", "1"])
        // Two tasks start, one per GPU, before any is let go.
        #expect(Set(run.held.map(\.device)) == ["1", "3"])
        #expect(run.result.status == 0)
        #expect(run.done.count == 6)
        #expect(Set(run.done.map(\.device)).isSubset(of: ["1", "3"]))
        for device in ["1", "3"] {
            #expect(maxConcurrency(run.done.filter { $0.device == device }) == 1, "two tasks at once on GPU \(device)")
        }
        #expect(run.result.stdout.contains("Start the process with configs/e/t-1.yaml"))
        #expect(run.result.stdout.contains("The process finished: ./task.sh configs/e/t-1.yaml ["))
        #expect(run.result.stdout.contains("[6/6]"))
    }

    @Test func twoSlotsOnOneGPURunTwoAtOnce() throws {
        let run = try gatedRun(try project(configs: 4, gpus: 4), configs: 4, holding: 2, ["-c", "t-", "-d", "0", "2", "0", "0"])
        #expect(run.held.map(\.device) == ["1", "1"])
        #expect(run.result.status == 0)
        #expect(run.done.allSatisfy { $0.device == "1" })
        #expect(maxConcurrency(run.done) == 2)
    }

    @Test func cpuModeRunsThreeAtOnceWithGPUsHidden() throws {
        let run = try gatedRun(try project(configs: 7), configs: 7, holding: 3, ["-c", "t-", "-gpu", "false", "-d", "3"],
                               environment: ["CUDA_VISIBLE_DEVICES": "0,1"])
        #expect(run.held.count == 3, "three tasks run at once")
        #expect(run.result.status == 0)
        #expect(run.done.count == 7)
        #expect(maxConcurrency(run.done) == 3)
        #expect(run.done.allSatisfy { $0.device == "" }, "CUDA_VISIBLE_DEVICES is set and empty on the CPU")
    }

    @Test func seedSelectionPicksExactlyTheFourConfigs() throws {
        let project = try Project()
        for name in ["exp-1/exp-1-1", "exp-1/exp-1-2", "exp-2/exp-2-1-1", "exp-2/exp-2-1-2", "exp-2/exp-2-2-1",
                     "exp-2/exp-2-base", "exp-2/exp-2-1_base", "exp-3/exp-3-1-1", "exp-3/exp-3-1-2"] {
            try project.write("configs/\(name).yaml", "n: 1\n")
        }
        try project.write("record.sh", "#!/bin/sh\necho \"$1\" >> picked.txt\n", executable: true)
        let result = try multirun(["-c", #"exp-(2|3)-1-\d*"#, "-gpu", "false", "-d", "2", "-check", "false", "--runner", "./record.sh {config}"], in: project)
        #expect(result.status == 0)
        let picked = try project.read("picked.txt").split(separator: "\n").map(String.init).sorted()
        #expect(picked == ["configs/exp-2/exp-2-1-1.yaml", "configs/exp-2/exp-2-1-2.yaml",
                           "configs/exp-3/exp-3-1-1.yaml", "configs/exp-3/exp-3-1-2.yaml"])
    }

    /// An absolute --configs root: tasks run in byte order of their paths, results go
    /// under results/ by the path below the root, and logs mirror the path with no "//".
    @Test func anAbsoluteConfigsRootKeepsPathsTidy() throws {
        let project = try Project()
        for name in ["b/t-2", "b/t-10", "a/t-1", "B/t-3"] { try project.write("cfgs/\(name).yaml", "n: 1\n") }
        try project.write("record.sh", "#!/bin/sh\necho \"$1\" >> picked.txt\n", executable: true)
        let root = project.path("cfgs")
        let result = try multirun(["-c", "t-", "--configs", root, "-gpu", "false", "-d", "1", "-check", "false", "--runner", "./record.sh {config}"],
                                  in: project)
        #expect(result.status == 0, "\(result.stderr)")
        let picked = try project.read("picked.txt").split(separator: "\n").map(String.init)
        #expect(picked == ["B/t-3", "a/t-1", "b/t-10", "b/t-2"].map { "\(root)/\($0).yaml" })
        #expect(project.exists("results/a/t-1/multirun-done.json") && project.exists("results/b/t-10/multirun-done.json"))
        let logs = try project.latestSummary().compactMap { $0["log"] as? String }
        #expect(logs.count == 4)
        #expect(logs.allSatisfy { !$0.contains("//") && $0.hasSuffix(".yaml.log") && $0.contains("/logs\(root)/") }, "\(logs)")
        #expect(logs.allSatisfy { project.exists($0) || FileManager.default.fileExists(atPath: $0) })
    }

    @Test func aFailingTaskDoesNotStopTheOthers() throws {
        let project = try Project()
        for i in 1...4 { try project.write("configs/e/t-\(i).yaml", i == 2 ? "fail: true\n" : "fail: false\n") }
        try project.write("task.sh", "#!/bin/sh\nif grep -q 'fail: true' \"$1\"; then echo boom >&2; exit 3; fi\necho ok\n", executable: true)
        let result = try multirun(["-c", "t-", "-gpu", "false", "-d", "2", "-check", "false", "--runner", "./task.sh {config}"], in: project)
        #expect(result.status == 1)
        #expect(result.stdout.contains("The process failed with exit code 3"))
        #expect(result.stdout.contains("3 succeeded, 1 failed"))
        let rows = try project.latestSummary()
        let failed = rows.filter { $0["status"] as? String == "failed" }
        #expect(failed.count == 1)
        #expect(failed.first?["config"] as? String == "configs/e/t-2.yaml")
        #expect(failed.first?["exit_code"] as? Int == 3)
        #expect(rows.filter { $0["status"] as? String == "succeeded" }.count == 3)
        // The task's own output went to its log file, not the terminal.
        let log = try #require(failed.first?["log"] as? String)
        #expect(try project.read(log) == "boom\n")
        #expect(!result.stdout.contains("boom"))
        // The failed config has no completion marker; the others do.
        #expect(!project.exists("results/e/t-2/multirun-done.json"))
        #expect(project.exists("results/e/t-1/multirun-done.json"))
    }

    @Test func summaryCSVHasOneRowPerTaskWithTheDocumentedColumns() throws {
        let project = try project(configs: 3)
        let events = try FIFO(project.path("events"))
        let result = try multirun(["-c", "t-", "-gpu", "false", "-d", "2", "-check", "false", "--runner", "./task.sh {config}"],
                             in: project, environment: ["EVENTS": events.path])
        #expect(result.status == 0)
        let run = try #require(project.runFolders().last)
        let csv = try project.read("results/runs/\(run)/summary.csv").split(separator: "\n")
        #expect(csv.first == "task,config,command,device,slot,pid,start,end,duration_s,exit_code,signal,status,log,error")
        #expect(csv.count == 4)
        #expect(csv.dropFirst().allSatisfy { $0.contains(",cpu,") && $0.contains(",succeeded,") })
        let journal = try project.read("results/runs/\(run)/tasks.jsonl").split(separator: "\n")
        #expect(journal.count == 3)
    }

    /// The tasks that started, from their start events.
    func intervalsStarted(_ lines: [String]) -> [Interval] {
        lines.filter { $0.hasPrefix("start") }.map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return Interval(pid: f[1], device: f[2], start: Int64(f[3]) ?? 0, end: .max, label: f[4])
        }
    }
}

@Suite(.serialized)
struct CommandsModeTests {
    @Test func linesRunDirectlyOrThroughTheShell() throws {
        let project = try Project()
        try project.write("cmds.txt", "touch plain.txt\n\necho \"$HOME\" > shell.txt\nsh -c 'exit 4'\n")
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-d", "2", "-check", "false"], in: project)
        #expect(result.status == 1)
        #expect(project.exists("plain.txt"))
        #expect(try project.read("shell.txt") == (ProcessInfo.processInfo.environment["HOME"] ?? "") + "\n")
        #expect(result.stdout.contains("The process failed with exit code 4"))
        #expect(result.stdout.contains("[3/3]"))
    }

    /// The next task is spawned before the last one is written up, but the terminal must
    /// still read in order: on one slot, each finish line comes before the next start line.
    @Test func oneSlotLogReadsInOrder() throws {
        let project = try Project()
        try project.write("cmds.txt", "touch a\nfalse\ntouch c\n")
        let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init).dropLast()
        #expect(lines.count == 6)
        for (i, line) in lines.enumerated() {
            #expect(line.hasPrefix(i % 2 == 0 ? "Start the process with " : "The process f"), "line \(i + 1): \(line)")
        }
        #expect(lines.last?.hasSuffix("touch c [3/3]") == true)
        // The third line's program is looked up again after another one: still touch.
        #expect(project.exists("a") && project.exists("c"))
        #expect(lines[3].hasPrefix("The process failed with exit code 1") && lines[3].hasSuffix("false [2/3]"))
        let run = try #require(project.runFolders().last)
        #expect(try project.read("results/runs/\(run)/tasks.jsonl").split(separator: "\n").count == 3)
    }

    /// Tasks start with no signal blocked or ignored, even when whoever started multirun
    /// ignored some (nohup's SIGHUP) and multirun itself ignores SIGPIPE. (glibc's
    /// posix_spawn leaves its own two internal signals, 32 and 33, ignored in every child
    /// whatever it is asked; glibc programs take them back at start.)
    @Test func tasksStartWithDefaultSignals() throws {
        let project = try Project()
        try project.write("cmds.txt", "grep Sig /proc/self/status\n")
        let launched = try Launched("/bin/sh", ["-c", "trap '' HUP USR1; exec \"$0\" \"$@\"", Binaries.multirun,
                                                "--commands", "cmds.txt", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        let result = launched.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let run = try #require(project.runFolders().last)
        let status = try project.read("results/runs/\(run)/logs/task-1.log")
        func mask(_ name: String) -> UInt64? {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            return line.flatMap { UInt64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
        }
        #expect(mask("SigBlk") == 0, "\(status)")
        // Bits 0-30 are signals 1-31, which hold SIGHUP, SIGUSR1 and SIGPIPE.
        #expect(mask("SigIgn").map { $0 & 0x7fff_ffff } == 0, "\(status)")
    }

    /// Run ids are UTC whatever TZ says: two runs in far-apart zones name their folders
    /// by the same clock, and each id falls between the UTC times taken around its run.
    @Test func runIDsAreUTCInEveryTimeZone() throws {
        let project = try Project()
        try project.write("cmds.txt", "printenv MULTIRUN_RUN_ID\n")
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var ids: [String] = []
        for zone in ["Asia/Tokyo", "America/New_York"] {
            let before = format.string(from: Date())
            let result = try multirun(["--commands", "cmds.txt", "-gpu", "false", "-d", "1", "-check", "false"], in: project,
                                      environment: ["TZ": zone])
            let after = format.string(from: Date())
            #expect(result.status == 0, "\(result.stderr)")
            let id = try #require(project.runFolders().last)
            #expect(try project.read("results/runs/\(id)/logs/task-1.log") == id + "\n")
            let stamp = String(id.prefix(16))
            #expect(id.dropFirst(16).hasPrefix("-") && id.count > 17, "\(id)")
            #expect(before <= stamp && stamp <= after, "\(zone): \(id) is not between \(before) and \(after)")
            ids.append(id)
        }
        #expect(project.runFolders() == ids.sorted())
    }

    @Test func commandsFromStandardInput() throws {
        let project = try Project()
        let result = try runFeeding("touch one\ntouch two\n", to: Binaries.multirun,
                                    ["--commands", "-", "-gpu", "false", "-d", "3", "-check", "false"], in: project)
        #expect(result.status == 0)
        #expect(project.exists("one") && project.exists("two"))
    }
}

@Suite(.serialized)
struct RunnerAndPromptTests {
    @Test func drivesAnExistingPythonRunner() throws {
        let project = try Project()
        try project.fakeNvidiaSMI(gpus: 2)
        try project.write("configs/exp-1/exp-1-1.yaml", "lr: 0.1\n")
        try project.write("configs/exp-1/exp-1-2.yaml", "lr: 0.2\n")
        try project.write("run.py", """
        import argparse, json, os
        parser = argparse.ArgumentParser()
        parser.add_argument("-c", required=True)
        args = parser.parse_args()
        out = os.environ["MULTIRUN_OUTPUT"]
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "seen.json"), "w") as f:
            json.dump({"config": args.c, "gpu": os.environ["CUDA_VISIBLE_DEVICES"],
                       "order": os.environ["CUDA_DEVICE_ORDER"], "task": os.environ["MULTIRUN_TASK"]}, f)
        """)
        let result = try multirun(["-c", "exp-1", "-d", "0", "1", "-check", "false", "--runner", "python3 run.py"], in: project)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("The process finished: python3 run.py -c configs/exp-1/exp-1-1.yaml ["))
        for (i, name) in ["exp-1-1", "exp-1-2"].enumerated() {
            let seen = try JSONSerialization.jsonObject(with: Data(try project.read("results/exp-1/\(name)/seen.json").utf8)) as? [String: String]
            #expect(seen == ["config": "configs/exp-1/\(name).yaml", "gpu": "1", "order": "PCI_BUS_ID", "task": "\(i + 1)/2"])
            #expect(project.exists("results/exp-1/\(name)/multirun-done.json"))
        }
    }

    /// Runs multirun under `script`, which gives it a terminal, and answers the prompt.
    func answer(_ reply: String, in project: Project) throws -> (status: Int32, stdout: String) {
        let command = "\(Binaries.multirun) -c t- -gpu false -d 1 --runner ./task.sh; echo \"exit=$?\""
        // script copies our stdin to the terminal it gives multirun.
        return try runFeeding(reply + "\n", to: "/usr/bin/env", ["script", "-qec", command, "/dev/null"], in: project)
    }

    @Test func promptListsTheTasksAndRunsOnlyOnYes() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let project = try Project()
        try project.write("configs/e/t-1.yaml", "n: 1\n")
        try project.write("task.sh", "#!/bin/sh\necho \"$2\" >> ran.txt\n", executable: true)

        let no = try answer("n", in: project)
        #expect(no.stdout.contains("Config file list:"))
        #expect(no.stdout.contains("Command list:"))
        #expect(no.stdout.contains("./task.sh -c configs/e/t-1.yaml"))
        #expect(no.stdout.contains("Do you want to run ./task.sh with these files? [y/n]"))
        #expect(no.stdout.contains("Nothing started."))
        #expect(no.stdout.contains("exit=0"))
        #expect(!project.exists("ran.txt"))

        let yes = try answer("y", in: project)
        #expect(yes.stdout.contains("The process finished: ./task.sh -c configs/e/t-1.yaml [1/1]"))
        #expect(yes.stdout.contains("exit=0"))
        #expect(try project.read("ran.txt") == "configs/e/t-1.yaml\n")
    }

    /// `-c` in Python's syntax as users write it, through the default runner: an inline
    /// flag, a non-capturing group, \d and a lazy quantifier select exactly what
    /// `re.search` would, and only those run.
    @Test func pythonSyntaxPatternSelectsWhatRunsThroughRunone() throws {
        let project = try Project()
        for name in ["Exp-1-2", "exp-1-3", "exp-10-2", "exp-2-2"] {
            try project.write("configs/e/\(name).yaml", "command: [sh, -c, \"echo \(name) >> ran.txt\"]\n")
        }
        let run = try multirun(["-c", "(?i)/EXP-(?:1)-\\d+?\\.yaml", "-gpu", "false", "-d", "2", "-check", "false"], in: project)
        #expect(run.status == 0, "\(run.stderr)")
        let ran = try project.read("ran.txt").split(separator: "\n").sorted()
        #expect(ran == ["Exp-1-2", "exp-1-3"], "\(ran)")
        #expect(run.stdout.contains("The process finished: runone -c configs/e/Exp-1-2.yaml ["), "\(run.stdout)")
        let lookaround = try multirun(["-c", "exp-1(?!0)", "-gpu", "false", "-d", "2", "-check", "false"], in: project)
        #expect(lookaround.status == 2 && lookaround.stderr.contains("lookaround") && !project.exists("results/e/exp-2-2"))
    }
}

