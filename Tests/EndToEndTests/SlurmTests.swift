import Foundation
import Glibc
import Testing

/// A Slurm cluster that answers on this machine (`sudo scripts/slurm-cluster.sh up`).
/// Without one these tests are skipped, saying why; with MULTIRUN_SLURM_TESTS=1 (CI, after
/// bringing the cluster up) they run and fail when it is missing.
enum SlurmCluster {
    static let required = ProcessInfo.processInfo.environment["MULTIRUN_SLURM_TESTS"] == "1"

    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sbatch") || which("sbatch") != nil else { return false }
        return (try? shell("timeout 5 scontrol ping"))?.status == 0
    }()

    static let runs = available || required

    static func which(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a shell line (Slurm's own clients, for checks) and returns its status and output.
    @discardableResult
    static func shell(_ line: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", line]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func maxArraySize() throws -> Int {
        let text = try shell("timeout 10 scontrol show config").output
        let line = text.split(separator: "\n").first { $0.hasPrefix("MaxArraySize") }
        return line.flatMap { Int($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) } ?? 1001
    }
}

/// `multirun --backend slurm` against a real slurmctld and slurmd (scripts/slurm-cluster.sh:
/// one node, 4 fake GPUs). Serialized: the tests share the cluster's GPUs.
@Suite(.serialized, .enabled(if: SlurmCluster.runs, "no Slurm cluster answers here (scontrol ping); bring one up with: sudo scripts/slurm-cluster.sh up"))
struct SlurmTests {
    static let environment = ["MULTIRUN_SLURM_POLL": "0.3"]

    /// Records `start|pid|cvd|ns|config` and `end|pid|cvd|ns` in $EVENTS_FILE, sleeps
    /// $SLEEP s (or until the file `go` exists, when $WAIT_FOR_GO is set), then exits with
    /// the number in the config's `exit:` line unless the file `pass` exists.
    static let task = """
    #!/bin/sh
    here=$(dirname "$0")
    echo "start|$$|${CUDA_VISIBLE_DEVICES-unset}|$(date +%s%N)|$2" >> "$here/events"
    if [ -n "$WAIT_FOR_GO" ]; then
        while [ ! -e "$here/go" ]; do sleep 0.1; done
    else
        sleep "${SLEEP:-0}"
    fi
    echo "end|$$|${CUDA_VISIBLE_DEVICES-unset}|$(date +%s%N)" >> "$here/events"
    code=$(sed -n 's/^exit: *//p' "$2")
    if [ -n "$code" ] && [ ! -e "$here/pass" ]; then exit "$code"; fi
    mkdir -p "$MULTIRUN_OUTPUT" && echo done > "$MULTIRUN_OUTPUT/out.txt"
    """

    func project(configs count: Int, failing: Set<Int> = []) throws -> Project {
        #expect(SlurmCluster.available, "MULTIRUN_SLURM_TESTS=1 but no Slurm cluster answers (scontrol ping); run sudo scripts/slurm-cluster.sh up first")
        let project = try Project()
        try project.write("task.sh", Self.task, executable: true)
        for index in 1...count {
            try project.write(String(format: "configs/s/t%02d.yaml", index), "name: t\(index)\n" + (failing.contains(index) ? "exit: 3\n" : ""))
        }
        return project
    }

    func run(_ project: Project, _ arguments: [String], extra: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try multirun(["--backend", "slurm", "--runner", project.path("task.sh") + " -c {config}", "-check", "false"] + arguments,
                     in: project, environment: Self.environment.merging(extra) { $1 })
    }

    func events(_ project: Project) -> [String] {
        ((try? project.read("events")) ?? "").split(separator: "\n").map(String.init)
    }

    func statuses(_ project: Project) throws -> [String: String] {
        var result: [String: String] = [:]
        for row in try project.latestSummary() { result[row["config"] as? String ?? "?"] = row["status"] as? String }
        return result
    }

    func runFolder(_ project: Project) -> String { project.path("results/runs/" + (project.runFolders().last ?? "?")) }

    /// Jobs of this run that squeue still lists as pending or running.
    func liveJobs(_ project: Project) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: runFolder(project) + "/slurm/jobs.json"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let ids = (object?["arrays"] as? [[String: Any]] ?? []).compactMap { $0["job"] as? String }
        var live: [String] = []
        for id in ids {
            let answer = try SlurmCluster.shell("timeout 10 squeue -h -r -j \(id) -t PENDING,RUNNING,COMPLETING,CONFIGURING,SUSPENDED -o %i")
            live += answer.output.split(separator: "\n").map(String.init).filter { $0.hasPrefix(id + "_") }
        }
        return live
    }

    // MARK: - GPUs, %K, exit codes, resume

    /// Six 2-second GPU tasks with -d 1 1 (K = 2): each saw one GPU of its own, no more than
    /// two ran at once, the failing task's exit code reached the summary, logs and markers
    /// are where a local run puts them, and a rerun runs only the failed one.
    @Test func gpuTasksThrottledFailingCodeAndResume() throws {
        let project = try project(configs: 6, failing: [3])
        let first = try run(project, ["-c", "s/", "-d", "1", "1"], extra: ["SLEEP": "2"])
        #expect(first.status == 1, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("[6/6]"), "\(first.stdout)")
        #expect(first.stdout.contains("The process failed with exit code 3"), "\(first.stdout)")
        #expect(first.stdout.contains("at most 2 at once"), "\(first.stdout)")
        let spans = intervals(from: events(project))
        #expect(spans.count == 6)
        #expect(maxConcurrency(spans) <= 2, "the array's %2 was exceeded: \(spans)")
        // Every task saw exactly one of the node's 4 GPUs, and overlapping tasks saw different ones.
        for span in spans { #expect(["0", "1", "2", "3"].contains(span.device), "CUDA_VISIBLE_DEVICES=\(span.device)") }
        for a in spans { for b in spans where a.pid != b.pid && a.start < b.end && b.start < a.end { #expect(a.device != b.device) } }
        let rows = try project.latestSummary()
        let failed = try #require(rows.first { ($0["config"] as? String) == "configs/s/t03.yaml" })
        #expect(failed["status"] as? String == "failed")
        #expect(failed["exit_code"] as? Int == 3)
        #expect(rows.filter { $0["status"] as? String == "succeeded" }.count == 5)
        for row in rows {
            let log = try #require(row["log"] as? String)
            #expect(log.hasPrefix("results/runs/") && log.hasSuffix(".yaml.log") && project.exists(log), "\(log)")
        }
        #expect(project.exists("results/s/t01/multirun-done.json"))
        #expect(!project.exists("results/s/t03/multirun-done.json"))

        try project.write("pass", "")
        try project.write("events", "")
        let second = try run(project, ["-c", "s/", "--array-limit", "2"])
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("5 skipped"), "\(second.stdout)")
        #expect(second.stdout.contains("The process finished: \(project.path("task.sh")) -c configs/s/t03.yaml [1/1]"), "\(second.stdout)")
        #expect(events(project).filter { $0.hasPrefix("start|") }.count == 1)
    }

    // MARK: - Cancel

    /// SIGINT while tasks run: the arrays are cancelled, nothing of the run stays in squeue,
    /// the tasks are recorded interrupted or not started, and a rerun runs them all.
    @Test func interruptCancelsTheArraysAndResumeRunsThemAgain() throws {
        let project = try project(configs: 4)
        let launched = try Launched(Binaries.multirun, ["-c", "s/", "--backend", "slurm", "--array-limit", "2", "--runner", project.path("task.sh") + " -c {config}", "-check", "false"],
                                    in: project, environment: Self.environment.merging(["WAIT_FOR_GO": "1"]) { $1 })
        #expect(eventually(timeout: 60) { events(project).filter { $0.hasPrefix("start|") }.count == 2 }, "two tasks never started")
        launched.signal(SIGINT)
        let stopped = launched.finish()
        #expect(stopped.status == 130, "\(stopped.stdout)\n\(stopped.stderr)")
        #expect(stopped.stdout.contains("Interrupted by SIGINT"), "\(stopped.stdout)")
        #expect(try liveJobs(project).isEmpty)
        let statuses = try statuses(project)
        #expect(statuses.values.filter { $0 == "interrupted" }.count == 2, "\(statuses)")
        #expect(statuses.values.filter { $0 == "not_started" }.count == 2, "\(statuses)")
        #expect(!project.exists("results/s/t01/multirun-done.json"))

        try project.write("go", "")
        let again = try run(project, ["-c", "s/", "--array-limit", "4"])
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        #expect(again.stdout.contains("[4/4]") && again.stdout.contains("0 skipped"), "\(again.stdout)")
    }

    // MARK: - One identity on both backends

    /// Through the default runner (runone): a config completed locally is skipped on Slurm,
    /// and one completed on Slurm is skipped locally.
    @Test func configsCompletedOnEitherBackendAreSkippedOnTheOther() throws {
        #expect(SlurmCluster.available, "no Slurm cluster answers (scontrol ping)")
        let project = try Project()
        try project.write("configs/x/a.yaml", "command: \"echo a > {output}/out.txt\"\n")
        try project.write("configs/x/b.yaml", "command: \"echo b > {output}/out.txt\"\n")
        let local = try multirun(["-c", "x/a", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(local.status == 0, "\(local.stdout)\n\(local.stderr)")
        let slurm = try multirun(["-c", "x/", "--backend", "slurm", "-gpu", "false", "-check", "false"], in: project, environment: Self.environment)
        #expect(slurm.status == 0, "\(slurm.stdout)\n\(slurm.stderr)")
        #expect(slurm.stdout.contains("Skip configs/x/a.yaml"), "\(slurm.stdout)")
        #expect(slurm.stdout.contains("1 succeeded") && slurm.stdout.contains("1 skipped"), "\(slurm.stdout)")
        #expect(try project.read("results/x/b/out.txt") == "b\n")
        let after = try multirun(["-c", "x/", "-gpu", "false", "-d", "1", "-check", "false"], in: project)
        #expect(after.status == 0 && after.stdout.contains("2 skipped"), "\(after.stdout)")
    }

    // MARK: - MaxArraySize

    /// 25 tasks where MaxArraySize is smaller (10 on CI's cluster): bundled so no array is
    /// longer than the cap, and every task still has its own log, record and marker.
    @Test func tasksBeyondMaxArraySizeAreBundled() throws {
        let project = try project(configs: 25)
        let cap = try SlurmCluster.maxArraySize()
        let result = try run(project, ["-c", "s/", "--array-limit", "4"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("[25/25]") && result.stdout.contains("25 succeeded"), "\(result.stdout)")
        let data = try Data(contentsOf: URL(fileURLWithPath: runFolder(project) + "/slurm/jobs.json"))
        let arrays = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["arrays"] as? [[String: Any]])
        for array in arrays {
            let tasks = (array["tasks"] as? [Int])?.count ?? 0
            let bundle = array["bundle"] as? Int ?? 1
            #expect((tasks + bundle - 1) / bundle <= cap, "an array of \(tasks) tasks, \(bundle) per element, is longer than MaxArraySize \(cap)")
        }
        if cap == 10 { #expect(arrays.first?["bundle"] as? Int == 3, "25 tasks under MaxArraySize 10: 3 per element") }
        for index in 1...25 { #expect(project.exists(String(format: "results/s/t%02d/multirun-done.json", index))) }
        #expect(Set(intervals(from: events(project)).map(\.label)).count == 25)
    }

    // MARK: - No exit record

    /// A wrapper killed with SIGKILL writes no exit record: the outcome comes from Slurm
    /// (FAILED, signal 9), and is never a success.
    @Test func aKilledWrapperIsReportedFromSlurmsExitCode() throws {
        let project = try project(configs: 1)
        let launched = try Launched(Binaries.multirun, ["-c", "s/", "--backend", "slurm", "--runner", project.path("task.sh") + " -c {config}", "-check", "false"],
                                    in: project, environment: Self.environment.merging(["WAIT_FOR_GO": "1"]) { $1 })
        let started = { self.runFolder(project) + "/slurm/started/1.json" }
        #expect(eventually(timeout: 60) { FileManager.default.fileExists(atPath: started()) })
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: started()))) as? [String: Any]
        let pid = try #require(record?["pid"] as? Int)
        kill(Int32(pid), SIGKILL)
        let result = launched.finish()
        // The task may outlive its killed wrapper (proctrack/linuxproc can lose an orphan):
        // let it end before the project goes.
        try project.write("go", "")
        let start = events(project).first { $0.hasPrefix("start|") }
        if let pid = start.flatMap({ Int32($0.split(separator: "|")[1]) }) { #expect(eventually(timeout: 30) { isDead(pid) }) }
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("killed by signal 9"), "\(result.stdout)")
        let row = try #require(try project.latestSummary().first)
        #expect(row["status"] as? String == "failed")
        #expect(row["signal"] as? Int == 9)
        #expect(!project.exists("results/s/t01/multirun-done.json"))
    }

    // MARK: - Preemption

    /// Tasks preempted by a higher-priority partition's job (scripts/slurm-cluster.sh:
    /// `urgent` preempts `debug` with REQUEUE) are said to be interrupted and requeued, run
    /// again, and end as what their second run was: never failed.
    @Test func preemptedTasksAreRequeuedAndRunAgain() throws {
        let project = try project(configs: 2)
        let partitions = try SlurmCluster.shell("timeout 10 sinfo -h -o %P").output
        try #require(partitions.contains("urgent"), "the cluster has no 'urgent' partition (scripts/slurm-cluster.sh makes one)")
        let launched = try Launched(Binaries.multirun, ["-c", "s/", "--backend", "slurm", "-d", "1", "1", "--runner", project.path("task.sh") + " -c {config}", "-check", "false"],
                                    in: project, environment: Self.environment.merging(["WAIT_FOR_GO": "1"]) { $1 })
        #expect(eventually(timeout: 60) { events(project).filter { $0.hasPrefix("start|") }.count == 2 }, "the tasks never started")
        let urgent = try SlurmCluster.shell("timeout 10 sbatch --parsable -p urgent --gres=gpu:4 -o /dev/null --wrap 'sleep 1'")
        #expect(urgent.status == 0, "\(urgent.output)")
        let data = try Data(contentsOf: URL(fileURLWithPath: runFolder(project) + "/slurm/jobs.json"))
        let job = try #require(((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["arrays"] as? [[String: Any]])?.first?["job"] as? String)
        // Slurm makes a requeued job wait 2 minutes (BeginTime); the test lets it start at once.
        #expect(eventually(timeout: 60) {
            (try? SlurmCluster.shell("timeout 10 squeue -h -r -j \(job) -t PENDING -o %i").output.split(separator: "\n").count) == 2
        }, "the preempted elements were not requeued")
        try project.write("go", "")
        for element in 0..<2 { try SlurmCluster.shell("timeout 10 scontrol update JobId=\(job)_\(element) StartTime=now") }
        let result = launched.finish()
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("Slurm requeued job \(job)_0; it runs again"), "\(result.stdout)")
        #expect(result.stdout.contains("2 succeeded"), "\(result.stdout)")
        #expect(events(project).filter { $0.hasPrefix("start|") }.count == 4)
        #expect(project.exists("results/s/t01/multirun-done.json") && project.exists("results/s/t02/multirun-done.json"))
    }

    // MARK: - sbatch errors, detach

    /// sbatch's refusal is one line with its own message, and nothing is left submitted.
    @Test func anSbatchRefusalIsOneLineAndSubmitsNothing() throws {
        let project = try project(configs: 2)
        let before = try SlurmCluster.shell("timeout 10 squeue -h -o %i").output
        let result = try run(project, ["-c", "s/", "--sbatch-arg=--partition=no-such-partition"])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("sbatch refused") && lines[0].lowercased().contains("partition"), "\(result.stderr)")
        #expect(try SlurmCluster.shell("timeout 10 squeue -h -o %i").output == before)
        #expect(!result.stdout.contains("Start the process"))
    }

    /// A controller that does not answer: one line saying so, at once (Slurm's clients
    /// would retry for seconds), and no run folder.
    @Test func noControllerIsOneLineAndStartsNothing() throws {
        let project = try project(configs: 1)
        let conf = try String(contentsOfFile: "/etc/slurm/slurm.conf", encoding: .utf8)
        let dead = conf.split(separator: "\n").map { $0.hasPrefix("SlurmctldPort=") ? "SlurmctldPort=1" : String($0) }.joined(separator: "\n")
        try project.write("dead/slurm.conf", dead + "\n")
        let started = Date()
        let result = try run(project, ["-c", "s/"], extra: ["SLURM_CONF": project.path("dead/slurm.conf")])
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 20)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("no Slurm controller answers"), "\(result.stderr)")
        #expect(project.runFolders().isEmpty)
    }

    /// --detach submits and exits; wait --run follows the run to its end and writes its
    /// summary; status --run tells where it is.
    @Test func detachThenStatusAndWait() throws {
        let project = try project(configs: 2)
        let detached = try run(project, ["-c", "s/", "--detach"])
        #expect(detached.status == 0, "\(detached.stdout)\n\(detached.stderr)")
        let id = try #require(project.runFolders().last)
        #expect(detached.stdout.contains("multirun wait --run \(id)"), "\(detached.stdout)")
        let status = try multirun(["status", "--run", id], in: project, environment: Self.environment)
        #expect(status.status == 0 && status.stdout.contains("Run \(id): 2 task(s)"), "\(status.stdout)\n\(status.stderr)")
        let waited = try multirun(["wait", "--run", id], in: project, environment: Self.environment)
        #expect(waited.status == 0, "\(waited.stdout)\n\(waited.stderr)")
        #expect(waited.stdout.contains("[2/2]") && waited.stdout.contains("2 succeeded"), "\(waited.stdout)")
        #expect(project.exists("results/runs/\(id)/summary.json"))
        #expect(project.exists("results/s/t02/multirun-done.json"))
    }

    // MARK: - Commands, CPU mode, dry run

    /// `--commands` lines as Slurm tasks in CPU mode: no GPU asked, none visible, exit
    /// codes in the summary, logs at the local run's paths.
    @Test func commandsRunAsCPUTasks() throws {
        #expect(SlurmCluster.available, "no Slurm cluster answers (scontrol ping)")
        let project = try Project()
        try project.write("jobs.txt", "echo one\nsh -c 'exit 4'\necho \"[${CUDA_VISIBLE_DEVICES-unset}]\" > cvd.txt\n")
        let result = try multirun(["--commands", "jobs.txt", "--backend", "slurm", "-gpu", "false", "-d", "2", "-check", "false"], in: project, environment: Self.environment)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("The process failed with exit code 4") && result.stdout.contains("[3/3]"), "\(result.stdout)")
        #expect(try project.read("cvd.txt") == "[]\n", "a CPU task sees no GPU")
        let rows = try project.latestSummary()
        #expect(rows.compactMap { $0["exit_code"] as? Int }.sorted() == [0, 0, 4])
        #expect(try project.read(try #require(rows.first?["log"] as? String)) == "one\n")
    }

    /// An MPI config (`resources: {mpi: {np: 2}}`) asks `--ntasks=2` and runs under srun:
    /// two copies of the runner, ranks 0 and 1, one task in the summary.
    @Test func mpiConfigsRunUnderSrunWithTheirRanks() throws {
        #expect(SlurmCluster.available, "no Slurm cluster answers (scontrol ping)")
        let project = try Project()
        try project.write("rank.sh", "#!/bin/sh\necho \"rank $SLURM_PROCID of $SLURM_NTASKS\" >> \"$(dirname \"$0\")/ranks\"\n", executable: true)
        try project.write("configs/m/a.yaml", "resources: {mpi: {np: 2}}\n")
        let result = try multirun(["-c", "m/", "--backend", "slurm", "--runner", project.path("rank.sh") + " -c {config}", "-check", "false"],
                                  in: project, environment: Self.environment)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("[1/1]") && result.stdout.contains("1 succeeded"), "\(result.stdout)")
        let ranks = try project.read("ranks").split(separator: "\n").sorted()
        #expect(ranks == ["rank 0 of 2", "rank 1 of 2"], "\(ranks)")
        #expect(project.exists("results/m/a/multirun-done.json"))
    }

    /// --dry-run prints the sbatch commands and submits and writes nothing.
    @Test func dryRunPrintsTheSbatchCommands() throws {
        let project = try project(configs: 3)
        let result = try run(project, ["-c", "s/", "--array-limit", "2", "--sbatch-arg=--partition=debug", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Would submit: sbatch --parsable") && result.stdout.contains("--array=0-2%2 --gres=gpu:1 --partition=debug"), "\(result.stdout)")
        #expect(project.runFolders().isEmpty && events(project).isEmpty)
    }

    // MARK: - Time limits

    /// A task's time limit (`resources: {time: ...}` → `--time`): the element's TIMEOUT
    /// makes it timed_out, not failed and not interrupted. Slurm keeps limits in whole
    /// minutes and checks them about every 30 s, so this takes 60 to 100 s.
    @Test func aTaskPastItsTimeLimitIsTimedOut() throws {
        #expect(SlurmCluster.available, "no Slurm cluster answers (scontrol ping)")
        let project = try Project()
        try project.write("slow.sh", "#!/bin/sh\nsleep 300\n", executable: true)
        try project.write("configs/t/slow.yaml", "resources: {time: 5}\n")
        let result = try multirun(["-c", "t/", "--backend", "slurm", "-gpu", "false", "--runner", project.path("slow.sh") + " -c {config}", "-check", "false"],
                                  in: project, environment: ["MULTIRUN_SLURM_POLL": "1"])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("The process timed out and was stopped"), "\(result.stdout)")
        let row = try #require(try project.latestSummary().first)
        #expect(row["status"] as? String == "timed_out")
        #expect(!project.exists("results/t/slow/multirun-done.json"))
    }

    // MARK: - A job Slurm forgot

    /// A task that left no exit record and whose job the controller forgot (here: a cold
    /// restart, as MinJobAge does after the end) is `unknown`, never a success. Needs the
    /// cluster of scripts/slurm-cluster.sh, which can restart its controller.
    @Test func aForgottenJobWithoutRecordIsUnknown() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/slurm-cluster.sh").path
        let dir = ProcessInfo.processInfo.environment["MULTIRUN_SLURM_DIR"] ?? "/tmp/multirun-slurm"
        guard FileManager.default.fileExists(atPath: dir + "/run/slurmctld.pid") else {
            print("skipping aForgottenJobWithoutRecordIsUnknown: the cluster is not scripts/slurm-cluster.sh's (no \(dir)/run/slurmctld.pid)")
            return
        }
        let project = try project(configs: 1)
        let detached = try multirun(["-c", "s/", "--backend", "slurm", "--runner", project.path("task.sh") + " -c {config}", "-check", "false", "--detach"],
                                    in: project, environment: Self.environment.merging(["WAIT_FOR_GO": "1"]) { $1 })
        #expect(detached.status == 0, "\(detached.stderr)")
        let id = try #require(project.runFolders().last)
        let started = project.path("results/runs/\(id)/slurm/started/1.json")
        #expect(eventually(timeout: 60) { FileManager.default.fileExists(atPath: started) })
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: started))) as? [String: Any]
        kill(Int32(try #require(record?["pid"] as? Int)), SIGKILL)
        try project.write("go", "")
        let start = events(project).first { $0.hasPrefix("start|") }
        if let pid = start.flatMap({ Int32($0.split(separator: "|")[1]) }) { #expect(eventually(timeout: 30) { isDead(pid) }) }
        let forgot = try SlurmCluster.shell("timeout 60 bash \(script) forget")
        #expect(forgot.status == 0, "\(forgot.output)")
        let waited = try multirun(["wait", "--run", id], in: project, environment: Self.environment)
        #expect(waited.status == 1, "\(waited.stdout)\n\(waited.stderr)")
        #expect(waited.stdout.contains("The process ended with an unknown result (Slurm no longer knows job"), "\(waited.stdout)")
        #expect(try project.latestSummary().first?["status"] as? String == "unknown")
        #expect(!project.exists("results/s/t01/multirun-done.json"))
    }
}
