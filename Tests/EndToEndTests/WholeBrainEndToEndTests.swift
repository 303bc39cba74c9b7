import Foundation
import Glibc
import Scheduler
import Testing

/// runone's whole-brain models as users run them: runone -c, and multirun with the
/// default runner.
@Suite struct WholeBrainEndToEndTests {
    /// The .npy header's shape text, e.g. "(5, 6)".
    func npyShape(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let header = String(decoding: data.prefix(128), as: UTF8.self)
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else { return "?" }
        return "(" + header[open.upperBound..<close] + ")"
    }

    func inode(_ path: String) -> UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : 0
    }

    /// runone picks the kernels' build from the CPU and records it; RUNONE_KERNELS
    /// overrides it, and a value it cannot honour is one line, exit 2, nothing written.
    @Test func kernelsBuildIsChosenRecordedAndOverridable() throws {
        let project = try Project()
        try project.write("configs/ww.yaml", "model_params: {name: wong_wang, nodes: 9, timepoints: 3, TR: 0.01, hemodynamics: stephan2007}\n")
        let chosen = try Launched(Binaries.runone, ["-c", "configs/ww.yaml"], in: project).finish()
        #expect(chosen.status == 0, "\(chosen.stderr)")
        let metadata = try project.read("results/ww/metadata.json")
        #expect(metadata.contains("\"instruction_set\": \"avx2\"") || metadata.contains("\"instruction_set\": \"baseline\""), "\(metadata)")
        #expect(metadata.contains("\"hemodynamics\": \"stephan2007\"") && metadata.contains("\"bold_dt_ms\": 1"), "\(metadata)")
        let baseline = try Launched(Binaries.runone, ["-c", "configs/ww.yaml", "--overwrite"], in: project, environment: ["RUNONE_KERNELS": "baseline"]).finish()
        #expect(baseline.status == 0)
        #expect(try project.read("results/ww/metadata.json").contains("\"instruction_set\": \"baseline\""))
        try project.write("configs/other.yaml", "model_params: {name: wong_wang, nodes: 9, timepoints: 3, TR: 0.01}\n")
        let bogus = try Launched(Binaries.runone, ["-c", "configs/other.yaml"], in: project, environment: ["RUNONE_KERNELS": "sse9"]).finish()
        #expect(bogus.status == 2)
        #expect(bogus.stderr == "runone: RUNONE_KERNELS='sse9' names no build; use baseline or avx2 (or unset it)\n", "\(bogus.stderr)")
        #expect(!project.exists("results/other"))
    }

    /// A rerun of edited content removes the arrays the previous run listed, so no stale
    /// `sim_*` file of the old content stays beside the new ones; other files stay.
    @Test func aRerunOfEditedContentRemovesTheOldArrays() throws {
        let project = try Project()
        try project.write("configs/z.yaml", "model_params: {name: wong_wang, nodes: 5, timepoints: 2, TR: 0.01}\n")
        #expect(try Launched(Binaries.runone, ["-c", "configs/z.yaml"], in: project).finish().status == 0)
        #expect(project.exists("results/z/sim_5nodes_2tp_TR0.01_bold.npy"))
        try project.write("results/z/notes.txt", "mine\n")
        try project.write("configs/z.yaml", "model_params: {name: wong_wang, nodes: 5, timepoints: 3, TR: 0.01, bold: false}\n")
        #expect(try Launched(Binaries.runone, ["-c", "configs/z.yaml"], in: project).finish().status == 0)
        #expect(!project.exists("results/z/sim_5nodes_2tp_TR0.01_bold.npy") && !project.exists("results/z/sim_5nodes_2tp_TR0.01_neural.npy"))
        #expect(project.exists("results/z/sim_5nodes_3tp_TR0.01_neural.npy") && !project.exists("results/z/sim_5nodes_3tp_TR0.01_bold.npy"))
        #expect(project.exists("results/z/notes.txt"))
    }

    /// A run whose state leaves the finite numbers fails in one line at the first such
    /// sample; no array is left, and NaN never turns into a plausible BOLD.
    @Test func aDivergingRunFailsInsteadOfWritingNaN() throws {
        let project = try Project()
        try project.write("configs/blow.yaml", "model_params: {name: generic_2d_oscillator, nodes: 4, G: 0.5, noise: 1.0e+6, timepoints: 3}\n")
        let result = try Launched(Binaries.runone, ["-c", "configs/blow.yaml"], in: project).finish()
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("runone: configs/blow.yaml: the simulation diverged: the neural signal of region "), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("lower dt, noise or G (or the initial state)\n") && result.stderr.split(separator: "\n").count == 1)
        #expect(!project.exists("results/blow/sim_4nodes_3tp_TR0.8_neural.npy") && !project.exists("results/blow/sim_4nodes_3tp_TR0.8_bold.npy"))
        #expect(try project.read("results/blow/metadata.json").contains("\"status\": \"failed\""))
    }

    @Test func writesNamedFloat64OutputsOfTimepointsByNodes() throws {
        let project = try Project()
        try project.write("configs/ww.yaml", """
        model_params: {name: wong_wang, nodes: 6, timepoints: 5, TR: 0.01, dt: 0.1, noise: 0.001, subject: 2}
        """)
        try project.write("configs/osc.yaml", """
        model_params: {name: generic_2d_oscillator, nodes: 3, timepoints: 4, TR: 0.02, dt: 0.5, bold: false, noise: 0}
        """)
        for config in ["ww", "osc"] {
            let result = try Launched(Binaries.runone, ["-c", "configs/\(config).yaml"], in: project).finish()
            #expect(result.status == 0, "\(result.stderr)")
        }
        let neural = project.path("results/ww/sim_6nodes_5tp_TR0.01_neural.npy")
        #expect(try npyShape(neural) == "(5, 6)")
        #expect(try npyShape(project.path("results/ww/sim_6nodes_5tp_TR0.01_bold.npy")) == "(5, 6)")
        let array = try NPYReader.parse(try FileIO.read(neural), source: neural)
        #expect(array.values.allSatisfy { (0...1).contains($0) } && Set(array.values).count > 10)
        #expect(try project.read("configs/../results/ww/metadata.json").contains("\"kind\": \"wong_wang\""))
        #expect(try npyShape(project.path("results/osc/sim_3nodes_4tp_TR0.02_neural.npy")) == "(4, 3)")
        // The same subject again reproduces every byte; another subject does not.
        let first = try FileIO.read(neural)
        #expect(try Launched(Binaries.runone, ["-c", "configs/ww.yaml", "--overwrite"], in: project).finish().status == 0)
        #expect(try FileIO.read(neural) == first)
        try project.write("configs/ww.yaml", "model_params: {name: wong_wang, nodes: 6, timepoints: 5, TR: 0.01, dt: 0.1, noise: 0.001, subject: 3}\n")
        #expect(try Launched(Binaries.runone, ["-c", "configs/ww.yaml"], in: project).finish().status == 0)
        #expect(try FileIO.read(neural) != first)
        #expect(!project.exists("results/osc/sim_3nodes_4tp_TR0.02_bold.npy"))
    }

    @Test func readsConnectivityFilesAndRefusesBadOnesInOneLine() throws {
        let project = try Project()
        // weights.npy (written by NPYWriter) and tract_lengths.csv for subject 1.
        try FileManager.default.createDirectory(atPath: project.path("configs/data/sub-1"), withIntermediateDirectories: true)
        let writer = try NPYWriter(path: project.path("configs/data/sub-1/weights.npy"), shape: [3, 3])
        [0, 1, 2, 1, 0, 1, 2, 1, 0.0].withUnsafeBufferPointer { writer.append($0) }
        try writer.finish()
        try project.write("configs/data/sub-1/tract_lengths.csv", "0,10,20\n10,0,10\n20,10,0\n")
        try project.write("configs/npy.yaml", """
        model_params: {name: wong_wang, connectivity: "data/sub-{subject}/", subject: 1, speed: 5, G: 0.1, timepoints: 3, TR: 0.01}
        """)
        let good = try Launched(Binaries.runone, ["-c", "configs/npy.yaml"], in: project).finish()
        #expect(good.status == 0, "\(good.stderr)")
        #expect(project.exists("results/npy/sim_3nodes_3tp_TR0.01_neural.npy"))
        #expect(try project.read("results/npy/metadata.json").contains("\"max_delay_steps\": 40"))

        try project.write("configs/ragged.yaml", "model_params: {name: wong_wang, connectivity: data/ragged.txt, timepoints: 2, TR: 0.01}\n")
        try project.write("configs/data/ragged.txt", "0 1 2\n1 0\n2 1 0\n")
        try project.write("configs/missing.yaml", "model_params: {name: wong_wang, connectivity: \"data/sub-{subject}\", subject: 9, timepoints: 2, TR: 0.01}\n")
        try project.write("configs/nolengths.yaml", "model_params: {name: wong_wang, connectivity: data/w.csv, speed: 3, timepoints: 2, TR: 0.01}\n")
        try project.write("configs/data/w.csv", "0,1\n1,0\n")
        try project.write("configs/slow.yaml", "model_params: {name: wong_wang, connectivity: data/sub-1, subject: 1, speed: 1.0e-300, timepoints: 2, TR: 0.01}\n")
        for (config, expected) in [("ragged", "configs/data/ragged.txt: line 2 has 2 values, the first row 3"),
                                   ("missing", "configs/data/sub-9: connectivity not found"),
                                   ("nolengths", "delays need tract lengths"),
                                   ("slow", "too long to hold; raise speed or dt")] {
            let result = try Launched(Binaries.runone, ["-c", "configs/\(config).yaml"], in: project).finish()
            #expect(result.status == 2)
            #expect(result.stderr.contains(expected), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }

    /// A TERM stops a run within a long TR window (not only between samples): runone ends
    /// as interrupted, and no partial .npy is left.
    @Test func termStopsARunInsideALongSampleWindow() throws {
        let project = try Project()
        // One sample is 10^7 steps: minutes, unless the stop is seen inside the window.
        try project.write("configs/long.yaml", "model_params: {name: wong_wang, nodes: 4, timepoints: 2, TR: 1000, dt: 0.1}\n")
        let run = try Launched(Binaries.runone, ["-c", "configs/long.yaml"], in: project)
        var waited = 0
        while (try? project.read("results/long/metadata.json"))?.contains("\"running\"") != true {
            usleep(10_000)
            waited += 1
            if waited > 3000 { break }
        }
        run.signal(SIGTERM)
        let result = run.finish()
        #expect(result.status == 128 + SIGTERM, "\(result.stderr)")
        #expect(try project.read("results/long/metadata.json").contains("\"status\": \"interrupted\""))
        let left = try FileManager.default.contentsOfDirectory(atPath: project.path("results/long"))
        #expect(left == ["metadata.json"], "\(left)")
    }

    /// The connectome a config reads is part of its task identity: multirun skips the
    /// task while the files are unchanged and re-runs it when one changes.
    @Test func changedConnectomeReRunsUnderMultirun() throws {
        let project = try Project()
        try project.write("configs/data/sub-3/weights.txt", "0 1 0.5\n1 0 1\n0.5 1 0\n")
        try project.write("configs/data/sub-3/tract_lengths.txt", "0 12 30\n12 0 12\n30 12 0\n")
        try project.write("configs/study.yaml", """
        model_params:
          name: wong_wang
          connectivity: data/sub-{subject}/
          subject: 3
          speed: 3.0
          timepoints: 4
          TR: 0.02
        """)
        let arguments = ["-c", "study", "-gpu", "false", "-d", "1", "-check", "false"]
        let output = project.path("results/study/sim_3nodes_4tp_TR0.02_neural.npy")
        let first = try multirun(arguments, in: project)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let firstInode = inode(output)
        #expect(firstInode != 0)
        let unchanged = try multirun(arguments, in: project)
        #expect(unchanged.status == 0)
        #expect(inode(output) == firstInode, "re-ran with the same connectome: \(unchanged.stdout)")
        try project.write("configs/data/sub-3/weights.txt", "0 1 0.5\n1 0 1\n0.5 1 0.25\n")
        let changed = try multirun(arguments, in: project)
        #expect(changed.status == 0, "\(changed.stdout)\(changed.stderr)")
        // (Ran, not skipped: a rerun removes the old arrays first, so the inode may be reused.)
        #expect(changed.stdout.contains("1 succeeded") && !changed.stdout.contains("1 skipped"), "skipped although the weights changed: \(changed.stdout)")
        // The tract lengths count too.
        try project.write("configs/data/sub-3/tract_lengths.txt", "0 12 31\n12 0 12\n31 12 0\n")
        let lengths = try multirun(arguments, in: project)
        #expect(lengths.stdout.contains("1 succeeded") && !lengths.stdout.contains("1 skipped"), "\(lengths.stdout)")
    }
}
