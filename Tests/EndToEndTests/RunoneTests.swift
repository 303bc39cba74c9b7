import Foundation
import Glibc
import Testing

@Suite(.serialized)
struct RunoneTests {
    func runone(_ arguments: [String], in project: Project, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Launched(Binaries.runone, arguments, in: project, environment: environment).finish()
    }

    func json(_ project: Project, _ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: project.path(path)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func kuramotoWritesANumpyArrayOfTheRightShape() throws {
        let project = try Project()
        try project.write("configs/k/small.yaml", """
        model_params: {name: kuramoto, nodes: 7, timepoints: 13, dt: 0.001, TR: 0.01, seed: 3, coupling: 5.0}
        """)
        let result = try runone(["-c", "configs/k/small.yaml"], in: project, environment: ["CUDA_VISIBLE_DEVICES": "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", """
        import numpy as np, csv, sys
        a = np.load(sys.argv[1])
        rows = list(csv.DictReader(open(sys.argv[2])))
        assert a.dtype == np.float64 and a.shape == (13, 7), (a.dtype, a.shape)
        assert np.all(np.abs(a) <= 1.0) and np.isfinite(a).all()
        assert len(rows) == 13 and all(0 <= float(r["order_parameter"]) <= 1 for r in rows)
        print("ok")
        """, project.path("results/k/small/neural.npy"), project.path("results/k/small/order_parameter.csv")]
        let output = Pipe()
        check.standardOutput = output
        try check.run()
        check.waitUntilExit()
        #expect(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "ok\n")
        let metadata = try json(project, "results/k/small/metadata.json")
        #expect(metadata["status"] as? String == "succeeded")
        #expect(metadata["cuda_visible_devices"] as? String == "2")
        #expect(metadata["config"] as? String == "configs/k/small.yaml")
        #expect((metadata["config_sha256"] as? String)?.count == 64)

        // Same seed, same numbers; a second run without --overwrite is skipped.
        let first = try Data(contentsOf: URL(fileURLWithPath: project.path("results/k/small/neural.npy")))
        let skipped = try runone(["-c", "configs/k/small.yaml"], in: project)
        #expect(skipped.status == 0 && skipped.stdout.contains("pass --overwrite"))
        #expect(try runone(["-c", "configs/k/small.yaml", "--overwrite"], in: project).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: project.path("results/k/small/neural.npy"))) == first)
    }

    @Test func commandPlaceholdersAndParameterEnvironment() throws {
        let project = try Project()
        try project.write("configs/c/run.yaml", """
        command: [/bin/sh, -c, 'echo "$1 $2 $MULTIRUN_PARAM_LEARNING_RATE $MULTIRUN_PARAM_NAME" > "$3/out.txt"', x, "{learning_rate}", "{name}", "{output}"]
        params:
          learning_rate: 0.1
          name: it's a "test"
        """)
        let result = try runone(["-c", "configs/c/run.yaml"], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.read("results/c/run/out.txt") == "0.1 it's a \"test\" 0.1 it's a \"test\"\n")
    }

    /// `.inf`, `-.inf` and `.nan` reach a command as Python's `str()` writes them, inside
    /// lists and mappings too; a param may come from an anchor or a merge.
    @Test func nonFiniteParamsAndAnchoredParamsReachTheCommand() throws {
        let project = try Project()
        try project.write("configs/c/inf.yaml", """
        x-grid: &grid {big: .inf, small: -.inf}
        command: [/bin/sh, -c, 'printf "%s|%s|%s|%s|%s\\n" "$1" "$2" "$3" "$4" "$MULTIRUN_PARAM_LIST" > "$5/out.txt"', x, "{big}", "{list}", "{map}", "{small}", "{output}"]
        params:
          <<: *grid
          list: [1, -.inf, .nan]
          map: {x: .NaN}
        """)
        let result = try runone(["-c", "configs/c/inf.yaml"], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.read("results/c/inf/out.txt") == "inf|[1,-inf,nan]|{\"x\":nan}|-inf|[1,-inf,nan]\n")
    }

    @Test func shellStringCommandsQuoteValuesAndPassTheExitCode() throws {
        let project = try Project()
        try project.write("configs/c/shell.yaml", """
        command: "printf '%s' {word} > {output}/word.txt; exit 7"
        params: {word: "two words; rm -rf x"}
        """)
        let result = try runone(["-c", "configs/c/shell.yaml"], in: project)
        #expect(result.status == 7)
        #expect(try project.read("results/c/shell/word.txt") == "two words; rm -rf x")
        #expect(try json(project, "results/c/shell/metadata.json")["status"] as? String == "failed")
        #expect(try json(project, "results/c/shell/metadata.json")["exit_code"] as? Int == 7)
    }

    @Test func shellPlaceholdersGiveLiteralWordsInEveryQuotingContext() throws {
        let project = try Project()
        let evil = "$(touch CANARY) `touch CANARY` it's \"q\"; touch CANARY\n$HOME \\ "
        let command = #"python3 -c "import sys, json; print(json.dumps(sys.argv[1:]))" --lr "{lr}" --tag "run-{name}" {evil} "{evil}" 'x{evil}y' --e={empty} > {output}/argv.json"#
        let config: [String: Any] = ["command": command, "params": ["lr": 0.001, "name": "abc", "evil": evil, "empty": ""]]
        try project.write("configs/c/quotes.json", String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self))
        let result = try runone(["-c", "configs/c/quotes.json"], in: project)
        #expect(result.status == 0, "\(result.stderr)")
        let argv = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: project.path("results/c/quotes/argv.json")))) as? [String]
        #expect(argv == ["--lr", "0.001", "--tag", "run-abc", evil, evil, "x" + evil + "y", "--e="])
        #expect(!project.exists("CANARY"))
    }

    @Test(arguments: [
        ("model_params:\n  name: kuramoto\n  nodes: !include n.yaml\n", "configs/bad.yaml:3:10: tag '!include' is not supported"),
        ("model_params:\n  name: kuramoto\n  nodez: 3\n", "key 'model_params.nodez': unknown parameter"),
        ("model_params:\n  name: kuramoto\n  dt: 1e-3\n", "key 'model_params.dt': '1e-3' is text to YAML 1.1"),
        ("model_params: {name: lorenz}\n", "key 'model_params.name': unknown model 'lorenz'"),
        ("comand: [true]\n", "key 'comand': unknown key"),
        ("command: [echo, '{missing}']\n", "configs/bad.yaml:1:17: key 'command[1]': placeholder {missing} has no value; add 'missing:' under params"),
        ("command: 3\n", "key 'command': must be a non-empty list"),
    ] as [(String, String)])
    func badConfigsExitTwoNamingTheProblem(_ text: String, _ message: String) throws {
        let project = try Project()
        try project.write("configs/bad.yaml", text)
        let result = try runone(["-c", "configs/bad.yaml"], in: project)
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains(message), "got: \(result.stderr)")
    }

    @Test func termEndsAModelRunWithMetadataSayingInterrupted() throws {
        let project = try Project()
        try project.write("configs/k/long.yaml", "model_params: {name: kuramoto, nodes: 64, timepoints: 100000}\n")
        let running = try Launched(Binaries.runone, ["-c", "configs/k/long.yaml"], in: project)
        // metadata.json says "running" once the model has started.
        #expect(eventually { (try? json(project, "results/k/long/metadata.json"))?["status"] as? String == "running" })
        running.signal(SIGTERM)
        let result = running.finish()
        #expect(result.status == 143)
        #expect(try json(project, "results/k/long/metadata.json")["status"] as? String == "interrupted")
        #expect(!project.exists("results/k/long/neural.npy"))
    }
}
