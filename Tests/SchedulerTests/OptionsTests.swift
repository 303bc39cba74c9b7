import Testing
@testable import Scheduler

struct OptionsTests {
    @Test func seedFormsParse() throws {
        let o = try OptionsParser.parse(["-c", "exp-(2|3)-1", "-d", "0", "1", "0", "1", "-gpu", "true", "-check", "False", "-w"])
        #expect(o.configRegex == "exp-(2|3)-1")
        #expect(o.slots == [0, 1, 0, 1])
        #expect(o.gpu)
        #expect(!o.check)
        #expect(o.overwrite)
    }

    @Test func longAliasesParse() throws {
        let o = try OptionsParser.parse(["--config-regex=exp-1", "--slots", "3", "--no-gpu", "--no-check", "--timeout=2.5", "--grace", "0", "--results", "out"])
        #expect(o.configRegex == "exp-1")
        #expect(o.slots == [3])
        #expect(!o.gpu)
        #expect(!o.check)
        #expect(o.timeout == 2.5)
        #expect(o.grace == 0)
        #expect(o.resultsDir == "out")
        #expect(try OptionsParser.parse(["-c", "x", "--slots", "0,2,1"]).slots == [0, 2, 1])
        #expect(try OptionsParser.parse(["-c", "x", "--gpu", "no", "-d", "2"]).gpu == false)
    }

    @Test(arguments: ["true", "TRUE", "yes", "Yes", "1"]) func truthy(_ word: String) throws {
        #expect(try OptionsParser.parse(["-c", "x", "-check", word]).check)
    }

    @Test(arguments: ["false", "False", "no", "NO", "0"]) func falsy(_ word: String) throws {
        #expect(try !OptionsParser.parse(["-c", "x", "-check", word]).check)
    }

    @Test func negativeSlotIsAValueNotAFlag() {
        #expect(throws: UsageError.self) { try OptionsParser.parse(["-c", "x", "-d", "1", "-2"]) }
        do {
            _ = try OptionsParser.parse(["-c", "x", "-d", "1", "-2"])
        } catch {
            #expect(error.message.contains("'-2' (position 1) is negative"))
        }
    }

    @Test func missingValueNamesTheFlag() {
        do {
            _ = try OptionsParser.parse(["-c"])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix("-c needs a value"))
        }
    }
}

struct RunnerTemplateTests {
    let values = RunnerTemplate.Values(config: "configs/a b.yaml", output: "results/a b", gpu: "3", slot: 1, overwrite: false)

    @Test func defaultTemplateDropsOverwriteUnlessAsked() throws {
        let template = try RunnerTemplate(RunnerTemplate.defaultText)
        #expect(template.expand(values) == ["runone", "-c", "configs/a b.yaml"])
        var forced = values
        forced.overwrite = true
        #expect(template.expand(forced) == ["runone", "-c", "configs/a b.yaml", "--overwrite"])
    }

    @Test func appendsConfigWhenTheTemplateHasNone() throws {
        #expect(try RunnerTemplate("python run.py").expand(values) == ["python", "run.py", "-c", "configs/a b.yaml"])
    }

    @Test func fillsEveryPlaceholderInsideWords() throws {
        let template = try RunnerTemplate("python 'my run.py' --cfg={config} --out {output} --gpu={gpu} --slot {slot}")
        #expect(template.expand(values) == ["python", "my run.py", "--cfg=configs/a b.yaml", "--out", "results/a b", "--gpu=3", "--slot", "1"])
    }

