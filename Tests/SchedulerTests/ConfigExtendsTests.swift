import Foundation
import Glibc
import Testing
@testable import Scheduler

/// `extends`: how a config's chain of bases is read (`ConfigLoader`), merged
/// (`ConfigDocument.merged`), located in messages, and hashed into the task identity; and
/// the `x-`/`.` keys the schema ignores.
@Suite(.serialized)
struct ConfigExtendsTests {
    /// Files in memory: bases are read from here, not from disk.
    struct Files {
        var texts: [String: String]

        func load(_ path: String) throws(ConfigProblem) -> LoadedConfig {
            let own = Array((texts[path] ?? "").utf8)
            return try ConfigLoader.load(bytes: own, path: path) { (base: String) throws(ConfigLoader.ReadFailure) in
                guard let text = texts[base] else { throw .missing }
                return (Array(text.utf8), nil)
            }
        }

        func problem(_ path: String) -> String? {
            do { _ = try load(path); return nil } catch { return error.message }
        }

        func check(_ path: String, runone: Bool = true) -> Result<ConfigSchema.Checked, ConfigProblem> {
            Result { () throws(ConfigProblem) in
                try ConfigSchema.check(Array((texts[path] ?? "").utf8), path: path, runone: runone) { (base: String) throws(ConfigLoader.ReadFailure) in
                    guard let text = texts[base] else { throw .missing }
                    return (Array(text.utf8), nil)
                }
            }
        }
    }

    func yaml(_ text: String) throws -> ConfigValue { try ConfigParser.parse(text, dialect: .yaml, source: "t.yaml") }

    func scratch() throws -> String {
        var bytes = Array((NSTemporaryDirectory() + "extends-XXXXXX").utf8CString)
        guard let made = mkdtemp(&bytes) else { throw POSIXError(.EIO) }
        return String(cString: made)
    }

    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: - Merge rules

