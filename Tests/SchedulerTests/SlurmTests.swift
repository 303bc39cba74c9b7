import Testing
@testable import Scheduler

/// The Slurm backend's pure parts: arrays per shape, %K shares, bundles, sbatch options,
/// outcomes without an exit record, parsing of Slurm's answers, manifests, flags.
struct SlurmArraysTests {
    let gpu1 = SlurmArrays.Shape(gpus: 1, timeLimit: nil)

    @Test func oneShapeIsOneArrayUnderK() throws {
        let arrays = try SlurmArrays.plan(Array(repeating: gpu1, count: 6), limit: 2, maxArraySize: 1001)
        #expect(arrays.count == 1)
        #expect(arrays[0].tasks == Array(0..<6) && arrays[0].bundle == 1 && arrays[0].limit == 2)
        #expect(SlurmArrays.sbatchOptions(arrays[0], name: "n", output: "o").contains("--array=0-5%2"))
        #expect(SlurmArrays.sbatchOptions(arrays[0], name: "n", output: "o").contains("--gres=gpu:1"))
    }

    @Test func shapesShareKAndEachRunsOne() throws {
        let cpu = SlurmArrays.Shape(gpus: 0, timeLimit: nil)
        let two = SlurmArrays.Shape(gpus: 2, timeLimit: 90)
        let shapes = [gpu1, gpu1, gpu1, gpu1, gpu1, gpu1, cpu, cpu, two, two]
        let arrays = try SlurmArrays.plan(shapes, limit: 4, maxArraySize: 1001)
        #expect(arrays.map(\.tasks) == [[0, 1, 2, 3, 4, 5], [6, 7], [8, 9]])
        #expect(arrays.compactMap(\.limit).reduce(0, +) <= 4)
        #expect(arrays.allSatisfy { ($0.limit ?? 0) >= 1 })
        let options = SlurmArrays.sbatchOptions(arrays[2], name: "n", output: "o")
        #expect(options.contains("--gres=gpu:2") && options.contains("--time=1:30"))
        #expect(!SlurmArrays.sbatchOptions(arrays[1], name: "n", output: "o").contains { $0.hasPrefix("--gres") })
        #expect(throws: UsageError.self) { try SlurmArrays.plan(shapes, limit: 2, maxArraySize: 1001) }
    }

    @Test func noLimitNoPercent() throws {
        let arrays = try SlurmArrays.plan([gpu1, gpu1], limit: nil, maxArraySize: 1001)
        #expect(SlurmArrays.sbatchOptions(arrays[0], name: "n", output: "o").contains("--array=0-1"))
    }

    @Test func bundlesStayUnderMaxArraySize() throws {
        let arrays = try SlurmArrays.plan(Array(repeating: gpu1, count: 25), limit: 4, maxArraySize: 10)
        #expect(arrays[0].bundle == 3 && arrays[0].elements == 9)
        #expect(arrays[0].tasks(ofElement: 8) == [24])
        #expect(Array(arrays[0].tasks(ofElement: 0)) == [0, 1, 2])
        let big = try SlurmArrays.plan(Array(repeating: gpu1, count: 10_000), limit: nil, maxArraySize: 1001)
        #expect(big[0].elements <= 1001 && big[0].bundle == 10)
        // A bundled element's time limit covers its tasks one after the other.
        let timed = try SlurmArrays.plan(Array(repeating: SlurmArrays.Shape(gpus: 0, timeLimit: 60), count: 20), limit: nil, maxArraySize: 10)
        #expect(SlurmArrays.sbatchOptions(timed[0], name: "n", output: "o").contains("--time=2:00"))
    }

