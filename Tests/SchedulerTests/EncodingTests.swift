import Glibc
import Testing
@testable import Scheduler

/// The byte-level writers behind tasks.jsonl, summary.json, summary.csv and timestamps.
struct EncodingTests {
    static let awkward = [
        "", "plain/path.yaml", "quote \" and backslash \\", "line\nbreak\r\ttab", "bell \u{07} and \u{1F}",
        "été – 東京 🚀", "comma, \"quoted\"",
    ]

    @Test(arguments: awkward) func jsonStringsReadBackUnchanged(_ text: String) throws {
        let line = JSON.object([("s", .string(text)), ("n", .int(-42))]).encoded()
        #expect(!line.contains("\n"))
        let value = try ConfigParser.parse(line, dialect: .json, source: "test")
        guard case .map(let entries) = value else { Issue.record("not an object: \(line)"); return }
        #expect(entries.first?.value.string == text)
        #expect(entries.last?.value.int == -42)
    }

    @Test func jsonEscapesControlCharactersAsJSONRequires() {
        #expect(JSON.string("a\"b\\c\nd\u{01}").encoded() == #""a\"b\\c\nd\u0001""#)
    }

    @Test func jsonIntegersAtTheEdges() {
        #expect(JSON.array([.int(0), .int(7), .int(-1), .int(Int64.max), .int(Int64.min)]).encoded()
            == "[0,7,-1,9223372036854775807,-9223372036854775808]")
    }

    @Test func prettyJSONIndentsByTwo() {
        let value = JSON.object([("a", .array([.int(1), .null])), ("b", .object([])), ("c", .bool(true))])
        #expect(value.encoded(pretty: true) == "{\n  \"a\": [\n    1,\n    null\n  ],\n  \"b\": {},\n  \"c\": true\n}")
        #expect(value.bytes(newline: true) == Array(#"{"a":[1,null],"b":{},"c":true}"#.utf8) + [10])
    }

    @Test func writerStreamsWhatTheTreeWouldEncode() {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.key("rows")
        writer.beginArray()
        writer.int(1)
        writer.beginObject()
        writer.key("t"); writer.timestamp(0)
        writer.key("d"); writer.double(.nan)
        writer.endObject()
        writer.beginArray()
        writer.endArray()
        writer.endArray()
        writer.key("s"); writer.string(nil)
        writer.endObject()
        let tree = JSON.object([
            ("rows", .array([.int(1), .object([("t", .string("1970-01-01T00:00:00.000Z")), ("d", .null)]), .array([])])),
            ("s", .null),
        ])
        #expect(String(decoding: writer.bytes, as: UTF8.self) == tree.encoded(pretty: true))
    }

    @Test func taskRecordLineHoldsEveryField() throws {
        var record = TaskRecord(number: 2, config: nil, command: "echo \"hi\"", status: .failed)
        record.device = "gpu1"
        record.slot = 0
        record.startWall = 0
        record.duration = 1.23456
        record.exit = TaskExit(exitCode: 3)
        let line = record.jsonLine()
        #expect(line.last == 10)
        #expect(String(decoding: line, as: UTF8.self) == #"{"task":2,"config":null,"command":"echo \"hi\"","device":"gpu1","slot":0,"pid":null,"#
            + #""start":"1970-01-01T00:00:00.000Z","end":null,"duration_s":1.235,"exit_code":3,"signal":null,"status":"failed","log":null,"error":null}"#
            + "\n")
    }

    @Test func timestampsAreISO8601UTCWithMilliseconds() {
        #expect(Clock.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(Clock.iso8601(1_790_000_000_123_456_789) == "2026-09-21T14:13:20.123Z")
        #expect(Clock.iso8601(946_684_799_999_000_000) == "1999-12-31T23:59:59.999Z")
    }

    /// The day arithmetic against the C library's calendar, 1900 to 2255 (leap days,
    /// century years, instants before 1970).
    @Test func timestampsAgreeWithGmtime() {
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        var mismatches: [String] = []
        for seconds in stride(from: Int64(-2_208_988_800), through: 9_000_000_000, by: 259_201) {
            let nanoseconds = seconds * 1_000_000_000 + 987_000_000
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let expected = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
                + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).987Z"
            if Clock.iso8601(nanoseconds) != expected { mismatches.append("\(seconds): \(Clock.iso8601(nanoseconds)) != \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(Clock.iso8601(-1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func runIDsAreUTCAndSortByTime() {
        #expect(Clock.runID(1_790_000_000_123_456_789, pid: 18719) == "20260921T141320Z-18719")
        #expect(Clock.runID(1_796_058_026_000_000_000, pid: 7) == "20261130T170026Z-7")
        #expect(Clock.runID(0, pid: 1) == "19700101T000000Z-1")
        // Instants in order give ids in order: seconds, days, months, a year's end.
        let instants: [Int64] = [1_798_761_599, 1_798_761_600, 1_798_761_601, 1_798_765_200, 1_798_848_000, 1_801_440_000, 1_830_297_600]
        let ids = instants.map { Clock.runID($0 * 1_000_000_000, pid: 123) }
        #expect(ids == ids.sorted(), "\(ids)")
        #expect(ids[0] == "20261231T235959Z-123" && ids[1] == "20270101T000000Z-123")
        // Agrees with gmtime_r wherever it falls (no time zone is consulted).
        var time = time_t(1_801_234_567)
        var parts = tm()
        gmtime_r(&time, &parts)
        let two = { (v: Int32) in v < 10 ? "0\(v)" : "\(v)" }
        #expect(Clock.runID(1_801_234_567_000_000_000, pid: 5)
            == "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z-5")
        // An old local-time folder of the same day sorts first ('-' < 'T').
        #expect("20261130-170026-18719" < Clock.runID(1_796_040_000_000_000_000, pid: 1))
    }

    @Test func decimalTextPadsToWidth() {
        var out: [UInt8] = []
        DecimalText.append(7, width: 3, to: &out)
        DecimalText.append(1234, width: 2, to: &out)
        DecimalText.append(0, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "00712340")
    }

    @Test func csvQuotesOnlyFieldsThatNeedIt() {
        var record = TaskRecord(number: 3, config: "configs/a,b.yaml", command: #"echo "hi""#, status: .failed)
        record.error = "line1\nline2"
        let line = String(decoding: record.csvLine(), as: UTF8.self)
        #expect(line == #"3,"configs/a,b.yaml","echo ""hi""",,,,,,,,,failed,,"line1"# + "\nline2\"\n")
    }

    @Test func splittingKeepsNonASCIIWordsWhole() throws {
        #expect(try CommandLineWords.split("run 'été 東京' x\\ 🚀 \"a\\$b\\q\"") == ["run", "été 東京", "x 🚀", "a$b\\q"])
        #expect(!CommandLineWords.needsShell("python été.py -c 東京.yaml"))
        #expect(CommandLineWords.needsShell("FOO=1 python x.py"))
        #expect(!CommandLineWords.needsShell("python x.py --lr=1"))
    }

    @Test func displayQuotesWordsWithShellSyntax() {
        #expect(displayCommand(["runone", "-c", "configs/été.yaml", "a b", "it's", ""]) == #"runone -c configs/été.yaml 'a b' 'it'\''s' ''"#)
    }
}
