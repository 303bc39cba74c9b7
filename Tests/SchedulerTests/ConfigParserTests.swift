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
        ("a: &x 1\n", 1, 4, "anchors"),
        ("a: 1\nb: *x\n", 2, 4, "aliases"),
        ("a: !!str 1\n", 1, 4, "tags"),
        ("a: |\n  text\n", 1, 4, "block scalars"),
        ("a: 1\n---\nb: 2\n", 2, 1, "second document"),
        ("a: 1\na: 2\n", 2, 1, "duplicate key 'a'"),
        ("a:\n\tb: 1\n", 2, 1, "tab character"),
        ("a: 1\n  b: 2\n", 2, 3, "indented more"),
        ("a: [1, 2\n", 1, 4, "unclosed '['"),
        ("a: {b: 1,\n", 1, 4, "unclosed '{'"),
        ("a: 'open\n", 1, 4, "quoted string that continues"),
        ("a: b: c\n", 1, 4, "a mapping cannot start on the same line as its key"),
        ("d: 2026-11-21\n", 1, 4, "reads as a date"),
        ("%YAML 1.1\n---\na: 1\n", 1, 1, "directives"),
        ("- a\nb: 1\n", 2, 1, "unexpected content"),
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