    @Test func shapesOfResources() throws {
        var resources = TaskResources()
        #expect(SlurmArrays.shape(resources, gpuMode: true, timeout: nil) == gpu1)
        #expect(SlurmArrays.shape(resources, gpuMode: false, timeout: 5).gpus == 0)
        resources.gpus = 3
        resources.time = 7
        #expect(SlurmArrays.shape(resources, gpuMode: true, timeout: 5) == .init(gpus: 3, timeLimit: 7))
        resources.cpu = true
        #expect(SlurmArrays.shape(resources, gpuMode: true, timeout: nil).gpus == 0)
        var mpi = TaskResources()
        mpi.mpiProcesses = 4
        let shape = SlurmArrays.shape(mpi, gpuMode: true, timeout: nil)
        #expect(shape.gpus == 0 && shape.tasks == 4)
        let arrays = try SlurmArrays.plan([shape], limit: nil, maxArraySize: 10)
        #expect(SlurmArrays.sbatchOptions(arrays[0], name: "n", output: "o").contains("--ntasks=4"))
        #expect(SlurmArrays.timeText(0.5) == "0:01" && SlurmArrays.timeText(3601) == "60:01")
    }
}

struct SlurmOutcomeTests {
    @Test func aVanishedJobIsUnknownNeverSuccess() {
        let vanished = SlurmOutcome.withoutRecord(state: nil, exit: TaskExit(), started: true, job: "5_0")
        #expect(vanished.status == .unknown)
        #expect(SlurmOutcome.withoutRecord(state: nil, exit: TaskExit(), started: false, job: "5_0").status == .unknown)
        #expect(SlurmOutcome.withoutRecord(state: "COMPLETED", exit: TaskExit(exitCode: 0), started: true, job: "5_0").status == .unknown)
    }

    @Test func slurmStatesWithoutARecord() {
        let killed = SlurmOutcome.withoutRecord(state: "FAILED", exit: TaskExit(signal: 9), started: true, job: "5_0")
        #expect(killed.status == .failed && killed.exit.signal == 9)
        #expect(SlurmOutcome.withoutRecord(state: "FAILED", exit: TaskExit(exitCode: 4), started: true, job: "5_0").exit.exitCode == 4)
        #expect(SlurmOutcome.withoutRecord(state: "FAILED", exit: TaskExit(), started: true, job: "5_0").status == .unknown)
        #expect(SlurmOutcome.withoutRecord(state: "TIMEOUT", exit: TaskExit(), started: true, job: "5_0").status == .timedOut)
        #expect(SlurmOutcome.withoutRecord(state: "PREEMPTED", exit: TaskExit(), started: true, job: "5_0").status == .interrupted)
        #expect(SlurmOutcome.withoutRecord(state: "NODE_FAIL", exit: TaskExit(), started: true, job: "5_0").status == .interrupted)
        #expect(SlurmOutcome.withoutRecord(state: "CANCELLED", exit: TaskExit(), started: false, job: "5_0").status == .notStarted)
        #expect(SlurmOutcome.stopped(elementState: "TIMEOUT") == .timedOut)
        #expect(SlurmOutcome.stopped(elementState: "CANCELLED") == .interrupted)
        #expect(SlurmOutcome.stopped(elementState: "PREEMPTED") == .interrupted)
        #expect(SlurmOutcome.device(node: "n1", gpu: "0,2") == "n1:gpu0+gpu2")
        #expect(SlurmOutcome.device(node: "n1", gpu: "") == "n1:cpu")
    }

    @Test func slurmAnswersParse() {
        let states = SlurmClient.parseStates("12_0 COMPLETED\n12_3 RUNNING\n13_1 PENDING\nbad\n12_x FAILED\n", job: "12")
        #expect(states == [0: "COMPLETED", 3: "RUNNING"])
        let job = SlurmClient.parseJob("JobId=14 ArrayJobId=12 ArrayTaskId=1 JobState=FAILED Reason=JobLaunchFailure ExitCode=0:9 Other=1")
        #expect(job?.state == "FAILED" && job?.exit == TaskExit(signal: 9))
        #expect(SlurmClient.parseJob("JobState=FAILED ExitCode=3:0")?.exit == TaskExit(exitCode: 3))
        #expect(SlurmClient.parseJob("garbage") == nil)
        #expect(SlurmClient.parseAccounting("CANCELLED by 0|0:0\n")?.state == "CANCELLED")
        #expect(SlurmClient.parseAccounting("FAILED|3:0")?.exit == TaskExit(exitCode: 3))
        #expect(SlurmClient.parseAccounting("") == nil && SlurmClient.parseAccounting("FAILED") == nil)
        #expect(SlurmClient.configValue("MaxArraySize", in: "MaxArraySize            = 10\nMaxJobCount = 5\n") == "10")
    }
}

