import Foundation
import Testing

/// GPU identity, multi-GPU and MPI tasks, the CPU pool and the free-memory gate, against
/// fake nvidia-smi and MPI launchers. Tasks report what they saw; nothing waits on sleeps.
@Suite(.serialized)
struct PlacementTests {
    /// A task that records what it saw (`config|CUDA_VISIBLE_DEVICES|CUDA_DEVICE_ORDER`) and ends.
    static let seeingTask = """
    #!/bin/sh
    echo "$1|${CUDA_VISIBLE_DEVICES-unset}|${CUDA_DEVICE_ORDER-unset}" >> seen.txt
    """

    func seen(_ project: Project) throws -> [String: (cvd: String, order: String)] {
        var result: [String: (cvd: String, order: String)] = [:]
        for line in try project.read("seen.txt").split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            result[f[0]] = (f[1], f[2])
        }
        return result
    }

    func project(configs: [String: String], gpus: Int = 2) throws -> Project {
        let project = try Project()
        for (name, text) in configs { try project.write("configs/e/\(name).yaml", text) }
        try project.write("task.sh", gatedTask, executable: true)
        try project.write("see.sh", Self.seeingTask, executable: true)
        try project.fakeNvidiaSMI(gpus: gpus)
        return project
    }

    func run(_ project: Project, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try multirun(["-c", "e/", "-check", "false", "--runner", "./see.sh {config}"] + arguments, in: project, environment: environment)
    }

    // MARK: - Identity

    @Test func anInheritedVisibleDevicesListIsTheGPUList() throws {
        let project = try project(configs: ["a": "n: 1\n", "b": "n: 2\n"], gpus: 4)
        let result = try run(project, ["-d", "1", "1"], environment: ["CUDA_VISIBLE_DEVICES": "3,1"])
        #expect(result.status == 0, "\(result.stderr)")
        let seen = try seen(project)
        #expect(Set(seen.values.map(\.cvd)) == ["3", "1"], "tasks get entries of the inherited list")
        #expect(seen.values.allSatisfy { $0.order == "PCI_BUS_ID" })
    }

    @Test func inheritedUUIDsAndMIGInstancesAreHandedOutAsGiven() throws {
        let project = try project(configs: ["a": "n: 1\n", "b": "n: 2\n"])
        _ = try run(project, ["-d", "0", "1"], environment: ["CUDA_VISIBLE_DEVICES": "GPU-0000,GPU-1111"])
        #expect(Set(try seen(project).values.map(\.cvd)) == ["GPU-1111"], "-d positions index into the inherited list")
        try FileManager.default.removeItem(atPath: project.path("seen.txt"))
        let mig = try run(project, ["-d", "1", "1", "-w"], environment: ["CUDA_VISIBLE_DEVICES": "MIG-aaaa,MIG-bbbb"])
        #expect(mig.status == 0, "\(mig.stderr)")
        #expect(Set(try seen(project).values.map(\.cvd)) == ["MIG-aaaa", "MIG-bbbb"], "one MIG instance per task")
    }

    @Test func cvdUUIDHandsOutUUIDs() throws {
        let project = try project(configs: ["a": "n: 1\n", "b": "n: 2\n"])
        let result = try run(project, ["-d", "1", "1", "--cvd", "uuid"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Set(try seen(project).values.map(\.cvd)) == ["GPU-0000", "GPU-1111"])
    }

    @Test func devicesPrintsTheInventoryWithSlots() throws {
        let project = try Project()
        try project.fakeNvidiaSMI(gpus: 2, totalMiB: 81920, usedMiB: 512, names: ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"])
        let result = try multirun(["devices", "--json", "-d", "2", "1", "--cpu-slots", "3"], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let gpus = try #require(object["gpus"] as? [[String: Any]])
        #expect(gpus.map { $0["slots"] as? Int } == [2, 1])
        #expect(gpus.map { $0["name"] as? String } == ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"])
        #expect(gpus.map { $0["uuid"] as? String } == ["GPU-0000", "GPU-1111"])
        #expect(gpus.first?["memory_total_mib"] as? Int == 81920)
        #expect(object["cpu_slots"] as? Int == 3)
        let text = try multirun(["devices"], in: project, environment: ["CUDA_VISIBLE_DEVICES": "1"])
        #expect(text.stdout.contains("GPUs from CUDA_VISIBLE_DEVICES=1"))
        #expect(text.stdout.contains("[0] CUDA_VISIBLE_DEVICES=1  NVIDIA A100-SXM4-40GB  GPU-1111"), "\(text.stdout)")
    }

    // MARK: - Resources

    /// Runs the gated task on every config; every task is let go at once after `held` started.
    func gatedRun(_ project: Project, configs: Int, holding held: Int, _ arguments: [String],
                  environment extra: [String: String] = [:]) throws -> (held: [Interval], done: [Interval], result: (status: Int32, stdout: String, stderr: String)) {
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        let environment = extra.merging(["EVENTS": events.path, "GATE": gate.path]) { $1 }
        let running = try Launched(Binaries.multirun, ["-c", "e/", "-check", "false", "--runner", "./task.sh {config}"] + arguments,
                                   in: project, environment: environment)
        let first = try events.lines(until: held) { $0.hasPrefix("start") }
        gate.send(lines: configs)
        let rest = try events.lines(until: 2 * configs - first.count) { _ in true }
        return (starts(first), intervals(from: first + rest), running.finish())
    }

    func starts(_ lines: [String]) -> [Interval] {
        lines.filter { $0.hasPrefix("start") }.map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return Interval(pid: f[1], device: f[2], start: Int64(f[3]) ?? 0, end: .max, label: f[4])
        }
    }

    @Test func aTwoGPUTaskAmidOneGPUTasksStartsBeforeTheTasksBehindIt() throws {
        var configs: [String: String] = [:]
        for i in 1...8 { configs["t-\(i)"] = i == 3 ? "resources:\n  gpus: 2\n" : "n: \(i)\n" }
        let project = try project(configs: configs)
        let run = try gatedRun(project, configs: 8, holding: 2, ["-d", "1", "1"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        let big = try #require(run.done.first { $0.label.hasSuffix("t-3.yaml") })
        #expect(big.device == "0,1", "one slot on each GPU")
        for other in run.done where other.pid != big.pid {
            #expect(other.end <= big.start || other.start >= big.end, "\(other.label) overlaps the 2-GPU task")
        }
        let behind = run.done.filter { task in (4...8).contains { task.label.hasSuffix("t-\($0).yaml") } }
        #expect(behind.allSatisfy { $0.start >= big.end }, "a task behind the 2-GPU task started before it")
        #expect(run.result.stdout.contains("[8/8]"))
    }

    @Test func eightMixedGPUsNeverHoldTwoTasksOnOneSlot() throws {
        var configs: [String: String] = [:]
        for i in 1...16 { configs[String(format: "t-%02d", i)] = i % 3 == 0 ? "resources:\n  gpus: 3\n" : "n: \(i)\n" }
        let project = try project(configs: configs, gpus: 8)
        try project.fakeNvidiaSMI(gpus: 8, names: (0..<8).map { $0 < 4 ? "NVIDIA A100-SXM4-80GB" : "NVIDIA RTX A6000" })
        // t-01, t-02, t-03 (3 GPUs), t-04, t-05 fill the 8 GPUs; t-06 (3 GPUs) waits first in line.
        let run = try gatedRun(project, configs: 16, holding: 5, [])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        #expect(Set(run.held.map(\.label)) == Set((1...5).map { String(format: "configs/e/t-%02d.yaml", $0) }))
        #expect(run.done.count == 16)
        for task in run.done {
            let gpus = task.device.split(separator: ",")
            #expect(Set(gpus).count == gpus.count, "a GPU twice in \(task.device)")
        }
        for gpu in 0..<8 {
            let onGPU = run.done.filter { $0.device.split(separator: ",").contains(Substring(String(gpu))) }
            #expect(maxConcurrency(onGPU) <= 1, "two tasks at once on GPU \(gpu)")
        }
        let threeGPU = run.done.filter { task in [3, 6, 9, 12, 15].contains { task.label.hasSuffix(String(format: "t-%02d.yaml", $0)) } }
        #expect(threeGPU.count == 5 && threeGPU.allSatisfy { $0.device.split(separator: ",").count == 3 })
    }

    @Test func cpuTasksUseTheirOwnPoolAndNeverAGPUSlot() throws {
        let cpu = "resources:\n  device: cpu\n"
        let project = try project(configs: ["c-1": cpu, "c-2": cpu, "g-1": "n: 1\n", "g-2": "n: 2\n"], gpus: 1)
        let run = try gatedRun(project, configs: 4, holding: 2, ["-d", "1", "--cpu-slots", "1"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        // c-2 waits for the one CPU slot; g-1 starts beside c-1 all the same.
        #expect(Set(run.held.map(\.label)) == ["configs/e/c-1.yaml", "configs/e/g-1.yaml"])
        let cpuTasks = run.done.filter { $0.label.contains("/c-") }
        #expect(cpuTasks.allSatisfy { $0.device == "" }, "CPU tasks see no GPU")
        #expect(run.done.filter { $0.label.contains("/g-") }.allSatisfy { $0.device == "0" })
        #expect(maxConcurrency(cpuTasks) == 1 && maxConcurrency(run.done) == 2)
        let summary = try project.latestSummary()
        #expect(Set(summary.compactMap { $0["device"] as? String }) == ["cpu", "gpu0"])
    }

    @Test func anMPITaskRunsUnderTheLauncherOnKSlots() throws {
        let project = try project(configs: ["m": "resources:\n  mpi: {np: 2}\n", "s": "n: 1\n"])
        try project.write("bin/fake-mpiexec", """
        #!/bin/sh
        echo "$@" > "$(dirname "$0")/launcher.args"
        [ "$1" = "-np" ] || exit 97
        shift 2
        exec "$@"
        """, executable: true)
        let run = try gatedRun(project, configs: 2, holding: 1, ["-gpu", "false", "-d", "2", "--mpi-launcher", "fake-mpiexec"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        let arguments = try project.read("bin/launcher.args").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(arguments == "-np 2 ./task.sh configs/e/m.yaml", "got: \(arguments)")
        #expect(maxConcurrency(run.done) == 1, "the MPI task holds both CPU slots")
        #expect(run.result.stdout.contains("The process finished: fake-mpiexec -np 2 ./task.sh configs/e/m.yaml"))
    }

    static let hasOpenMPI = FileManager.default.isExecutableFile(atPath: "/usr/bin/mpiexec")

    /// Real OpenMPI (.ci/run installs Debian's openmpi-bin): the runner runs as K ranks.
    @Test(.enabled(if: hasOpenMPI, "needs /usr/bin/mpiexec (apt-get install openmpi-bin)"))
    func realOpenMPIRunsTheRunnerAsKRanks() throws {
        let project = try project(configs: ["m": "resources:\n  mpi: {np: 2}\n"])
        try project.write("rank.sh", "#!/bin/sh\necho \"rank=${OMPI_COMM_WORLD_RANK} of ${OMPI_COMM_WORLD_SIZE} $1\"\n", executable: true)
        // OpenMPI refuses to run as root (CI) unless told it may.
        let result = try multirun(["-c", "e/", "-check", "false", "-gpu", "false", "-d", "2", "--runner", "./rank.sh {config}"], in: project,
                                  environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("The process finished: mpiexec -np 2 ./rank.sh configs/e/m.yaml [1/1]"))
        let run = try #require(project.runFolders().last)
        let log = try project.read("results/runs/\(run)/logs/configs/e/m.yaml.log")
        #expect(log.contains("rank=0 of 2 configs/e/m.yaml") && log.contains("rank=1 of 2 configs/e/m.yaml"), "log: \(log)")
    }

    // MARK: - Free-memory gate

    @Test func promisedMemoryIsNotHandedOutTwice() throws {
        let project = try project(configs: ["a": "n: 1\n", "b": "n: 2\n", "c": "n: 3\n"], gpus: 1)
        try project.fakeNvidiaSMI(gpus: 1, totalMiB: 10000, usedMiB: 0)
        // Three slots, but 10000 MiB free holds two promises of 4 GiB: the third waits for
        // one of the first two to end, although nvidia-smi never sees them allocate.
        let run = try gatedRun(project, configs: 3, holding: 2, ["-d", "3", "--min-free-mem", "4GiB"])
        #expect(run.result.status == 0, "\(run.result.stderr)")
        #expect(maxConcurrency(run.done) == 2)
    }

    @Test func aTaskWaitsForMemoryHeldOutsideAndStartsWhenItIsFreed() throws {
        let project = try project(configs: ["big": "resources:\n  gpu_memory: 20GiB\n"], gpus: 1)
        try project.fakeNvidiaSMI(gpus: 1, totalMiB: 40960, usedMiB: 30000)
        let events = try FIFO(project.path("events"))
        let running = try Launched(Binaries.multirun, ["-c", "e/", "-check", "false", "--runner", "./task.sh {config}"],
                                   in: project, environment: ["EVENTS": events.path])
        // It reads memory, finds 10960 MiB free, and waits: nvidia-smi is read again only
        // after a backoff, not in a loop.
        #expect(eventually(timeout: 30) { project.nvidiaSMICalls >= 2 })
        let freed = Int64(Date().timeIntervalSince1970 * 1e9)
        try project.fakeNvidiaSMI(gpus: 1, totalMiB: 40960, usedMiB: 1000)
        let lines = try events.lines(until: 2) { _ in true }
        let result = running.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let task = try #require(intervals(from: lines).first)
        #expect(task.start >= freed, "the task started before its memory was free")
        #expect(project.nvidiaSMICalls < 12, "nvidia-smi was read \(project.nvidiaSMICalls) times")
        // The wait is said once: which task, how much, what the GPUs had free.
        let said = result.stdout.split(separator: "\n").filter { $0.hasPrefix("Waiting for GPU memory: ") }
        #expect(said == ["Waiting for GPU memory: [1/1] configs/e/big.yaml needs 20GiB free on a GPU (free now: gpu0 10960MiB, less what tasks just started may take)"], "\(result.stdout)")
    }

    /// The daemon says the same once, in scheduler.log, naming the task by its id.
    @Test func theDaemonSaysOnceThatATaskWaitsForMemory() throws {
        let project = try project(configs: ["big": "resources:\n  gpu_memory: 20GiB\n"], gpus: 1)
        try project.fakeNvidiaSMI(gpus: 1, totalMiB: 40960, usedMiB: 30000)
        let events = try FIFO(project.path("events"))
        try submit(project)
        let daemon = try Launched(Binaries.multirun, ["daemon", "-d", "1", "--exit-when-idle"], in: project, environment: ["EVENTS": events.path])
        #expect(eventually(timeout: 30) { project.nvidiaSMICalls >= 3 })
        try project.fakeNvidiaSMI(gpus: 1, totalMiB: 40960, usedMiB: 1000)
        _ = try events.lines(until: 2) { _ in true }
        let result = daemon.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let said = try project.read(".multirun/scheduler.log").split(separator: "\n").filter { $0.contains("Waiting for GPU memory: ") }
        #expect(said.count == 1 && said[0].hasSuffix("Waiting for GPU memory: task 1 configs/e/big.yaml needs 20GiB free on a GPU (free now: gpu0 10960MiB, less what tasks just started may take)"), "\(said)")
    }

    // MARK: - The daemon

    func submit(_ project: Project, _ extra: [String] = []) throws {
        // --no-env: the daemon hands the tasks EVENTS and GATE.
        let result = try multirun(["submit", "--no-env", "-c", "e/", "--runner", "./task.sh {config}"] + extra, in: project)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func theDaemonPlacesSubmittedResourcesByTheSameRule() throws {
        var configs = ["c-1": "resources:\n  device: cpu\n"]
        for i in 1...6 { configs["t-\(i)"] = i == 3 ? "resources:\n  gpus: 2\n" : "n: \(i)\n" }
        let project = try project(configs: configs)
        try submit(project)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        let daemon = try Launched(Binaries.multirun, ["daemon", "-d", "1", "1", "--cpu-slots", "1", "--exit-when-idle"], in: project,
                                  environment: ["EVENTS": events.path, "GATE": gate.path])
        let first = try events.lines(until: 3) { $0.hasPrefix("start") }
        gate.send(lines: 7)
        let done = intervals(from: first + (try events.lines(until: 14 - first.count) { _ in true }))
        let result = daemon.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Set(starts(first).map(\.label)) == ["configs/e/c-1.yaml", "configs/e/t-1.yaml", "configs/e/t-2.yaml"])
        #expect(done.first { $0.label.hasSuffix("c-1.yaml") }?.device == "", "the CPU task sees no GPU")
        let big = try #require(done.first { $0.label.hasSuffix("t-3.yaml") })
        #expect(big.device == "0,1")
        for other in done where other.pid != big.pid && other.label.contains("/t-") {
            #expect(other.end <= big.start || other.start >= big.end, "\(other.label) overlaps the 2-GPU task")
        }
        #expect(done.filter { task in (4...6).contains { task.label.hasSuffix("t-\($0).yaml") } }.allSatisfy { $0.start >= big.end })
    }

    @Test func aRestartedDaemonAdoptsATwoGPUTaskWithBothItsSlots() throws {
        let project = try project(configs: ["t-1": "resources:\n  gpus: 2\n", "t-2": "n: 2\n"])
        try submit(project)
        let events = try FIFO(project.path("events"))
        let gate = try FIFO(project.path("gate"))
        let environment = ["EVENTS": events.path, "GATE": gate.path]
        let first = try Launched(Binaries.multirun, ["daemon", "-d", "1", "1"], in: project, environment: environment)
        let started = try events.lines(until: 1) { $0.hasPrefix("start") }
        first.signal(SIGKILL)
        _ = first.finish()
        let second = try Launched(Binaries.multirun, ["daemon", "-d", "1", "1", "--exit-when-idle"], in: project, environment: environment)
        #expect(eventually(timeout: 30) { ((try? project.read(".multirun/scheduler.log")) ?? "").contains("Adopted") })
        gate.send(lines: 2)
        let done = intervals(from: started + (try events.lines(until: 3) { _ in true }))
        #expect(second.finish().status == 0)
        let big = try #require(done.first { $0.label.hasSuffix("t-1.yaml") })
        let small = try #require(done.first { $0.label.hasSuffix("t-2.yaml") })
        #expect(big.device == "0,1")
        #expect(small.start >= big.end, "the adopted 2-GPU task's slots were handed to another task")
        // The scheduler's own order, which no timing can blur: t-2 started only after the
        // adopted t-1's end was recorded.
        let journal: [[String: Any]] = try project.read(".multirun/journal.jsonl").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        func id(_ label: String) -> String? { journal.first { $0["label"] as? String == label }?["id"] as? String }
        let bigEnded = journal.firstIndex { $0["e"] as? String == "ended" && $0["id"] as? String == id("configs/e/t-1.yaml") }
        let smallStarted = journal.firstIndex { $0["e"] as? String == "started" && $0["id"] as? String == id("configs/e/t-2.yaml") }
        #expect(bigEnded != nil && smallStarted != nil && smallStarted! > bigEnded!, "journal order: t-2 started before t-1 ended")
    }

    @Test func theDaemonFailsATaskItCanNeverPlaceAndRunsTheRest() throws {
        let project = try project(configs: ["a": "resources:\n  gpus: 3\n", "b": "n: 2\n"])
        try submit(project)
        let events = try FIFO(project.path("events"))
        let result = try multirun(["daemon", "-d", "1", "1", "--exit-when-idle"], in: project, environment: ["EVENTS": events.path])
        #expect(result.status == 0, "\(result.stderr)")
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("resources.gpus 3, but this run has 2 GPU(s) with slots"), "\(log)")
        let status = try multirun(["status", "--json"], in: project)
        #expect(status.stdout.contains("\"failed\":1") && status.stdout.contains("\"succeeded\":1"), "\(status.stdout)")
    }

    @Test func aSubmittedMPITaskRunsUnderTheLauncherFoundAtSubmit() throws {
        let project = try project(configs: ["m": "resources:\n  mpi: {np: 2}\n"])
        try project.write("bin/fake-mpiexec", "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/launcher.args\"\nshift 2\nexec \"$@\"\n", executable: true)
        try submit(project, ["--mpi-launcher", "fake-mpiexec"])
        let events = try FIFO(project.path("events"))
        let result = try multirun(["daemon", "-gpu", "false", "-d", "2", "--exit-when-idle"], in: project, environment: ["EVENTS": events.path])
        #expect(result.status == 0, "\(result.stderr)")
        let arguments = try project.read("bin/launcher.args").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(arguments.hasPrefix("-np 2 /") && arguments.hasSuffix("/task.sh configs/e/m.yaml"), "got: \(arguments)")
        #expect(try project.read(".multirun/scheduler.log").contains("The process finished: fake-mpiexec -np 2 ./task.sh configs/e/m.yaml [1/1]"))
    }

    // MARK: - Bad input

    @Test(arguments: [
        (["-d", "1", "1"], "resources:\n  gpus: 3\n", [String: String](), "config configs/e/a.yaml: resources.gpus 3, but this run has 2 GPU(s) with slots"),
        (["-d", "1", "1"], "resources:\n  device: tpu\n", [:], "configs/e/a.yaml:2:3: key 'resources.device': must be cpu or gpu (found tpu)"),
        (["-d", "1", "1"], "resources:\n  device: cpu\n", [:], "resources.device cpu runs in the CPU pool, and this run has none; pass --cpu-slots N"),
        (["-d", "1", "1"], "resources:\n  gpu_memory: 80GiB\n", [:], "resources.gpu_memory 80GiB is more than any GPU here has (largest: 40GiB)"),
        (["-gpu", "false", "-d", "2"], "resources:\n  mpi: {np: 3}\n", [:], "resources.mpi.np 3 needs 3 CPU slots at once, but the CPU pool has 2"),
        (["-gpu", "false", "-d", "2"], "resources:\n  gpus: 1\n", [:], "resources.gpus 1 asks for GPUs, but this run is CPU only"),
        (["-gpu", "false", "-d", "4", "--mpi-launcher", "no-such-mpiexec"], "resources:\n  mpi: {np: 2}\n", [:],
         "resources.mpi needs the MPI launcher 'no-such-mpiexec', which is not on PATH"),
        (["-d", "1"], "n: 1\n", ["CUDA_VISIBLE_DEVICES": "7"], "CUDA_VISIBLE_DEVICES=7: nvidia-smi lists no GPU '7'"),
        (["-d", "1"], "n: 1\n", ["CUDA_VISIBLE_DEVICES": ""], "CUDA_VISIBLE_DEVICES= hides every GPU"),
        (["-d", "1", "1", "--min-free-mem", "lots"], "n: 1\n", [:], "--min-free-mem: 'lots' is not a size"),
        (["-d", "1", "--min-free-mem", "1GiB"], "n: 1\n", ["CUDA_VISIBLE_DEVICES": "MIG-aaaa"], "nvidia-smi reports no memory for a GPU with slots"),
        (["-d", "1", "--cvd", "name"], "n: 1\n", [:], "--cvd: 'name' is not index or uuid"),
    ])
    func badResourcesStartNothing(_ arguments: [String], _ config: String, _ environment: [String: String], _ message: String) throws {
        let project = try project(configs: ["a": config, "b": "n: 2\n"])
        let result = try run(project, arguments, environment: environment)
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "one line, got: \(result.stderr)")
        #expect(result.stderr.contains(message), "got: \(result.stderr)")
        #expect(!project.exists("seen.txt") && result.stdout.isEmpty, "nothing started")
    }

    @Test func aMalformedNvidiaSMILineIsAnError() throws {
        let project = try project(configs: ["a": "n: 1\n"])
        try project.write("bin/gpus.csv", "0, GPU-0000\n")
        let result = try run(project, [])
        #expect(result.status == 2)
        #expect(result.stderr.contains("nvidia-smi printed an unexpected line 1: '0, GPU-0000'"), "got: \(result.stderr)")
    }

    /// A hung nvidia-smi is an error naming it within --probe-timeout, not a hang.
    @Test func aHungNvidiaSMIIsAnErrorWithinTheProbeTimeout() throws {
        let project = try Project()
        try project.write("bin/nvidia-smi", "#!/bin/sh\nexec sleep 60\n", executable: true)
        try project.write("configs/p/a.yaml", "command: [echo, hi]\n")
        let started = Date()
        let result = try multirun(["-c", "p/", "-d", "1", "-check", "false", "--probe-timeout", "1"], in: project)
        #expect(result.status == 2)
        #expect(result.stderr.contains("multirun: nvidia-smi did not answer within 1.00s"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    /// A memory reading that hangs never holds up a signal: Ctrl-C ends the run at once.
    @Test func aHungMemoryReadingDoesNotDelayCtrlC() throws {
        let project = try Project()
        try project.fakeNvidiaSMI(gpus: 1)
        // The first call (discovery) answers; later ones (memory readings) hang.
        try project.write("bin/nvidia-smi", """
        #!/bin/sh
        here=$(dirname "$0")
        if [ -e "$here/answered" ]; then echo $$ > "$here/hung.pid"; exec sleep 60; fi
        touch "$here/answered"
        cat "$here/gpus.csv"
        """, executable: true)
        try project.write("configs/m/a.yaml", "command: [echo, hi]\n")
        let run = try Launched(Binaries.multirun, ["-c", "m/", "-d", "1", "-check", "false", "--min-free-mem", "1GiB"], in: project)
        #expect(eventually { project.exists("bin/hung.pid") })
        let asked = Date()
        run.signal(SIGINT)
        let result = run.finish()
        #expect(result.status == 130, "\(result.stdout)\(result.stderr)")
        #expect(Date().timeIntervalSince(asked) < 1.5)
        let probe = Int32(try project.read("bin/hung.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(probe > 0 && isDead(probe))
    }
}
