import Foundation
import Testing

/// Every bad input: exit 2, one line naming the problem, and nothing started or written.
@Suite(.serialized)
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let message: String
        var noGPUTool = false
        var failingGPUTool = false
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: ["-c", "t-", "-d", "0", "-1", "-check", "false"], message: "'-1' (position 1) is negative"),
        Case(arguments: ["-c", "t-", "-d", "0", "x", "-check", "false"], message: "'x' (position 1) is not a whole number"),
        Case(arguments: ["-c", "t-", "-d", "-check", "false"], message: "-d needs at least one value"),
        Case(arguments: ["-c", "t-", "-d", "0", "0", "-check", "false"], message: "every value is 0"),
        Case(arguments: ["-c", "t-", "-d", "1", "1", "1", "1", "1", "-check", "false"], message: "position 4 ('1') names no GPU"),
        Case(arguments: ["-c", "t-", "-gpu", "maybe", "-check", "false"], message: "-gpu: 'maybe' is not a boolean"),
        Case(arguments: ["-c", "t-", "-check", "sure"], message: "-check: 'sure' is not a boolean"),
        Case(arguments: ["-c", "t-(", "-check", "false"], message: "is not a valid regular expression"),
        Case(arguments: ["-c", "nothing-like-this", "-check", "false"], message: "no config matches -c 'nothing-like-this' among 2 config files under configs/"),
        Case(arguments: ["-c", "t-", "-gpu", "false", "-d", "1", "2", "-check", "false"], message: "in CPU mode (-gpu false) -d takes one value"),
        Case(arguments: ["-c", "t-", "-check", "false", "--frobnicate"], message: "unknown option '--frobnicate'"),
        Case(arguments: ["-check", "false"], message: "nothing to run"),
        Case(arguments: ["-c", "t-", "--timeout", "soon", "-check", "false"], message: "--timeout: 'soon' is not a positive number"),
        Case(arguments: ["-c", "t-", "--runner", "./missing.sh", "-check", "false"], message: "runner './missing.sh' is not an executable file"),
        Case(arguments: ["-c", "t-", "--runner", "no-such-program-xyz", "-check", "false"], message: "runner 'no-such-program-xyz' was not found on PATH"),
        Case(arguments: ["-c", "t-", "--configs", "nowhere", "-check", "false"], message: "config folder 'nowhere' not found"),
        Case(arguments: ["-c", "t-"], message: "standard input is not a terminal"),
        Case(arguments: ["-c", "t-", "-check", "false"], message: "no GPU found", noGPUTool: true),
        Case(arguments: ["-c", "t-", "-check", "false"], message: "nvidia-smi failed (exit code 9)", failingGPUTool: true),
        Case(arguments: ["--commands", "cmds.txt", "-gpu", "false", "-check", "false"], message: "line 2: program 'no-such-program-xyz' not found on PATH"),
    ]

    @Test(arguments: cases)
    func rejected(_ item: Case) throws {
        let project = try Project()
        try project.write("configs/e/t-1.yaml", "n: 1\n")
        try project.write("configs/e/t-2.yaml", "n: 2\n")
        try project.write("task.sh", "#!/bin/sh\ntouch started\n", executable: true)
        try project.write("cmds.txt", "touch started\nno-such-program-xyz --flag\n")
        if item.failingGPUTool {
            try project.write("bin/nvidia-smi", "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n", executable: true)
        } else if !item.noGPUTool {
            try project.fakeNvidiaSMI(gpus: 4)
        }
        var arguments = item.arguments
        if !arguments.contains("--runner") && !arguments.contains("--commands") { arguments += ["--runner", "./task.sh {config}"] }
        // Without the fake nvidia-smi, PATH holds only system folders (no GPU tool there in CI).
        let environment = item.noGPUTool ? ["PATH": "/usr/bin:/bin"] : [:]
        let result = try multirun(arguments, in: project, environment: environment)
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line, got: \(result.stderr)")
        #expect(result.stderr.hasPrefix("multirun: "))
        #expect(result.stderr.contains(item.message), "got: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!project.exists("started"), "a task started")
        #expect(project.runFolders().isEmpty, "a run folder was written")
    }

    @Test func helpAndVersionExitZero() throws {
        let project = try Project()
        let help = try multirun(["--help"], in: project)
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: multirun -c REGEX"))
        #expect(help.stdout.contains("{config} {output} {gpu} {slot} {overwrite}"))
        let version = try multirun(["--version"], in: project)
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("multirun "))
    }
}