struct SlurmManifestTests {
    @Test func entriesRoundTrip() throws {
        let identity = ConfigIdentity(path: "configs/a.yaml", name: "a.yaml", sha256: "s", resultsFolder: "results/a", contentSHA256: "c", runner: "runone -c {configs}/a.yaml {overwrite}")
        var entry = SlurmManifestEntry(number: 2, total: 3, label: "configs/a.yaml", program: "/bin/runone", log: "results/runs/x/logs/configs/a.yaml.log", runID: "x")
        entry.template = ["runone", "-c", "{config}", "--gpu={gpu}", "{overwrite}"]
        entry.config = "configs/a.yaml"
        entry.output = "results/a"
        entry.identity = identity
        let bytes = entry.line + SlurmManifestEntry(number: 3, total: 3, label: "echo 'x y'", program: "/bin/echo", log: "l", runID: "x").line
        let lines = SlurmManifestEntry.lines(bytes, 0..<1)
        let back = try #require(SlurmManifestEntry.parse(lines[0]))
        #expect(back.identity == identity && back.identity?.digest == identity.digest)
        #expect(back.argv(gpu: "3") == ["runone", "-c", "configs/a.yaml", "--gpu=3"])
        #expect(SlurmManifestEntry.lines(bytes, 1..<5).count == 1)
        #expect(SlurmManifestEntry.parse(Array("{\"task\": 9, \"total\": 3}".utf8)[...]) == nil)
        #expect(SlurmManifestEntry.parse(Array("not json".utf8)[...]) == nil)
    }

    @Test func recordsRoundTrip() {
        var record = SlurmTaskRecord(task: 4, job: "7_1", node: "n", gpu: "1", startWall: 10)
        record.endWall = 20
        record.exit = TaskExit(signal: 15)
        record.stopped = true
        record.pid = 99
        #expect(SlurmTaskRecord.parse(record.bytes) == record)
        #expect(SlurmTaskRecord.parse(Array("{}".utf8)) == nil)
    }
}

struct SlurmFlagTests {
    func problem(_ arguments: [String]) -> String? {
        do { _ = try OptionsParser.parse(arguments, command: "run"); return nil } catch { return error.message }
    }

    @Test func localOnlyFlagsAreRefusedOnSlurm() {
        for flag in [["--halt", "now,fail=1"], ["--retries", "2"], ["--joblog", "j"], ["--on-finish", "true"], ["--cpu-slots", "2"], ["--grace", "1"]] {
            let message = problem(["-c", "x", "--backend", "slurm"] + flag)
            #expect(message?.contains("does not apply to --backend slurm") == true, "\(flag): \(message ?? "accepted")")
        }
        #expect(problem(["-c", "x", "--backend", "slurm", "-d", "2", "1"])?.contains("whole GPUs") == true)
        #expect(problem(["-c", "x", "--backend", "slurm", "-d", "1", "1", "--array-limit", "2"])?.contains("give one of them") == true)
        #expect(problem(["-c", "x", "--backend", "slurm", "-gpu", "false", "-d", "8"]) == nil)
        #expect(problem(["-c", "x", "--backend", "slurm", "--array-limit", "0"])?.contains("--array-limit") == true)
        #expect(problem(["-c", "x", "--backend", "cloud"])?.contains("not local or slurm") == true)
    }

    @Test func slurmOnlyFlagsNeedTheBackend() {
        #expect(problem(["-c", "x", "--array-limit", "2"])?.contains("add --backend slurm") == true)
        #expect(problem(["-c", "x", "--detach"])?.contains("add --backend slurm") == true)
    }

    @Test func sbatchArgsRepeatAndKeepTheirDashes() throws {
        let options = try OptionsParser.parse(["-c", "x", "--backend", "slurm", "--sbatch-arg", "--partition=gpu", "--sbatch-arg=--account=lab", "--sbatch-arg", "-q"], command: "run")
        #expect(options.sbatchArgs == ["--partition=gpu", "--account=lab", "-q"])
        #expect(problem(["-c", "x", "--backend", "slurm", "--sbatch-arg"])?.contains("needs a value") == true)
    }
}
