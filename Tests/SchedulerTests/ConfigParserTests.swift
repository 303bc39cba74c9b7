import Foundation
import Testing
@testable import Scheduler

struct ConfigParserTests {
    func yaml(_ text: String) throws(ConfigError) -> ConfigValue { try ConfigParser.parse(text, dialect: .yaml, source: "c.yaml") }

    @Test func blockMappingsSequencesAndFlow() throws {
        let value = try yaml("""
        # a comment
        name: kuramoto   # trailing comment
        sizes: [1, 2.5, "three", {a: b}]
        nested:
          list:
          - x: 1
            y: [true, no, ~]
          - - inner
            - 'it''s'
          empty:
        "quoted key": "tab\\there \\u00e9"
        """)
        #expect(value == .map([
            ("name", .string("kuramoto")),
            ("sizes", .list([.int(1), .double(2.5), .string("three"), .map([("a", .string("b"))])])),
            ("nested", .map([
                ("list", .list([
                    .map([("x", .int(1)), ("y", .list([.bool(true), .bool(false), .null]))]),
                    .list([.string("inner"), .string("it's")]),
                ])),
                ("empty", .null),
            ])),
            ("quoted key", .string("tab\there é")),
        ]))
    }

    /// The "one base, several variants" pattern: merges in PyYAML's order (own keys win;
    /// in `<<: [*a, *b]` the earlier mapping wins; keys keep the place they first had).
    @Test func anchorsMergesBlockScalarsAndTags() throws {
        let value = try yaml("""
        x-base: &base {lr: 0.1, bs: 32, opt: adam}
        x-more: &more {bs: 64, seed: 1}
        exp:
          <<: [*base, *more]
          lr: 0.2
        cmd: |
          python train.py
            --lr 0.1
        note: >-
          folded
          text

          para
        t: !!float 1
        s: !!str 12
        long: a plain
          value on two lines
        when: 2001-12-14
        same: *base
        """)
        #expect(value["exp"] == .map([("bs", .int(32)), ("seed", .int(1)), ("lr", .double(0.2)), ("opt", .string("adam"))]))
        #expect(value["cmd"] == .string("python train.py\n  --lr 0.1\n"))
        #expect(value["note"] == .string("folded text\npara"))
        #expect(value["t"] == .double(1))
        #expect(value["s"] == .string("12"))
        #expect(value["long"] == .string("a plain value on two lines"))
        #expect(value["when"] == .string("2001-12-14"))
        #expect(value["same"] == value["x-base"])
    }

    /// A few lines of aliases cannot stand for a billion values.
    @Test func aliasExpansionIsBounded() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<9 { text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        #expect(throws: ConfigError.self) { try yaml(text) }
        do { _ = try yaml(text) } catch { #expect(error.message.contains("aliases expand this config to more than 1000000 values")) }
    }

    @Test func scalarsResolveAsPyYAMLDoes() throws {
        let cases: [(String, ConfigValue)] = [
            ("0x1F", .int(31)), ("017", .int(15)), ("0b101", .int(5)), ("1_000", .int(1000)), ("1:30", .int(90)),
            ("-7", .int(-7)), ("1.5", .double(1.5)), ("1.", .double(1)), (".5", .double(0.5)), ("1.0e+3", .double(1000)),
            ("1e3", .string("1e3")), ("1.0e3", .string("1.0e3")), (".inf", .double(.infinity)), ("-.Inf", .double(-.infinity)),
            ("yes", .bool(true)), ("Off", .bool(false)), ("y", .string("y")), ("Null", .null), ("~", .null),
            ("nan", .string("nan")), ("0o17", .string("0o17")), ("http://x.y/z", .string("http://x.y/z")),
        ]
        for (text, expected) in cases {
            #expect(try yaml("v: \(text)\n")["v"] == expected, "\(text)")
        }
        guard case .double(let nan)? = try yaml("v: .NaN")["v"] else { Issue.record("NaN"); return }
        #expect(nan.isNaN)
    }

    @Test func jsonDialect() throws {
        let value = try ConfigParser.parse(#"{"a": [1, 2.0, 1e3, "x\ny", null, true], "b": {"c": -0.5}}"#, dialect: .json, source: "c.json")
        #expect(value == .map([
            ("a", .list([.int(1), .double(2), .double(1000), .string("x\ny"), .null, .bool(true)])),
            ("b", .map([("c", .double(-0.5))])),
        ]))
        #expect(throws: ConfigError.self) { try ConfigParser.parse("{a: 1}", dialect: .json, source: "c.json") }
    }

    @Test(arguments: [
        ("a: !include x.yaml\n", 1, 4, "tag '!include' is not supported"),
        ("a: !!python/object:os.system x\n", 1, 4, "tag '!!python/object:os.system' is not supported"),
        ("a: !!binary aGk=\n", 1, 4, "tag '!!binary' is not supported"),
        ("a: !!int x\n", 1, 4, "not an integer for !!int"),
        ("a: *x\n", 1, 4, "alias '*x' names no anchor"),
        ("a: &x [1, *x]\n", 1, 11, "inside the node it names"),
        ("a: &x 1\nb: &x 2\n", 2, 4, "anchor '&x' is defined twice"),
        ("b:\n  <<: 1\n", 2, 3, "'<<' merges a mapping or a list of mappings"),
        ("a: <<\n", 1, 4, "'<<' merges mappings as a key"),
        ("a: =\n", 1, 4, "a plain '=' has a special meaning"),
        ("? a\n: b\n", 1, 1, "complex keys ('? ') are not supported"),
        ("[a, b]: c\n", 1, 1, "a list or mapping as a key is not supported"),
        ("a: |0\n  x\n", 1, 5, "indentation indicator is 1 to 9"),
        ("a: 1\n---\nb: 2\n", 2, 1, "second document"),
        ("a: 1\na: 2\n", 2, 1, "duplicate key 'a' (first set on line 1)"),
        ("a:\n\tb: 1\n", 2, 1, "a tab"),
        ("a: 1\t# c\n", 1, 5, "a tab"),
        ("a: 1\n  b: 2\n", 2, 4, "unexpected ':'"),
        ("a: [1, 2\n", 1, 4, "unclosed '['"),
        ("a: {b: 1,\n", 1, 4, "unclosed '{'"),
        ("a: 'open\n", 1, 4, "unclosed quote"),
        ("a: b: c\n", 1, 5, "unexpected ':'"),
        ("%YAML 2.0\n---\na: 1\n", 1, 1, "YAML 1.x"),
        ("- a\nb: 1\n", 2, 1, "expected another '- ' item"),
        ("a: ]\n", 1, 4, "']' closes nothing"),
    ] as [(String, Int, Int, String)])
    func unsupportedInputIsAnErrorWithLineAndColumn(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        do {
            _ = try yaml(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("c.yaml:\(line):\(column): "))
        }
    }
}