    /// Braces that are not a known placeholder stay as written, and a filled value is never
    /// expanded again, even when it holds a placeholder's name itself.
    @Test func fillsInOnePassAndLeavesOtherBracesAlone() throws {
        let template = try RunnerTemplate(#"run {{config}} '{"lr": 1}' {config}x{gpu}{slot} {gpu {output"#)
        var tricky = values
        tricky.config = "configs/{gpu}.yaml"
        #expect(template.expand(tricky) == ["run", "{configs/{gpu}.yaml}", #"{"lr": 1}"#, "configs/{gpu}.yaml" + "x31", "{gpu", "{output"])
        #expect(template.expand(tricky, keepingSlot: true)[3] == "configs/{gpu}.yaml" + "x3{slot}")
        #expect(RunnerTemplate.fill("no braces") { _ in "never" } == "no braces")
        #expect(RunnerTemplate.fill("--gpu={gpu}-{slot}-{gpu}") { $0 == "gpu" ? "0" : nil } == "--gpu=0-{slot}-0")
    }

    /// `{overwrite?WITH:WITHOUT}`: how a runner of one's own spells -w (issue 16).
    @Test func overwriteChoiceSpellsMinusWTheRunnersWay() throws {
        var forced = values
        forced.overwrite = true
        let seed = try RunnerTemplate("python run.py -d 0 --overwrite {overwrite?True:False}")
        #expect(seed.expand(values) == ["python", "run.py", "-d", "0", "--overwrite", "False", "-c", "configs/a b.yaml"])
        #expect(seed.expand(forced) == ["python", "run.py", "-d", "0", "--overwrite", "True", "-c", "configs/a b.yaml"])
        // Inside a word; a word that is only the choice and comes out empty disappears.
        let inside = try RunnerTemplate("run --overwrite={overwrite?yes:no} {overwrite?--force:} {config}")
        #expect(inside.expand(values) == ["run", "--overwrite=no", "configs/a b.yaml"])
        #expect(inside.expand(forced) == ["run", "--overwrite=yes", "--force", "configs/a b.yaml"])
        // A quoted choice with a blank stays one word, as written.
        #expect(try RunnerTemplate("run '{overwrite?-w 1:}x'").expand(forced) == ["run", "-w 1x", "-c", "configs/a b.yaml"])
        // The identity keeps it as written: -w or not is the same task.
        #expect(seed.identityText(config: "c.yaml", output: "o") == "python run.py -d 0 --overwrite '{overwrite?True:False}' -c c.yaml")
    }

    @Test(arguments: [
        ("run --overwrite {overwrite?True}", "--runner: '{overwrite?True}': {overwrite?True} needs exactly one ':' between the text with -w and the text without; write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"),
        ("run {overwrite?a:b:c}", "--runner: '{overwrite?a:b:c}': {overwrite?a:b:c} needs exactly one ':' between the text with -w and the text without; write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"),
        ("run {overwrite:--overwrite}", "--runner: '{overwrite:--overwrite}' has {overwrite:…; write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"),
        ("run {overwrite|x}", "--runner: '{overwrite|x}' has {overwrite|…; write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"),
        ("run {overwrite?True:False", "--runner: '{overwrite?True:False' has {overwrite? with no closing }; write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"),
        ("run x{overwrite", "--runner: 'x{overwrite' has {overwrite with no closing }; write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"),
        ("run {overwrite?{gpu}:x}", "--runner: '{overwrite?{gpu}:x}': {overwrite?WITH:WITHOUT} cannot hold braces; write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"),
    ])
    func refusesMalformedOverwriteChoices(_ text: String, _ message: String) {
        #expect(throws: UsageError(message)) { try RunnerTemplate(text) }
    }

    @Test func rejectsUnknownPlaceholders() {
        #expect(throws: UsageError("--runner: unknown placeholder {cfg}; the known ones are {config} {output} {gpu} {slot} {overwrite} {overwrite?WITH:WITHOUT}")) {
            try RunnerTemplate("run {cfg}")
        }
    }
}

struct CommandLineWordsTests {
    @Test func plainLinesNeedNoShell() {
        #expect(!CommandLineWords.needsShell("true"))
        #expect(!CommandLineWords.needsShell("python train.py --lr=0.1 -c configs/x.yaml"))
    }

    @Test(arguments: ["a | b", "a > f", "echo $HOME", "a && b", "x=1 cmd", "ls *.yaml", "echo 'q'", "a; b", "(a)"])
    func shellSyntaxNeedsAShell(_ line: String) {
        #expect(CommandLineWords.needsShell(line))
    }

    @Test func splitsQuotesAndEscapes() throws {
        #expect(try CommandLineWords.split(#"a 'b c' "d \"e\"" f\ g"#) == ["a", "b c", #"d "e""#, "f g"])
        #expect(throws: UsageError.self) { try CommandLineWords.split("a 'b") }
    }
}

struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1000))
            == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    /// Every tail length, so both paddings (one block, and two when the tail leaves no
    /// room for the length) and whole blocks read in place are checked, against Python.
    @Test func everyLengthAgreesWithHashlib() throws {
        func message(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }
        let printed = try pythonOutput(["-c", """
            import hashlib
            for n in range(201): print(hashlib.sha256(bytes((i * 31 + 7) & 255 for i in range(n))).hexdigest())
            """])
        let expected = try #require(printed, "python3 is needed").split(separator: "\n").map(String.init)
        try #require(expected.count == 201)
        for count in 0...200 {
            #expect(SHA256.hex(message(count)) == expected[count], "\(count) bytes")
        }
    }
}

