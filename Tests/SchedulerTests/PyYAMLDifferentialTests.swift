import Foundation
import Testing
@testable import Scheduler

/// The config reader against PyYAML's pure-Python `safe_load`: the same bytes through both
/// must give the same data, or both must refuse them. The PyYAML side is
/// Tests/yaml/pyyaml_reference.py, which applies the deliberate differences of
/// docs/YAML-DIFFERENCES.md (keys and dates stay text, duplicate keys, complex keys, 64-bit
/// integers, nesting, ...) and nothing else, and generates the seeded corpus.
///
/// - `corpusFilesReadAsPyYAMLReadsThem`: every file of ../shared/yaml-corpus/files, byte
///   for byte (CRLF, BOM, tabs).
/// - `generatedDocumentsReadAsPyYAMLReadsThem`: 5,000 generated documents meant to load
///   (anchors, aliases, merges, block scalars, multi-line scalars, tags, dates, document
///   markers, and their combinations), 600 meant to be refused, hand-written edges, and
///   the hand-picked documents and scalar edges below.
///
/// A document agrees when ours gives the same canonical text as PyYAML, or PyYAML refuses
/// it (`ERROR ...`) and ours throws a `ConfigError` naming this file and a line and column
/// inside it, or it holds a duplicate key and nothing else wrong (`DUPKEY`) and ours says
/// "duplicate key". The messages differ on purpose.
struct PyYAMLDifferentialTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = packageRoot.appendingPathComponent("Tests/yaml/pyyaml_reference.py").path
    /// CI clones the repository with ../shared beside it.
    static let corpusFolder = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/yaml-corpus").standardized.path
    static let corpusPresent = FileManager.default.fileExists(atPath: corpusFolder + "/files")
    static let onCI = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty

    /// The generated corpus: its seed and sizes.
    static let seed = 42, loadable = 5000, refused = 600
    /// Features (Tests/yaml/pyyaml_reference.py's names) that at least 20 generated
    /// documents must exercise, so that the generator cannot quietly stop covering them.
    static let requiredFeatures = [
        "anchor-scalar", "anchor-list", "anchor-map", "anchor-flow", "alias-scalar", "alias-list", "alias-map", "alias-in-flow",
        "merge-one", "merge-list", "merge-list-block", "merge-flow", "merge-inline-map", "merge-nested", "merge-override",
        "merge-list-conflict", "merge-order-matters", "merge-after-own-keys",
        "block|", "block|-", "block|+", "block|N", "block|-N", "block|+N",
        "block>", "block>-", "block>+", "block>N", "block>-N", "block>+N", "block-in-list", "block-in-map",
        "block-leading-blank-lines", "block-inner-blank-lines", "block-trailing-blank-lines", "folded-more-indented",
        "plain-multiline-block", "plain-multiline-flow", "single-multiline", "double-multiline", "dq-escapes",
        "dq-line-continuation", "multiline-blank-lines", "tag-str", "tag-int", "tag-float", "tag-bool", "tag-null",
        "tag-timestamp", "tag-on-collection", "date", "datetime", "keys-as-text", "document-start", "document-end",
        "yaml-directive", "crlf", "byte-order-mark", "no-final-line-break", "subset",
        "refuse-custom-tag", "refuse-undefined-alias", "refuse-complex-key", "refuse-second-document", "refuse-duplicate-key",
        "refuse-bad-merge", "refuse-big-integer", "refuse-too-deep", "refuse-recursive-alias",
    ]

    // MARK: - Canonical text

    /// Each value as text both sides print exactly: floats by bit pattern, strings with
    /// every byte outside printable ASCII (and `"`, `\`) as `\hh`, maps in key order.
    static func canonical(_ value: ConfigValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return "i\(i)"
        case .double(let d): return "f" + String(format: "%016llx", d.isNaN ? Double.nan.bitPattern : d.bitPattern)
        case .string(let s): return text(s)
        case .list(let items): return "[" + items.map(canonical).joined(separator: ",") + "]"
        case .map(let entries): return "{" + entries.map { text($0.key) + ":" + canonical($0.value) }.joined(separator: ",") + "}"
        }
    }

    static func text(_ s: String) -> String {
        var out = "\""
        for byte in s.utf8 {
            if byte >= 0x20 && byte < 0x7F && byte != 0x22 && byte != 0x5C {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "\\%02x", byte)
            }
        }
        return out + "\""
    }

    // MARK: - Hand-picked documents

    /// Documents of the subset the reader has always read, and scalars at the edges of
    /// PyYAML's int and float patterns (the scanners in YAMLScalars replace its regexes).
    static let handPicked: [String] = {
        var documents = [
            "a: 1\n", "- 1\n- 2\n", "a:\n- x\n- y\nb: 2\n", "k: 'single ''quoted'''\n", "k: \"esc \\\\ \\\" \\t \\x41 \\u263A\"\n",
            "k: [a, 'b', \"c\", 1, 2.0, {x: y}, [z]]\n", "k: {a: 1, b: [2, 3], c: {d: e}}\n", "plain: text with spaces # comment\n",
            "url: http://example.com:8080/x\n", "n: -0\n", "f: -1.5e-3\n", "f: 6.02e+23\n", "x: +12\n", "x: 0x_1F\n", "x: 1:20:30\n",
            "x: 190:20:30.15\n", "x: .5\n", "x: -.inf\n", "x: .NaN\n", "b: [yes, No, on, OFF, True, false]\n", "e: []\n", "e: {}\n",
            "---\na: 1\n", "a: 1\n...\n", "x: ~\n", "x:\n", "\"k\": v\n", "'k': v\n", "s: a:b\n", "s: a #b\n", "s: a#b\n",
            "list:\n  - a\n  -   b\n  -\n    c: 1\n", "- - a\n  - b\n- - c\n", "a:\n  b:\n    c:\n      d: 1\n", "\u{FEFF}a: 1\n",
            "multi: [1,\n  2,\n  3]\n", "m: {a: 1,\n  b: 2}\n", "k: é ü 日本\n", "- {a: 1}\n- [1]\n", "x: 012345\n", "x: 09\n",
        ]
        let edges = ["0b101", "-0b1_0", "0b", "0b2", "0_7", "00", "0", "-0", "+0", "08", "0x", "0xG", "0x_", "0xfF", "1_000", "1__",
                     "_1", "1:0", "1:60", "1:59", "1:5", "01:30", "0:30", "1:30.5", "0:30.5", "1:30:", ":30", "1:5:", "1.", "1.e+5",
                     "1.e5", "1e5", "1e+5", "1.0e5", "1.0E-5", ".5e+1", "-.5", "+.5", ".", "-.", ".inf", "-.Inf", "+.INF", ".iNf",
                     "-.nan", "+.nan", ".NaN", "1_0.5_", "1.2.3", "1:2:3.4.5", "1:70", "12:345", "9223372036854775807",
                     "-9223372036854775808", "0x7fffffffffffffff", "1:1:1:1", "-1:30", "+1:30.5", "1:0x", "0b1:1", "1:30e+1",
                     "._5", "._", "1_:30", "1:3_0", "0.", "-0.0", "+1.5e-3x", "1e", "1.5e+", "1.5e+-1", "2:60.0", "2:59.9"]
        documents += edges.map { "x: \($0)\n" }
        return documents
    }()

    // MARK: - Comparing

    /// What ours makes of one document, and whether that agrees with `expected`.
    static func compare(_ bytes: [UInt8], source: String, expected: String) -> (ours: String, agrees: Bool) {
        do {
            let ours = canonical(try ConfigParser.parse(bytes: bytes, dialect: .yaml, source: source))
            return (ours, ours == expected)
        } catch {
            let ours = "ERROR \(error)"
            let lines = bytes.count(where: { $0 == 0x0A }) + 1
            // `file:line:col: ` with the place inside the document.
            let placed = error.source == source && (1...lines).contains(error.line) && error.column >= 1
            if expected == "DUPKEY" { return (ours, placed && error.message.contains("duplicate key")) }
            return (ours, placed && expected.hasPrefix("ERROR "))
        }
    }

    /// The first mismatches in full, the rest counted.
    struct Report {
        var mismatches = 0
        var text = ""
        static let shown = 20

        mutating func add(_ title: String, document: [UInt8], expected: String, ours: String) {
            mismatches += 1
            guard mismatches <= Self.shown else { return }
            text += "\n── \(title)\n" + Self.show(document)
            // From a little before the first difference: the forms can be long.
            let common = zip(expected, ours).prefix { $0 == $1 }.count
            let from = max(0, common - 60)
            text += "   PyYAML: " + Self.cut(expected, from: from) + "\n   ours:   " + Self.cut(ours, from: from) + "\n"
        }

        static func cut(_ s: String, from: Int) -> String {
            let tail = s.dropFirst(from)
            return (from > 0 ? "…" : "") + String(tail.prefix(300)) + (tail.count > 300 ? "…" : "")
        }

        /// The document, lines numbered, tab, CR and BOM visible, at most 24 lines.
        static func show(_ bytes: [UInt8]) -> String {
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            var out = ""
            for (n, line) in lines.prefix(24).enumerated() {
                var visible = line.replacingOccurrences(of: "\t", with: "→").replacingOccurrences(of: "\r", with: "␍")
                    .replacingOccurrences(of: "\u{FEFF}", with: "⟨BOM⟩")
                if visible.count > 120 { visible = String(visible.prefix(120)) + "…" }
                out += String(format: "%4d│", n + 1) + visible + "\n"
            }
            if lines.count > 24 { out += "    │… \(lines.count - 24) more lines\n" }
            return out
        }

        func summary(of count: Int, _ what: String) -> String {
            "\(mismatches) of \(count) \(what) read differently from PyYAML" +
                (mismatches > Self.shown ? " (the first \(Self.shown) below)" : "") + ":" + text
        }
    }

    /// Rows of Tests/yaml/pyyaml_reference.py's tab-separated output.
    static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CocoaError(.fileReadNoSuchFile) }
        return Array(data)
    }

    // MARK: - Tests

    @Test(.enabled(if: corpusPresent || onCI, "../shared/yaml-corpus is not beside the repository; skipped (with CI set, this fails)"))
    func corpusFilesReadAsPyYAMLReadsThem() throws {
        try #require(Self.corpusPresent, "CI is set but \(Self.corpusFolder)/files is missing; clone it beside the repository")
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpusFolder + "/files").sorted()
        try #require(!names.isEmpty)
        let printed = try #require(try pythonOutput([Self.script] + names.map { Self.corpusFolder + "/files/" + $0 }),
                                   "python3 with PyYAML is needed (apt-get install python3-yaml)")
        let expected = Dictionary(uniqueKeysWithValues: Self.rows(printed).filter { $0.first == "file" }.map {
            (String($0[1].split(separator: "/").last!), $0[2])
        })
        #expect(expected.count == names.count)
        // What index.csv says plain PyYAML 6.0.3 made of each file: the reference must
        // refuse exactly those (the deliberate differences refuse more, and say why).
        var pyyamlLoads: [String: Bool] = [:]
        if let index = FileManager.default.contents(atPath: Self.corpusFolder + "/index.csv") {
            for line in String(decoding: index, as: UTF8.self).split(separator: "\n").dropFirst() {
                let fields = line.split(separator: ",", maxSplits: 9, omittingEmptySubsequences: false)
                if fields.count == 10 { pyyamlLoads[String(fields[0])] = fields[8].hasPrefix("ok") }
            }
        }
        var report = Report()
        var loads: [String] = [], refused: [String] = [], duplicateKey: [String] = [], agreeing = 0
        for name in names {
            let want = try #require(expected[name])
            let (ours, agrees) = Self.compare(try Self.bytes(Self.corpusFolder + "/files/" + name), source: name, expected: want)
            if want == "DUPKEY" {
                duplicateKey.append(name)
            } else if want.hasPrefix("ERROR ") {
                refused.append(name + " (\(want.dropFirst(6)))")
            } else {
                loads.append(name)
            }
            if let loaded = pyyamlLoads[name] {
                #expect((loaded == !want.hasPrefix("ERROR ")) || want.hasPrefix("ERROR Refused-"),
                        "\(name): index.csv says PyYAML \(loaded ? "loads" : "refuses") it; the reference says \(want.prefix(80))")
            }
            if agrees { agreeing += 1 } else {
                report.add(name, document: try Self.bytes(Self.corpusFolder + "/files/" + name), expected: want, ours: ours)
            }
        }
        print("""
        yaml-corpus: \(names.count) files, \(agreeing) read as PyYAML reads them; PyYAML loads \(loads.count), \
        refuses \(refused.count), \(duplicateKey.count) hold duplicate keys (ours must say "duplicate key")
          refused by PyYAML: \(refused.joined(separator: ", "))
          duplicate keys: \(duplicateKey.joined(separator: ", "))
        """)
        if report.mismatches > 0 { Issue.record(Comment(rawValue: report.summary(of: names.count, "corpus files"))) }
    }

    @Test func generatedDocumentsReadAsPyYAMLReadsThem() throws {
        let folder = NSTemporaryDirectory() + "yaml-diff-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder + "/hand", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var paths: [String] = []
        for (i, document) in Self.handPicked.enumerated() {
            paths.append("\(folder)/hand/\(i).yaml")
            try Data(document.utf8).write(to: URL(fileURLWithPath: paths[i]))
        }
        let summary = try #require(try pythonOutput([Self.script, "--out", folder, "--seed", "\(Self.seed)",
                                                     "--count", "\(Self.loadable)", "--refused", "\(Self.refused)"] + paths),
                                   "python3 with PyYAML is needed (apt-get install python3-yaml)")
        print(summary.prefix { $0 != "\n" })
        let manifest = Self.rows(String(decoding: try Self.bytes(folder + "/expected.tsv"), as: UTF8.self))

        var report = Report()
        var perFeature: [String: (documents: Int, agreeing: Int)] = [:]
        var generatorBugs: [String] = []
        var handPickedAgreeing = 0, generated = 0
        // YAML_DIFF_DUMP=FILE: every generated document's verdict, both forms, for digging.
        var dump = ""
        for row in manifest {
            if row[0] == "file" {
                let index = Int(row[1].split(separator: "/").last!.dropLast(5))!
                let document = Array(Self.handPicked[index].utf8)
                let (ours, agrees) = Self.compare(document, source: "hand-\(index).yaml", expected: row[2])
                if agrees { handPickedAgreeing += 1 } else {
                    report.add("hand-picked document \(index)", document: document, expected: row[2], ours: ours)
                }
                continue
            }
            try #require(row.count == 5, "expected.tsv: \(row)")
            generated += 1
            let (index, intent, features, expected) = (row[1], row[2], row[3].split(separator: ","), row[4])
            let document = try Self.bytes(folder + "/gen/" + String(repeating: "0", count: max(0, 5 - index.count)) + index + ".yaml")
            if features.contains("GENERATOR-BUG") { generatorBugs.append(index) }
            let (ours, agrees) = Self.compare(document, source: "gen-\(index).yaml", expected: expected)
            dump += "\(index)\t\(agrees ? "agree" : "MISMATCH")\t\(row[3])\t\(expected)\t\(ours.replacingOccurrences(of: "\n", with: "\\n"))\n"
            for feature in features {
                perFeature[String(feature), default: (0, 0)].documents += 1
                if agrees { perFeature[String(feature), default: (0, 0)].agreeing += 1 }
            }
            if !agrees {
                report.add("generated document \(index) (\(intent); \(features.joined(separator: " ")))", document: document,
                           expected: expected, ours: ours)
            }
        }
        #expect(generated > Self.loadable + Self.refused, "the generator wrote \(generated) documents")
        #expect(generatorBugs.isEmpty, "documents PyYAML reads otherwise than the generator meant: \(generatorBugs.prefix(20))")

        // Documents agreeing / documents, by feature.
        var table = "ours agrees with PyYAML on \(generated + Self.handPicked.count - report.mismatches) of " +
            "\(generated + Self.handPicked.count) documents (hand-picked \(handPickedAgreeing) of \(Self.handPicked.count)); " +
            "agreeing/documents by feature:\n "
        var width = 1
        for (feature, counts) in perFeature.sorted(by: { $0.key < $1.key }) {
            let entry = " \(feature) \(counts.agreeing)/\(counts.documents)"
            if width + entry.count > 120 { table += "\n "; width = 1 }
            table += entry
            width += entry.count
        }
        print(table)
        let thin = Self.requiredFeatures.filter { perFeature[$0, default: (0, 0)].documents < 20 }
        #expect(thin.isEmpty, "features fewer than 20 generated documents exercise: \(thin)")
        if let path = ProcessInfo.processInfo.environment["YAML_DIFF_DUMP"] { try Data(dump.utf8).write(to: URL(fileURLWithPath: path)) }
        if report.mismatches > 0 {
            Issue.record(Comment(rawValue: report.summary(of: generated + Self.handPicked.count, "documents")))
        }
    }
}