/// The same documents through PyYAML's safe_load and through ours must give the same data.
struct PyYAMLDifferentialTests {
    /// Each value as text both sides can produce exactly: floats by bit pattern, strings
    /// by UTF-8 hex.
    static func canonical(_ value: ConfigValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return "i\(i)"
        case .double(let d): return "f" + String(format: "%016llx", d.isNaN ? Double.nan.bitPattern : d.bitPattern)
        case .string(let s): return "s" + s.utf8.map { String(format: "%02x", $0) }.joined()
        case .list(let items): return "[" + items.map(canonical).joined(separator: ",") + "]"
        case .map(let entries): return "{" + entries.map { canonical(.string($0.key)) + ":" + canonical($0.value) }.joined(separator: ",") + "}"
        }
    }

    static let python = #"""
import sys, yaml, struct, math
def canon(v):
    if v is None: return "null"
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, int): return "i%d" % v
    if isinstance(v, float):
        if math.isnan(v): v = float("nan")
        return "f" + struct.pack(">d", v).hex()
    if isinstance(v, str): return "s" + v.encode("utf-8").hex()
    if isinstance(v, list): return "[" + ",".join(canon(x) for x in v) + "]"
    if isinstance(v, dict): return "{" + ",".join(canon(k) + ":" + canon(x) for k, x in v.items()) + "}"
    return "unsupported " + type(v).__name__
