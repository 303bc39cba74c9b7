import Foundation
import FuzzReaders
@testable import Scheduler
import Testing

/// The fuzz target's readers, driven in process by the seeded mutator over the checked-in
/// corpus (Tests/fuzz/corpus): a trap would end the test run. CI also runs the libFuzzer
/// build for a bounded time (docs/FUZZING.md).
@Suite struct SeededFuzzTests {
    static let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus").path

    static func corpus(_ reader: FuzzReader) throws -> [[UInt8]] {
        let folder = corpusRoot + "/" + reader.rawValue
        return try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map {
            Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)))
        }
    }

    @Test(arguments: FuzzReader.allCases)
    func mutatedInputsNeverTrap(_ reader: FuzzReader) throws {
        let seeds = try Self.corpus(reader)
        #expect(!seeds.isEmpty, "no seed corpus for \(reader.rawValue)")
        for seed in seeds { reader.run(seed) }
        var mutator = SeededMutator(seed: 14)
        for _ in 0..<400 {
            reader.run(mutator.mutate(seeds[mutator.below(seeds.count)], other: seeds[mutator.below(seeds.count)]))
        }
    }
}

/// The config reader's edges, one kind each.
@Suite struct HostileConfigTests {
    func error(_ text: [UInt8], dialect: ConfigParser.Dialect = .yaml) -> String? {
        do { _ = try ConfigParser.parse(bytes: text, dialect: dialect, source: "c"); return nil } catch { return "\(error)" }
    }

