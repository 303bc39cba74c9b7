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

    /// What PyYAML's constructors accept for explicit tags, and merges that chain deep.
    @Test func taggedScalarsAndMergeChainsAsPyYAML() throws {
        let value = try yaml("a: !!int 0o12\nb: !!int ' 1'\nc: !!int |\n  12\nd: !!timestamp 2001-1-1\n")
        #expect(value == .map([("a", .int(10)), ("b", .int(1)), ("c", .int(12)), ("d", .string("2001-1-1"))]))
        var chain = "m0: &m0 {k0: 0}\n"
        for n in 1...300 { chain += "m\(n): &m\(n)\n  <<: *m\(n - 1)\n  k\(n): \(n)\n" }
        guard case .map(let last)? = try yaml(chain)["m300"] else { Issue.record("m300"); return }
        #expect(last.count == 301)
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
        ("d: 2023-02-29\n", 1, 4, "there is no such date or time"),
        ("d: 2001-12-14 24:00:00\n", 1, 4, "there is no such date or time"),
        ("d: !!timestamp 2001-13-01\n", 1, 4, "is not a date for !!timestamp"),
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