for path in sys.argv[1:]:
    try:
        print(canon(yaml.safe_load(open(path, encoding="utf-8"))))
    except Exception as e:
        print("ERROR " + type(e).__name__)
"""#

    /// Documents in the subset: generated from a seed, plus hand-picked edge cases.
    static func corpus() -> [String] {
        var random = SeededRandom(seed: 42)
        var documents: [String] = []
        for _ in 0..<300 {
            var generator = YAMLGenerator(random: &random)
            documents.append(generator.document())
        }
        documents += [
            "a: 1\n", "- 1\n- 2\n", "a:\n- x\n- y\nb: 2\n", "k: 'single ''quoted'''\n", "k: \"esc \\\\ \\\" \\t \\x41 \\u263A\"\n",
            "k: [a, 'b', \"c\", 1, 2.0, {x: y}, [z]]\n", "k: {a: 1, b: [2, 3], c: {d: e}}\n", "plain: text with spaces # comment\n",
            "url: http://example.com:8080/x\n", "n: -0\n", "f: -1.5e-3\n", "f: 6.02e+23\n", "x: +12\n", "x: 0x_1F\n", "x: 1:20:30\n",
            "x: 190:20:30.15\n", "x: .5\n", "x: -.inf\n", "x: .NaN\n", "b: [yes, No, on, OFF, True, false]\n", "e: []\n", "e: {}\n",
            "---\na: 1\n", "a: 1\n...\n", "x: ~\n", "x:\n", "\"k\": v\n", "'k': v\n", "s: a:b\n", "s: a #b\n", "s: a#b\n",
            "list:\n  - a\n  -   b\n  -\n    c: 1\n", "- - a\n  - b\n- - c\n", "a:\n  b:\n    c:\n      d: 1\n", "\u{FEFF}a: 1\n",
            "multi: [1,\n  2,\n  3]\n", "m: {a: 1,\n  b: 2}\n", "k: é ü 日本\n", "- {a: 1}\n- [1]\n", "x: 012345\n", "x: 09\n",
        
        ]
        // Scalars at the edges of PyYAML's int and float patterns (the scanners in
        // YAMLScalars replace its regexes).
        let edges = ["0b101", "-0b1_0", "0b", "0b2", "0_7", "00", "0", "-0", "+0", "08", "0x", "0xG", "0x_", "0xfF", "1_000", "1__",
                     "_1", "1:0", "1:60", "1:59", "1:5", "01:30", "0:30", "1:30.5", "0:30.5", "1:30:", ":30", "1:5:", "1.", "1.e+5",
                     "1.e5", "1e5", "1e+5", "1.0e5", "1.0E-5", ".5e+1", "-.5", "+.5", ".", "-.", ".inf", "-.Inf", "+.INF", ".iNf",
                     "-.nan", "+.nan", ".NaN", "1_0.5_", "1.2.3", "1:2:3.4.5", "1:70", "12:345", "9223372036854775807",
                     "-9223372036854775808", "0x7fffffffffffffff", "1:1:1:1", "-1:30", "+1:30.5", "1:0x", "0b1:1", "1:30e+1",
                     "._5", "._", "1_:30", "1:3_0", "0.", "-0.0", "+1.5e-3x", "1e", "1.5e+", "1.5e+-1", "2:60.0", "2:59.9"]
        documents += edges.map { "x: \($0)\n" }
        return documents
    }

    @Test func agreesWithPyYAML() throws {
        let folder = NSTemporaryDirectory() + "yaml-diff-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = Self.corpus()
        var paths: [String] = []
        for (i, document) in documents.enumerated() {
            let path = "\(folder)/\(i).yaml"
            try document.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        try Self.python.write(toFile: folder + "/canon.py", atomically: true, encoding: .utf8)
        let printed = try pythonOutput([folder + "/canon.py"] + paths)
        let canonical = try #require(printed, "python3 with PyYAML is needed (apt-get install python3-yaml)")
        let expected = canonical.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var checked = 0
        for (i, document) in documents.enumerated() {
            let ours: String
            do { ours = Self.canonical(try ConfigParser.parse(document, dialect: .yaml, source: "\(i).yaml")) } catch { ours = "ERROR \(error)" }
            // Both refusing counts as agreeing: the messages differ on purpose.
            if expected[i].hasPrefix("ERROR ") && ours.hasPrefix("ERROR ") { checked += 1; continue }
            #expect(ours == expected[i], "document \(i):\n\(document)")
            checked += 1
        }
        #expect(checked == documents.count)
    }
}

/// A small deterministic PRNG for generated corpora.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Random documents inside the subset: nested block mappings and sequences with flow
/// collections and scalars of every kind the resolver distinguishes.
struct YAMLGenerator {
    var random: SeededRandom

    init(random: inout SeededRandom) {
        self.random = SeededRandom(seed: random.next())
    }

    static let plainScalars = [
        "1", "-3", "+4", "0", "017", "0x1A", "0b11", "1_000", "2:30", "3.14", "-0.5", "1.", ".25", "1.0e+5", "2.5E-3", "1e5",
        ".inf", "-.inf", "yes", "No", "on", "OFF", "true", "False", "y", "n", "null", "~", "Null", "hello", "hello world",
        "a-b_c", "x.y", "path/to/file.yaml", "v1.2.3", "0.1.2", "1_2.5", "12e", "a:b", "-x", "caf\u{e9}", "x#y", "1,000",
    ]
    static let quotedScalars = ["'yes'", "\"1\"", "'a: b'", "\"#c\"", "\"tab\\tx\"", "'it''s'", "\"\\u00e9\"", "''", "\"\""]
    static let keys = ["alpha", "beta", "gamma", "delta_1", "eps-2", "zeta.z", "eta", "theta", "iota", "kappa"]

    mutating func scalar(inFlow: Bool) -> String {
        if random.below(4) == 0 { return random.pick(Self.quotedScalars) }
        let plain = random.pick(Self.plainScalars)
        // ',' ends a plain scalar inside [...] and {...}.
        return inFlow && plain.contains(",") ? "'\(plain)'" : plain
    }

    mutating func flow(depth: Int) -> String {
        if depth > 2 || random.below(3) == 0 { return scalar(inFlow: true) }
        if random.below(2) == 0 {
            return "[" + (0..<random.below(4)).map { _ in flow(depth: depth + 1) }.joined(separator: ", ") + "]"
        }
        var used = Set<String>()
        var entries: [String] = []
        for _ in 0..<random.below(4) {
            let key = random.pick(Self.keys)
            if used.insert(key).inserted { entries.append("\(key): \(flow(depth: depth + 1))") }
        }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    mutating func block(indent: Int, depth: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        if random.below(3) == 0 {
            for _ in 0..<(1 + random.below(3)) {
                lines.append(pad + "- " + (random.below(3) == 0 ? flow(depth: 1) : scalar(inFlow: false)))
            }
            return lines.joined(separator: "\n")
        }
        var used = Set<String>()
        for _ in 0..<(1 + random.below(4)) {
            let key = random.pick(Self.keys)
            guard used.insert(key).inserted else { continue }
            switch depth < 3 ? random.below(4) : 0 {
            case 0: lines.append(pad + "\(key): " + scalar(inFlow: false) + (random.below(5) == 0 ? "  # note" : ""))
            case 1: lines.append(pad + "\(key): " + flow(depth: 0))
            default:
                lines.append(pad + "\(key):")
                lines.append(block(indent: indent + 2, depth: depth + 1))
            }
        }
        return lines.joined(separator: "\n")
    }

    mutating func document() -> String { block(indent: 0, depth: 0) + "\n" }
}
