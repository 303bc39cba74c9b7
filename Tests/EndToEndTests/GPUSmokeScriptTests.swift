import Foundation
import Testing

/// Tests/GPU/run.sh, the smoke test for a real GPU machine (issue 16): it parses, says
/// "skipped" and exits 0 where there is no GPU, and, dry-run against the fake nvidia-smi and
/// fake PyTorch in Tests/GPU/fake, passes, and fails when a task sees the wrong device.
struct GPUSmokeScriptTests {
    static let gpuFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("GPU").path
    static let script = gpuFolder + "/run.sh"

    func run(_ arguments: [String], path: String, environment extra: [String: String] = [:]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = path
        environment["CUDA_VISIBLE_DEVICES"] = nil
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func theScriptParses() throws {
        let result = try run(["-n", Self.script], path: "/usr/bin:/bin")
        #expect(result.status == 0, "\(result.stdout)")
    }

    /// No nvidia-smi at all: only `date` on PATH (the script's one command before it looks).
    @Test func withoutNvidiaSMIItSaysSkippedAndExitsZero() throws {
        let project = try Project()
        try FileManager.default.createDirectory(atPath: project.path("only"), withIntermediateDirectories: true)
        let date = ["/usr/bin/date", "/bin/date"].first { FileManager.default.isExecutableFile(atPath: $0) }!
        try FileManager.default.createSymbolicLink(atPath: project.path("only/date"), withDestinationPath: date)
        let result = try run([Self.script, "/nonexistent"], path: project.path("only"))
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout == "GPU smoke: skipped (no nvidia-smi on PATH: no NVIDIA GPU here)\n", "\(result.stdout)")
    }

    /// nvidia-smi installed but no driver or device, as in a container without GPUs.
    @Test func anNvidiaSMIThatFindsNoGPUMeansSkipped() throws {
        let project = try Project()
        try project.write("bin/nvidia-smi", """
        #!/bin/sh
        echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
        exit 9
        """, executable: true)
        let result = try run([Self.script], path: project.path("bin") + ":/usr/bin:/bin")
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.hasPrefix("GPU smoke: skipped (nvidia-smi finds no GPU: NVIDIA-SMI has failed"), "\(result.stdout)")
        #expect(!result.stdout.contains("PASS") && !result.stdout.contains("FAIL"))
    }

    @Test func moreThanOneArgumentIsAUsageError() throws {
        let result = try run([Self.script, "a", "b"], path: "/usr/bin:/bin")
        #expect(result.status == 2)
        #expect(result.stdout.contains("usage: Tests/GPU/run.sh [DIR-with-multirun-and-runone]"))
    }

    func dryRun(wrongDevice: Bool) throws -> (status: Int32, stdout: String) {
        let project = try Project()
        try FileManager.default.createDirectory(atPath: project.path("state"), withIntermediateDirectories: true)
        var environment = ["PYTHONPATH": Self.gpuFolder + "/fake", "FAKE_GPU_STATE": project.path("state"), "FAKE_GPUS": "1", "TMPDIR": project.root]
        if wrongDevice { environment["FAKE_GPU_WRONG"] = "9" }
        return try run([Self.script, Binaries.folder],
                       path: Self.gpuFolder + "/fake/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                       environment: environment)
    }

    /// The whole script against the fakes: every check passes, and each can fail.
    @Test func aDryRunOnFakesPasses() throws {
        let result = try dryRun(wrongDevice: false)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("PASS  kernel: pidfd_open and the child subreaper work"), "\(result.stdout)")
        #expect(result.stdout.contains("PASS  placement: 4 tasks, 2 slots on each of 1 GPU(s)"), "\(result.stdout)")
        #expect(result.stdout.contains("PASS  gate: --min-free-mem 4000MiB (40% of 10000 MiB free) with 4 slots: 2 tasks held"), "\(result.stdout)")
        #expect(result.stdout.hasSuffix(")\n") && result.stdout.contains("\nGPU smoke: PASS ("), "\(result.stdout)")
    }

    @Test func aTaskOnTheWrongDeviceFailsTheRun() throws {
        let result = try dryRun(wrongDevice: true)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("torch's device 0 is GPU-9999, multirun gave GPU-0000"), "\(result.stdout)")
        #expect(result.stdout.contains("FAIL  placement:"), "\(result.stdout)")
        #expect(result.stdout.contains("\nGPU smoke: FAIL ("), "\(result.stdout)")
    }
}