struct ConfigSelectorTests {
    @Test func baseFilesAreNeverTasks() {
        #expect(ConfigSelector.isTaskFile("exp-1-2.yaml"))
        #expect(ConfigSelector.isTaskFile("exp.json"))
        #expect(ConfigSelector.isTaskFile("exp.yml"))
        #expect(!ConfigSelector.isTaskFile("exp-2-base.yaml"))
        #expect(!ConfigSelector.isTaskFile("exp_base.json"))
        #expect(!ConfigSelector.isTaskFile("notes.txt"))
    }

    @Test func resultsFolderMirrorsTheConfigPath() {
        #expect(ConfigSelector.resultsFolder(for: "configs/exp-1/exp-1-2.yaml", root: "configs", results: "results") == "results/exp-1/exp-1-2")
        #expect(RunoneCommand.defaultOutputFolder(for: "configs/exp-1/exp-1-2.yaml") == "results/exp-1/exp-1-2")
    }

    @Test func theShippedExamplesSelectAsTheSeedDoes() throws {
        let root = String(#filePath.prefix(upTo: #filePath.range(of: "/Tests/")!.lowerBound)) + "/configs"
        let selection = try ConfigSelector.select(root: root, pattern: #"exp-(2|3)-1-\d*"#)
        #expect(selection.paths.map { String($0.dropFirst(root.count + 1)) }
            == ["exp-2/exp-2-1-1.yaml", "exp-2/exp-2-1-2.yaml", "exp-3/exp-3-1-1.yaml", "exp-3/exp-3-1-2.yaml"])
        let all = try ConfigSelector.select(root: root, pattern: "exp")
        #expect(!all.paths.contains { $0.contains("base") })
    }
}

struct PathRegexTests {
    @Test(arguments: [
        (#"exp-(2|3)-1-\d*"#, "configs/exp-2/exp-2-1-1.yaml", true),
        (#"exp-(2|3)-1-\d*"#, "configs/exp-1/exp-1-1.yaml", false),
        (#"exp-\d+\.yaml$"#, "configs/a/exp-12.yaml", true),
        (#"(?:exp|run)-[\d]+"#, "configs/run-7.yaml", true),
        (#"(?P<kind>exp)-1"#, "configs/exp-1/x.yaml", true),
        (#"^configs/exp-1/"#, "configs/exp-1/exp-1-2.yaml", true),
        (#"^exp-1"#, "configs/exp-1/exp-1-2.yaml", false),
        (#"exp-1.*?-2"#, "configs/exp-1/exp-1-2.yaml", true),
        (#"\bexp-3\b"#, "configs/exp-3/exp-3-1-1.yaml", true),
        (#"exp_\w+\s?"#, "configs/exp_run.yaml", true),
        (#"[^a-z]2\.yaml"#, "configs/exp-1/exp-1-2.yaml", true),
    ] as [(String, String, Bool)])
    func pythonStylePatternsMatchAsPythonWould(_ pattern: String, _ path: String, _ expected: Bool) throws {
        #expect(try PathRegex(pattern).matches(path) == expected)
    }

    @Test func unsupportedAndInvalidPatternsSayWhy() {
        #expect(throws: UsageError.self) { try PathRegex("exp(?=-1)") }
        do { _ = try PathRegex("exp-(2|3") } catch {
            #expect(error.message.hasPrefix("-c 'exp-(2|3' is not a valid regular expression: "))
        }
        do { _ = try PathRegex("(?<=x)y") } catch {
            #expect(error.message.contains("a lookaround ('(?=', '(?!', '(?<=', '(?<!') is not supported in config patterns; match the text itself instead"))
        }
    }
}

struct HugeLimitTests {
    /// A limit past what a 64-bit nanosecond clock holds is refused, not a trap later.
    @Test func limitsTooLongForTheClockAreRefused() {
        for flag in ["--timeout", "--grace", "--probe-timeout"] {
            #expect(throws: UsageError.self) { try OptionsParser.parse(["--commands", "x", flag, "2e10"]) }
            do { _ = try OptionsParser.parse(["--commands", "x", flag, "1e308"]) } catch {
                #expect(error.message == "\(flag): '1e308' is too long; give at most 1000000000 seconds (about 31 years)")
            }
        }
        #expect((try? OptionsParser.parse(["--commands", "x", "--timeout", "1e9"]))?.timeout == 1e9)
    }
}

struct ResourcesTests {
    func resources(_ yaml: String) throws(UsageError) -> TaskResources {
        try TaskResources.read(Array(yaml.utf8), path: "configs/a.yaml")
    }

    @Test func readsEveryKey() throws {
        let r = try resources("lr: 1\nresources:\n  gpus: 2\n  gpu_memory: 20GiB\n")
        #expect(r.gpus == 2 && r.gpuMemoryMiB == 20480 && !r.cpu)
        let mpi = try resources("resources: {mpi: {np: 4}}\n")
        #expect(mpi.mpiProcesses == 4)
        #expect(try resources("resources:\n  device: cpu\n").cpu)
        #expect(try resources("lr: 1\n") == TaskResources())
    }

    @Test func badValuesNameTheConfigAndKey() {
        let cases: [(String, String)] = [
            ("resources: {gpus: 0}\n", "configs/a.yaml:1:13: key 'resources.gpus': must be a whole number of GPUs, 1 or more (found 0)"),
            ("resources: {gpus: two}\n", "key 'resources.gpus': must be a whole number"),
            ("resources: {device: tpu}\n", "key 'resources.device': must be cpu or gpu (found tpu)"),
            ("resources: {gpu_memory: lots}\n", "key 'resources.gpu_memory': must be a size such as 20GiB"),
            ("resources: {gpu_memory: 20}\n", "key 'resources.gpu_memory': must be a size"),
            ("resources: {mpi: 4}\n", "key 'resources.mpi': must be a mapping with np"),
            ("resources: {mpi: {np: 2, hosts: 3}}\n", "key 'resources.mpi.hosts': is not known"),
            ("resources: {cores: 2}\n", "key 'resources.cores': is not known; resources takes gpus, device, mpi, gpu_memory and time"),
            ("resources: {device: cpu, gpus: 2}\n", "key 'resources.gpus': cannot be combined with device cpu"),
            ("resources: 3\n", "key 'resources': must be a mapping"),
        ]
        for (yaml, message) in cases {
            #expect(throws: UsageError.self, "\(yaml)") { try resources(yaml) }
            do { _ = try resources(yaml) } catch { #expect(error.message.contains(message), "\(error.message)") }
        }
    }

    @Test func sizesReadAsPeopleWriteThem() {
        #expect(ByteSize.mebibytes("20GiB") == 20480)
        #expect(ByteSize.mebibytes("20G") == 20480)
        #expect(ByteSize.mebibytes("512 MiB") == 512)
        #expect(ByteSize.mebibytes("1GB") == 954)
        #expect(ByteSize.mebibytes("1.5TiB") == 1_572_864)
        #expect(ByteSize.mebibytes("20") == nil)
        #expect(ByteSize.mebibytes("GiB") == nil)
    }

    @Test func inheritedVisibleDevicesAreTheDeviceList() throws {
        let gpus = [GPU(index: "0", uuid: "GPU-a"), GPU(index: "1", uuid: "GPU-b"), GPU(index: "2", uuid: "GPU-c")]
        let byIndex = try DeviceUniverse.make(inherited: "2,0", gpus: gpus)
        #expect(byIndex.entries.map(\.id) == ["2", "0"])
        #expect(try byIndex.ids(.uuid) == ["GPU-c", "GPU-a"])
        let byUUID = try DeviceUniverse.make(inherited: "GPU-b", gpus: gpus)
        #expect(try byUUID.ids(.index) == ["GPU-b"])
        let mig = try DeviceUniverse.make(inherited: "MIG-x,MIG-y", gpus: gpus)
        #expect(try mig.ids(.uuid) == ["MIG-x", "MIG-y"])
        #expect(throws: UsageError.self) { try DeviceUniverse.make(inherited: "7", gpus: gpus) }
        #expect(throws: UsageError.self) { try DeviceUniverse.make(inherited: "", gpus: gpus) }
        #expect(throws: UsageError.self) { try DeviceUniverse.make(inherited: "0,0", gpus: gpus) }
        #expect(throws: UsageError.self) { try DeviceUniverse.make(inherited: nil, gpus: nil) }
    }

    @Test func nvidiaSMILinesAreReadStrictly() throws {
        let gpus = try GPUInventory.parse("0, GPU-a, 00000000:01:00.0, NVIDIA A100-SXM4-40GB, 40960, 1024\n")
        #expect(gpus == [GPU(index: "0", uuid: "GPU-a", pciBusID: "00000000:01:00.0", name: "NVIDIA A100-SXM4-40GB", memoryTotalMiB: 40960, memoryUsedMiB: 1024)])
        #expect(throws: UsageError.self) { try GPUInventory.parse("0, GPU-a\n") }
        #expect(throws: UsageError.self) { try GPUInventory.parse("0, GPU-a, 0:1, A100, [N/A], 3\n") }
    }
}