    @Test func mappingsMergeKeyByKeyAndTheConfigsOwnValuesWin() throws {
        let files = Files(texts: [
            "c/a.yaml": """
            extends: base.yaml
            params: {lr: 0.5, extra: {b: 2}}
            command: [python, b.py]
            description: mine
            resources: 7
            """,
            "c/base.yaml": """
            description: shared
            command: [python, a.py, --long]
            params: {lr: 0.1, seed: 1, extra: {a: 1}, list: [1, 2]}
            resources: {gpus: 2}
            model: {name: x}
            """,
        ])
        let loaded = try files.load("c/a.yaml")
        // Base order first, keys only the config has after; lists and scalars whole; a
        // scalar replaces a mapping; extends is gone.
        #expect(loaded.document.value == (try yaml("""
        description: mine
        command: [python, b.py]
        params: {lr: 0.5, seed: 1, extra: {a: 1, b: 2}, list: [1, 2]}
        resources: 7
        model: {name: x}
        """)))
        #expect(loaded.bases == ["c/base.yaml"])
    }

    @Test func aMappingReplacesAScalarAndNullReplacesAMapping() throws {
        let files = Files(texts: [
            "a.yaml": "extends: b.yaml\nx: {k: 1}\ny: null\nz: []\n",
            "b.yaml": "x: 5\ny: {k: 1}\nz: [1, 2]\n",
        ])
        #expect(try files.load("a.yaml").document.value == (try yaml("x: {k: 1}\ny: null\nz: []\n")))
    }

    @Test func aChainMergesNearestFirstAndAMappingStopsAtAScalarFurtherDown() throws {
        let files = Files(texts: [
            "x/a.yaml": "extends: ../y/b.yaml\np: {a: 1}\n",
            // Named as the loader reaches them: `..` is left to the kernel.
            "x/../y/b.yaml": "extends: c.json\np: {b: 2}\nq: 1\n",
            // Read as JSON by its extension.
            "x/../y/c.json": #"{"p": {"a": 0, "b": 0, "c": 3}, "q": 0, "r": [3]}"#,
        ])
        let loaded = try files.load("x/a.yaml")
        #expect(loaded.document.value == (try yaml("p: {a: 1, b: 2, c: 3}\nq: 1\nr: [3]\n")))
        #expect(loaded.bases == ["x/../y/b.yaml", "x/../y/c.json"])

        // b's p is a scalar: a's mapping replaces it, and c's p below it is not reached.
        let cut = Files(texts: [
            "a.yaml": "extends: b.yaml\np: {a: 1}\n",
            "b.yaml": "extends: c.yaml\np: 7\n",
            "c.yaml": "p: {c: 3}\n",
        ])
        #expect(try cut.load("a.yaml").document.value == (try yaml("p: {a: 1}\n")))
    }

    @Test func basePathsAreRelativeToEachFilesOwnFolder() {
        #expect(ConfigLoader.resolve("base.yaml", from: "configs/x/a.yaml") == "configs/x/base.yaml")
        #expect(ConfigLoader.resolve("./base.yaml", from: "configs/x/a.yaml") == "configs/x/base.yaml")
        #expect(ConfigLoader.resolve("../b.yaml", from: "configs/x/a.yaml") == "configs/x/../b.yaml")
        #expect(ConfigLoader.resolve("b.yaml", from: "a.yaml") == "b.yaml")
        #expect(ConfigLoader.resolve("b.yaml", from: "/a.yaml") == "/b.yaml")
        #expect(ConfigLoader.resolve("/etc/b.yaml", from: "configs/a.yaml") == "/etc/b.yaml")
    }

    // MARK: - Refusals, one line each

    @Test func aCycleIsRefusedNamingIt() {
        let files = Files(texts: [
            "c/a.yaml": "extends: b.yaml\ncommand: [true]\n",
            "c/b.yaml": "x-note: 1\nextends: a.yaml\n",
            "c/self.yaml": "extends: self.yaml\n",
        ])
        #expect(files.problem("c/a.yaml") == "c/b.yaml:2:1: key 'extends': the bases form a cycle: c/a.yaml -> c/b.yaml -> c/a.yaml; remove 'extends' from one of them")
        #expect(files.problem("c/self.yaml") == "c/self.yaml:1:1: key 'extends': the bases form a cycle: c/self.yaml -> c/self.yaml; remove 'extends' from one of them")
    }

    @Test func aCycleThroughAnotherSpellingOfAFileIsFoundOnDisk() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(root + "/x/a.yaml", "extends: ../x/b.yaml\n")
        try write(root + "/x/b.yaml", "extends: ./../x/a.yaml\n")
        do {
            _ = try ConfigLoader.load(root + "/x/a.yaml")
            Issue.record("a cycle was not refused")
        } catch {
            #expect(error.message == "\(root)/x/../x/b.yaml:1:1: key 'extends': the bases form a cycle: \(root)/x/a.yaml -> \(root)/x/../x/b.yaml -> \(root)/x/../x/../x/a.yaml; remove 'extends' from one of them")
        }
    }

    @Test func aChainIsBoundedAt32Bases() throws {
        var texts: [String: String] = [:]
        for i in 0...33 { texts["b\(i).yaml"] = "extends: b\(i + 1).yaml\nk\(i): 1\n" }
        texts["b33.yaml"] = "k33: 1\n"
        // 32 bases (b1...b32) are fine.
        var fine = texts
        fine["b32.yaml"] = "k32: 1\n"
        let loaded = try Files(texts: fine).load("b0.yaml")
        #expect(loaded.bases.count == 32)
        #expect(loaded.document.value["k32"] == .int(1) && loaded.document.value["k0"] == .int(1))
        #expect(Files(texts: texts).problem("b0.yaml")
            == "b32.yaml:1:1: key 'extends': b0.yaml extends more than 32 bases in a chain (b0.yaml -> b1.yaml -> … -> b32.yaml -> b33.yaml); merge some of them into one")
    }

    @Test func aBadExtendsOrBaseIsOneLineWithTheFix() {
        let files = Files(texts: [
            "c/list.yaml": "command: [true]\nextends: [a.yaml, b.yaml]\n",
            "c/number.yaml": "extends: 3\n",
            "c/null.yaml": "extends:\n",
            "c/empty.yaml": "extends: ''\n",
            "c/missing.yaml": "extends: nope.yaml\n",
            "c/to-list.yaml": "extends: list-base.yaml\n",
            "c/list-base.yaml": "- 1\n- 2\n",
            "c/to-empty.yaml": "extends: empty-base.yaml\n",
            "c/empty-base.yaml": "# nothing yet\n",
            "c/to-broken.yaml": "extends: broken.yaml\n",
            "c/broken.yaml": "a: [1\n",
        ])
        #expect(files.problem("c/list.yaml") == "c/list.yaml:2:1: key 'extends': must be the path of one base config, found a list; to build on several, let each base extend the next")
        #expect(files.problem("c/number.yaml") == "c/number.yaml:1:1: key 'extends': must be the path of one base config, found an integer; to build on several, let each base extend the next")
        #expect(files.problem("c/null.yaml") == "c/null.yaml:1:1: key 'extends': must be the path of one base config, found null; to build on several, let each base extend the next")
        #expect(files.problem("c/empty.yaml") == "c/empty.yaml:1:1: key 'extends': is empty; give the base config's path, relative to this config's folder")
        #expect(files.problem("c/missing.yaml") == "c/missing.yaml:1:1: key 'extends': base config c/nope.yaml not found; the path is relative to this config's folder (c/): fix it, or create the file")
        #expect(files.problem("c/to-list.yaml") == "c/list-base.yaml:1:1: a base config must be a mapping of keys, found a list (c/to-list.yaml extends it); write its keys, or remove that 'extends'")
        #expect(files.problem("c/to-empty.yaml") == "c/empty-base.yaml:1:1: a base config must be a mapping of keys, found nothing (an empty file) (c/to-empty.yaml extends it); write its keys, or remove that 'extends'")
        let broken = files.problem("c/to-broken.yaml") ?? ""
        #expect(broken.hasPrefix("c/broken.yaml:1:4: unclosed '['") && broken.hasSuffix(" (a base of c/to-broken.yaml)"), "\(broken)")
    }

    @Test func basesThatAreNotFilesOrCannotBeReadAreRefused() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(root + "/folder.yaml", "extends: sub\n")
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try write(root + "/fifo.yaml", "extends: pipe.yaml\n")
        #expect(mkfifo(root + "/pipe.yaml", 0o600) == 0)
        try write(root + "/through-file.yaml", "extends: folder.yaml/x.yaml\n")
        func problem(_ name: String) -> String? {
            do { _ = try ConfigLoader.load(root + "/" + name); return nil } catch { return error.message }
        }
        #expect(problem("folder.yaml") == "\(root)/folder.yaml:1:1: key 'extends': base config \(root)/sub is not a file; name a .yaml or .json file")
        // A FIFO would block the plan: refused without opening it for a blocking read.
        #expect(problem("fifo.yaml") == "\(root)/fifo.yaml:1:1: key 'extends': base config \(root)/pipe.yaml is not a file; name a .yaml or .json file")
        #expect(problem("through-file.yaml")?.contains("base config \(root)/folder.yaml/x.yaml not found") == true)
        if geteuid() != 0 {
            try write(root + "/locked.yaml", "a: 1\n")
            chmod(root + "/locked.yaml", 0)
            try write(root + "/to-locked.yaml", "extends: locked.yaml\n")
            #expect(problem("to-locked.yaml") == "\(root)/to-locked.yaml:1:1: key 'extends': cannot read base config \(root)/locked.yaml (Permission denied); fix its permissions or the path")
        }
    }

    // MARK: - Locations in a merged config

    @Test func aSchemaErrorNamesTheFileAndLineTheKeyCameFrom() {
        let files = Files(texts: [
            "c/a.yaml": "extends: base.yaml\nmodel_params:\n  seed: 3\n",
            "c/base.yaml": "# shared\nmodel_params:\n  name: kuramoto\n  nodes: many\n",
            "c/own.yaml": "extends: base.yaml\nmodel_params:\n  nodes: few\n",
            "c/res.yaml": "extends: res-base.yaml\ncommand: [true]\n",
            "c/res-base.yaml": "resources:\n  device: tpu\n",
            "c/list.yaml": "extends: list-base.yaml\n",
            "c/list-base.yaml": "command: [echo, {a: 1}]\n",
        ])
        func message(_ path: String) -> String? {
            if case .failure(let problem) = files.check(path) { return problem.message }
            return nil
        }
        #expect(message("c/a.yaml") == "c/base.yaml:4:3: key 'model_params.nodes': must be a whole number, found a string (in c/a.yaml, which extends this base)")
        // The config's own value replaced the base's: its own line.
        #expect(message("c/own.yaml") == "c/own.yaml:3:3: key 'model_params.nodes': must be a whole number, found a string")
        #expect(message("c/res.yaml") == "c/res-base.yaml:2:3: key 'resources.device': must be cpu or gpu (found tpu) (in c/res.yaml, which extends this base)")
        #expect(message("c/list.yaml") == "c/list-base.yaml:1:17: key 'command[1]': must be text or a number, found a mapping (in c/list.yaml, which extends this base)")
    }

    @Test func theMergedConfigIsWhatRunoneRunsAndMultirunSchedules() throws {
        let files = Files(texts: [
            "c/a.yaml": "extends: base.yaml\nparams: {seed: 2}\n",
            "c/base.yaml": "command: [train, '{lr}', '{seed}']\nparams: {lr: 0.1, seed: 1}\nresources: {device: cpu}\n",
        ])
        let checked = try files.check("c/a.yaml").get()
        #expect(checked.resources.cpu)
        guard case .command(let spec)? = checked.runone else { Issue.record("not a command"); return }
        #expect(try CommandTemplate.argv(spec, config: "c/a.yaml", output: "out") == ["train", "0.1", "2"])
        #expect(checked.bases == ["c/base.yaml"])
    }

    // MARK: - Identity

    /// The content hash and identity of a config without bases are what they were before
    /// `extends` existed, whatever else the loader does: pinned to digests computed apart
    /// from this code (Python's hashlib over the documented canonical encoding).
    @Test func aConfigWithoutBasesKeepsItsIdentity() throws {
        let text = "command: [echo, '{lr}']\nparams: {lr: 0.1}\nresources: {gpus: 1}\n"
        let checked = try ConfigSchema.check(Array(text.utf8), path: "configs/x/a.yaml", runone: true)
        #expect(checked.bases.isEmpty)
        #expect(checked.sha256 == SHA256.hex(Array(text.utf8)))
        #expect(checked.contentSHA256 == ConfigSchema.contentHash(try yaml(text)))
        #expect(checked.contentSHA256 == "9cd6fb220d46371e09dc5bdc297e63ead882f9cba86aa10c677a0cc31e02557f")
        let identity = ConfigIdentity(path: "configs/x/a.yaml", name: "x/a.yaml", sha256: checked.sha256, resultsFolder: "results/x/a",
                                      contentSHA256: checked.contentSHA256, runner: "runone -c {configs}/x/a.yaml")
        #expect(identity.digest == "19af29480f75eb938e62c26e41da1c16c962ea7b9c87eea3371797884a28679f")
    }

    @Test func everyFileOfTheChainIsPartOfTheContent() throws {
        var texts = [
            "c/a.yaml": "extends: base.yaml\nparams: {seed: 2}\n",
            "c/base.yaml": "extends: root.yaml\nparams: {lr: 0.1}\n",
            "c/root.yaml": "command: [train]\nparams: {seed: 1}\nresources: {gpus: 1}\n",
        ]
        let first = try Files(texts: texts).load("c/a.yaml")
        #expect(first.bases == ["c/base.yaml", "c/root.yaml"])
        #expect(first.contentSHA256 != ConfigSchema.contentHash(first.document.value))
        func after(_ file: String, _ text: String) throws -> LoadedConfig {
            var edited = texts
            edited[file] = text
            return try Files(texts: edited).load("c/a.yaml")
        }
        // Any change of data in any base, even one the config overrides, is new content.
        #expect(try after("c/root.yaml", "command: [train]\nparams: {seed: 9}\nresources: {gpus: 1}\n").contentSHA256 != first.contentSHA256)
        #expect(try after("c/base.yaml", "extends: root.yaml\nparams: {lr: 0.2}\n").contentSHA256 != first.contentSHA256)
        // A comment, key order or a scheduling key in a base is not: same content, other bytes.
        let comment = try after("c/root.yaml", "# note\nresources: {gpus: 4}\nparams: {seed: 1}\ncommand: [train]\n")
        #expect(comment.contentSHA256 == first.contentSHA256)
        #expect(comment.sha256 != first.sha256)
        // The chain's hash is never a single file's.
        #expect(first.sha256 != SHA256.hex(Array(texts["c/a.yaml"]!.utf8)))
        texts["c/a.yaml"] = "extends: base.yaml\nparams: {seed: 3}\n"
        #expect(try Files(texts: texts).load("c/a.yaml").contentSHA256 != first.contentSHA256)
    }

    @Test func aMarkerNoLongerDescribesAConfigWhoseBaseChanged() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(root + "/a.yaml", "extends: base.yaml\nparams: {seed: 2}\n")
        try write(root + "/base.yaml", "command: [train]\nparams: {seed: 1}\n")
        let loaded = try ConfigLoader.load(root + "/a.yaml")
        let identity = ConfigIdentity(path: root + "/a.yaml", name: "a.yaml", sha256: loaded.sha256, resultsFolder: root + "/results",
                                      contentSHA256: loaded.contentSHA256, runner: "runone")
        #expect(CompletionMarker.stillDescribes(identity, file: root + "/a.yaml"))
        try write(root + "/base.yaml", "# only a comment is new\ncommand: [train]\nparams: {seed: 1}\n")
        #expect(CompletionMarker.stillDescribes(identity, file: root + "/a.yaml"))
        try write(root + "/base.yaml", "command: [train]\nparams: {seed: 5}\n")
        #expect(!CompletionMarker.stillDescribes(identity, file: root + "/a.yaml"))
        try FileManager.default.removeItem(atPath: root + "/base.yaml")
        #expect(!CompletionMarker.stillDescribes(identity, file: root + "/a.yaml"))
    }

    // MARK: - Keys the schema ignores

    @Test func xAndDotKeysAreIgnoredByTheSchema() throws {
        let text = """
        x-base: {lr: 0.1, anything: [1, 2]}
        .notes: "tuned by hand"
        x-: 1
        .: 2
        command: [train, '{lr}']
        params: {lr: 0.1}
        """
        let checked = try ConfigSchema.check(Array(text.utf8), path: "a.yaml", runone: true)
        guard case .command(let spec)? = checked.runone else { Issue.record("not a command"); return }
        #expect(spec.params.map(\.name) == ["lr"])
        // They are data all the same: part of the content.
        let without = try ConfigSchema.check(Array("command: [train, '{lr}']\nparams: {lr: 0.1}\n".utf8), path: "a.yaml", runone: true)
        #expect(checked.contentSHA256 != without.contentSHA256)
        // Only at the top level, only lowercase x-, and only as a prefix.
        for (bad, key) in [("X-base: 1\ncommand: [true]\n", "X-base"), ("xbase: 1\ncommand: [true]\n", "xbase"),
                           ("model_params: {name: kuramoto, x-a: 1}\n", "model_params.x-a")] {
            do {
                _ = try ConfigSchema.check(Array(bad.utf8), path: "a.yaml", runone: true)
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.message.contains("key '\(key)'"), "\(error.message)")
            }
        }
    }

    @Test func aMisspeltExtendsGetsDidYouMean() {
        let files = Files(texts: ["a.yaml": "extend: b.yaml\ncommand: [true]\n"])
        guard case .failure(let problem) = files.check("a.yaml") else { Issue.record("accepted"); return }
        #expect(problem.message.hasPrefix("a.yaml:1:1: key 'extend': unknown key; did you mean 'extends'?"), "\(problem.message)")
    }

    // MARK: - The fuzz reader

    /// Every base reads as the input itself: a config extending anything is a chain of
    /// copies, refused as a cycle or a long chain, never a crash.
    @Test func theFuzzReaderDrivesChainsFromTheInputAlone() {
        func message(_ text: String) -> String? {
            do { try InputReaders.config(Array(text.utf8), path: "fuzz.yaml"); return nil } catch { return error.message }
        }
        #expect(message("extends: fuzz.yaml\ncommand: [true]\n")?.contains("the bases form a cycle: fuzz.yaml -> fuzz.yaml") == true)
        #expect(message("extends: x/fuzz.yaml\ncommand: [true]\n")?.contains("more than 32 bases") == true)
    }
}
