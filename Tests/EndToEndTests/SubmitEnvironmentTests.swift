import Foundation
import Glibc
import Testing

/// The submitter's environment is captured at submit (one env file per submit) and is what
/// its tasks start with; the slot's variables always win; `--no-env` keeps the daemon's.
@Suite(.serialized)
struct SubmitEnvironmentTests {
    /// Writes what a task sees to seen-N.txt: FOO, the venv tool's output (found on PATH),
    /// CUDA_VISIBLE_DEVICES, MULTIRUN_SLOT, MULTIRUN_TASK, MULTIRUN_GPU.
    static let show = """
    #!/bin/sh
    tool=$(venv-tool 2>/dev/null || echo no-tool)
    echo "$FOO|$tool|${CUDA_VISIBLE_DEVICES-unset}|$MULTIRUN_SLOT|$MULTIRUN_TASK|$MULTIRUN_GPU" > "seen-$1.txt"
    """

    func project() throws -> Project {
        let project = try Project()
        try project.write("show.sh", Self.show, executable: true)
        try project.write("venv/bin/venv-tool", "#!/bin/sh\necho tool-from-venv\n", executable: true)
        try project.write("jobs.txt", "./show.sh 1\n./show.sh 2\n")
        return project
    }

    func daemon(_ project: Project, environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Launched(Binaries.multirun, ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project, environment: environment).finish()
    }

    func submittedEvents(_ project: Project) throws -> [[String: Any]] {
        try project.read(".multirun/journal.jsonl").split(separator: "\n").compactMap { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }.filter { $0["e"] as? String == "submitted" }
    }

    @Test func theSubmittersEnvironmentReachesItsTasksButNotOverTheSlots() throws {
        let project = try project()
        let submitter = ["FOO": "from-submit", "PATH": project.path("venv/bin") + ":" + project.pathWithFakes,
                         "CUDA_VISIBLE_DEVICES": "7", "CUDA_DEVICE_ORDER": "FASTEST_FIRST",
                         "MULTIRUN_SLOT": "99", "MULTIRUN_TASK": "bogus", "MULTIRUN_GPU": "bogus"]
        let submitted = try multirun(["submit", "--commands", "jobs.txt"], in: project, environment: submitter)
        #expect(submitted.status == 0, "\(submitted.stderr)")

        // One file for the whole submit, named by both submitted events, mode 0600.
        let events = try submittedEvents(project)
        #expect(events.count == 2 && events.allSatisfy { $0["env"] as? String == "env/1.env" }, "\(events)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path(".multirun/env")) == ["1.env"])
        var info = stat()
        #expect(stat(project.path(".multirun/env/1.env"), &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(try project.read(".multirun/env/1.env").split(separator: "\0").contains("FOO=from-submit"))

        // The daemon runs with another FOO and without the venv on its PATH.
        let result = try daemon(project, environment: ["FOO": "from-daemon"])
        #expect(result.status == 0, "\(result.stderr)")
        for n in 1...2 {
            // CPU slot 0: CUDA_VISIBLE_DEVICES empty (GPUs hidden), MULTIRUN_* the task's own.
            #expect(try project.read("seen-\(n).txt") == "from-submit|tool-from-venv||0|\(n)|\n")
        }
        // The next scheduler removes the file: every task of its submit ended.
        #expect(try daemon(project, environment: [:]).status == 0)
        #expect(!project.exists(".multirun/env/1.env"))
    }

    @Test func noEnvGivesTheDaemonsEnvironment() throws {
        let project = try project()
        let submitted = try multirun(["submit", "--no-env", "--commands", "jobs.txt"], in: project,
                                     environment: ["FOO": "from-submit", "PATH": project.path("venv/bin") + ":" + project.pathWithFakes])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(try submittedEvents(project).allSatisfy { $0["env"] == nil })
        #expect(!project.exists(".multirun/env"))
        let result = try daemon(project, environment: ["FOO": "from-daemon"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.read("seen-1.txt") == "from-daemon|no-tool||0|1|\n")
    }

    /// A captured environment that is gone at launch: the task fails to start, and the
    /// scheduler log says why; the scheduler carries on.
    @Test func aMissingEnvironmentFileFailsTheTaskWithAReason() throws {
        let project = try project()
        #expect(try multirun(["submit", "--commands", "jobs.txt"], in: project, environment: ["FOO": "from-submit"]).status == 0)
        try FileManager.default.removeItem(atPath: project.path(".multirun/env/1.env"))
        let result = try daemon(project, environment: ["FOO": "from-daemon"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!project.exists("seen-1.txt") && !project.exists("seen-2.txt"))
        let log = try project.read(".multirun/scheduler.log")
        #expect(log.contains("The process could not start (cannot open the environment captured at submit, \(project.path(".multirun/env/1.env")): No such file or directory)"), "\(log)")
        let counts = try multirun(["status", "--json"], in: project).stdout
        #expect(counts.contains("\"failed\":2"), "\(counts)")
    }
}