    @Test func encodings() throws {
        // UTF-16 and UTF-32 of either byte order decode when a byte order mark says so.
        let text = "a: [é, 😀]\n"
        let expected = try ConfigParser.parse(text, dialect: .yaml, source: "c")
        var le16: [UInt8] = [0xFF, 0xFE], be16: [UInt8] = [0xFE, 0xFF], le32: [UInt8] = [0xFF, 0xFE, 0, 0], be32: [UInt8] = [0, 0, 0xFE, 0xFF]
        for unit in text.utf16 { le16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)]; be16 += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            le32 += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), 0]
            be32 += [0, UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        for bytes in [le16, be16, le32, be32] {
            #expect(try ConfigParser.parse(bytes: bytes, dialect: .yaml, source: "c") == expected)
        }
        #expect(error([0xFF, 0xFE, 0x00, 0xD8, 0x61, 0x00]) == "c:1:1: invalid UTF-16 (a broken surrogate pair or a value beyond U+10FFFF); save the file as UTF-8")
        #expect(error([0xFE, 0xFF, 0x00, 0x61, 0x00]) == "c:1:2: the file ends in the middle of a UTF-16 character; save the file as UTF-8")
        // Overlong forms and surrogates are not UTF-8.
        #expect(error(Array("a: ".utf8) + [0xC0, 0x80]) == "c:1:4: invalid UTF-8 (byte 0xC0); save the file as UTF-8")
        #expect(error(Array("a: ".utf8) + [0xED, 0xA0, 0x80]) == "c:1:4: invalid UTF-8 (byte 0xED); save the file as UTF-8")
        // YAML refuses DEL and C1 controls; JSON allows them inside strings.
        #expect(error(Array("a: \"\u{7F}\"".utf8)) == "c:1:5: control character U+007F in the file; remove it, or write it as an escape inside a double-quoted string")
        #expect(error(Array("{\"a\": \"\u{7F}\u{85}\"}".utf8), dialect: .json) == nil)
        #expect(error(Array("{\"a\": \"\t\u{01}\"}".utf8), dialect: .json) == "c:1:9: control character U+0001 in the file; remove it, or write it as an escape inside a double-quoted string")
    }

    @Test func depthIsBoundedAlike() {
        let limit = ConfigParser.maxDepth
        let flowOK = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        let flowDeep = "[" + flowOK + "]"
        #expect(error(Array(flowOK.utf8)) == nil)
        #expect(error(Array(flowOK.utf8), dialect: .json) == nil)
        #expect(error(Array(flowDeep.utf8))?.hasSuffix("lists and mappings nested more than 256 levels deep; flatten the config") == true)
        #expect(error(Array(flowDeep.utf8), dialect: .json)?.hasSuffix("nested more than 256 levels deep; flatten the config") == true)
        // The deepest document allowed survives what walks it: hashing, JSON, equality.
        let value = try? ConfigParser.parse(flowOK, dialect: .yaml, source: "c")
        #expect(value.map { ConfigSchema.contentHash($0).count } == 64)
        #expect(value.map { $0.json.encoded(pretty: true).count } ?? 0 > 0)
    }

    @Test func deepDocumentsParseOnASmallStack() async {
        // Dispatch's worker threads have 512 KiB stacks: the limit must fit there too.
        let flow = String(repeating: "{a: ", count: ConfigParser.maxDepth) + "1" + String(repeating: "}", count: ConfigParser.maxDepth)
        let parsed = await Task.detached { (try? ConfigParser.parse(flow, dialect: .yaml, source: "c")) != nil }.value
        #expect(parsed)
    }

    @Test func integersAreExactWithin64Bits() throws {
        let cases: [(String, Int?)] = [
            ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min), ("9223372036854775808", nil),
            ("0x7FFFFFFFFFFFFFFF", Int.max), ("0x8000000000000000", nil), ("-0x8000000000000000", Int.min),
            ("153722867280912930:7", Int.max), ("153722867280912930:8", nil), ("-153722867280912930:8", Int.min),
            ("0b" + String(repeating: "1", count: 63), Int.max), ("0777", 511), ("1_000", 1000), ("190:20:30", 685_230),
        ]
        for (text, value) in cases {
            let parsed = try? ConfigParser.parse("x: \(text)\n", dialect: .yaml, source: "c")
            #expect(parsed?["x"] == value.map { .int($0) }, "\(text)")
        }
        #expect(error(Array("x: 0x_\n".utf8)) == "c:1:4: '0x_' reads as an integer but has no digits; quote it to keep it as text")
    }

    @Test func jsonNumbersAtTheEdges() throws {
        #expect(error(Array("{\"x\": 9223372036854775808}".utf8), dialect: .json)
                == "c:1:7: integer '9223372036854775808' is outside the 64-bit range (-9223372036854775808 to 9223372036854775807); write it as a string")
        let value = try ConfigParser.parse("x: [.inf, -.inf, .nan, 1.5]\n", dialect: .yaml, source: "c")
        #expect(value["x"]?.items.compactMap(\.scalarText) == ["inf", "-inf", "nan", "1.5"])
    }

    @Test func unclosedQuotesAsShReadsThem() {
        for line in ["echo \"a", "echo 'a", "echo \"a\\\"", "echo a\\'b 'c"] { #expect(CommandLineWords.hasUnclosedQuote(line), "\(line)") }
        for line in ["echo \"it's\"", "echo it\\'s", "echo a # it's", "echo \"$(echo \")\")\"", "x=1; #'"] {
            #expect(!CommandLineWords.hasUnclosedQuote(line), "\(line)")
        }
    }

    @Test func messagesStayOneLine() {
        #expect(Console.escaped("\u{202E}gnp.exe \u{2028}x … é") == "\\u{202E}gnp.exe \\u{2028}x … é")
        #expect(String(repeating: "k", count: 100).excerpt == String(repeating: "k", count: 60) + "… (100 bytes)")
        #expect(Console.escaped("plain") == "plain")
        #expect(Console.escaped("a\nb\r\tc\u{1B}[0m\u{7F}\u{85}é") == "a\\nb\\r\\tc\\x1B[0m\\x7F\\u{85}é")
        #expect(UsageError(problems: ["a\nb", "c"]).lines(prefixed: "p: ") == ["p: a\nb", "p: c", "p: 2 problems; nothing was started"])
    }

    @Test func memoryBudget() {
        let budget = MemoryBudget(bytes: 1 << 30, source: "test")
        #expect((try? budget.check(estimate: 1 << 30, what: "x")) != nil)
        do { try budget.check(estimate: 3 << 29, what: "x"); Issue.record("not refused") } catch {
            #expect(error.message == "x needs about 1.5 GiB of memory at its peak, more than the 1.0 GiB this machine allows a task (test); make it smaller")
        }
        var model = KuramotoParameters()
        model.nodes = 100_000
        #expect(model.peakBytes > 30 * (1 << 30))
        model.nodes = 64
        #expect(model.peakBytes < 32 * (1 << 20))
    }
}
