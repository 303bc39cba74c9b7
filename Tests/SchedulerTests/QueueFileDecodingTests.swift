import Foundation
import Testing
@testable import Scheduler

/// The queue files' readers (issue 14, item 3): every integer range-checked, every
/// damage a thrown message, no input a trap.
struct QueueFileDecodingTests {
    func decode(_ line: String, light: Bool = false) -> Result<QueueEvent, QueueDecodeError> {
        Result { () throws(QueueDecodeError) in try QueueEvent.decode(line: Array(line.utf8)[...], light: light) }
    }

    func problem(_ line: String) -> String? {
        if case .failure(let error) = decode(line) { return error.problem }
        return nil
    }

    let started = #"{"e":"started","id":"1","attempt":1,"device":"cpu","slot":0,"pid":0,"t":5}"#

    @Test func theMinimisedInputsAreRefusedWithTheirField() {
        #expect(problem(started.replacingOccurrences(of: #""pid":0"#, with: #""pid":4294967296"#)) == "field 'pid' out of range (4294967296)")
        #expect(problem(started.replacingOccurrences(of: #""attempt":1"#, with: #""attempt":9223372036854775807"#))
                == "field 'attempt' out of range (9223372036854775807)")
        #expect(problem(started.replacingOccurrences(of: #""t":5"#, with: #""t":-9223372036854775808"#)) == "field 't' out of range (-9223372036854775808)")
        #expect(problem(started.replacingOccurrences(of: #""t":5"#, with: #""t":9223372036854775808"#)) == "field 't' out of range (9223372036854775808)")
        let ended = #"{"e":"ended","id":"1","attempt":1,"exit_code":null,"signal":2147483648,"status":"failed","t":5}"#
        #expect(problem(ended) == "field 'signal' out of range (2147483648)")
        #expect(problem(ended.replacingOccurrences(of: #""exit_code":null,"signal":2147483648"#, with: #""exit_code":2147483648,"signal":null"#))
                == "field 'exit_code' out of range (2147483648)")
        #expect(problem(started.replacingOccurrences(of: #""slot":0"#, with: #""slot":-1"#)) == "field 'slot' out of range (-1)")
        #expect(problem(started.replacingOccurrences(of: #""pid":0"#, with: #""pid":1.5"#)) == "field 'pid' must be a whole number, found 1.5")
        #expect(problem(started.replacingOccurrences(of: #""pid":0"#, with: #""pid":1e308"#)) == "field 'pid' must be a whole number, found 1e308")
        #expect(problem(started.replacingOccurrences(of: #""pid":0"#, with: #""pid":"7""#)) == "field 'pid' must be a whole number, found a string")
        #expect(problem(started.replacingOccurrences(of: #""id":"1""#, with: #""id":"../../etc""#)) == "field 'id' is not a task id ('../../etc')")
        #expect(problem(started.replacingOccurrences(of: #""id":"1""#, with: #""id":"9223372036854775807""#))
                == "field 'id' is not a task id ('9223372036854775807')")
        #expect(problem(#"{"e":"later","t":1}"#) == "unknown event 'later'")
        #expect(problem(#"{"e":"drain","t":1,"t":2}"#) == "field 't' appears twice")
    }

    @Test func validLinesStillDecode() throws {
        #expect(try decode(started).get() == .started(id: "1", attempt: 1, device: "cpu", slot: 0, pid: 0, time: 5))
        #expect(try decode(#"{"e":"ended","id":"t0a1b2c3d","attempt":2,"exit_code":null,"signal":9,"status":"failed","t":0,"future":{"x":[1,{"y":null}]}}"#).get()
                == .ended(id: "t0a1b2c3d", attempt: 2, exitCode: nil, signal: 9, status: .failed, time: 0))
        // Escapes and characters beyond U+FFFF survive, as JSON writes them.
        var task = QueueTask(id: "3", key: "k", label: "é \"q\" \u{1F600}\n", command: "c", argv: ["a\u{0001}b", "\u{1F600}"], cwd: "/",
                             config: nil, output: nil, submitted: 7)
        task.resources.gpus = 2
        let line = QueueEvent.submitted(task).json.encoded()
        #expect(try decode(line).get() == .submitted(task))
        #expect(try decode(#"{"e":"submitted","id":"3","key":"k","label":"\ud83d\ude00","argv":["x"],"t":1}"#).get()
                == .submitted(QueueTask(id: "3", key: "k", label: "\u{1F600}", command: "\u{1F600}", argv: ["x"], cwd: "", config: nil, output: nil, submitted: 1)))
        guard case .submitted(let light)? = try? decode(line, light: true).get() else { Issue.record("no event"); return }
        #expect(light.label == task.label && light.argv.isEmpty)
    }

    @Test func brokenBytesAreRefusedNotTrapped() {
        let cases: [(String, [UInt8])] = [
            ("NUL", Array(#"{"e":"drain","t":1}"#.utf8) + [0]),
            ("NUL in string", Array(#"{"e":"dr"#.utf8) + [0] + Array(#"ain","t":1}"#.utf8)),
            ("invalid UTF-8", Array(#"{"e":"drain","x":""#.utf8) + [0xC0, 0xAF] + Array(#"","t":1}"#.utf8)),
            ("surrogate in UTF-8", Array(#"{"e":"drain","x":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"","t":1}"#.utf8)),
            ("deep", Array(#"{"e":"drain","x":"#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 100_000)),
            ("deep argv", Array(#"{"e":"submitted","id":"1","key":"k","argv":"#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
                + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000) + Array("}".utf8)),
            ("empty", []), ("garbage", [0xFF, 0xFE, 0x00, 0x7B]), ("open", Array("{".utf8)), ("bad escape", Array(#"{"e":"\q"}"#.utf8)),
            ("short unicode", Array(#"{"e":"\u12"}"#.utf8)), ("trailing", Array(#"{"e":"drain"} x"#.utf8)),
            ("not an object", Array("[1]".utf8)), ("bare word", Array(#"{"e":drain}"#.utf8)), ("minus", Array(#"{"t":-}"#.utf8)),
        ]
        for (name, bytes) in cases {
            #expect(throws: QueueDecodeError.self, "\(name)") { try QueueEvent.decode(line: bytes[...]) }
        }
        #expect(problem("{\"e\":\"started\",\"id\":\"1\",") == "not valid JSON: expected a field name, found the end of the line at column 25")
    }

    /// A seeded generator over valid lines: mutated bytes, numbers swapped for extremes,
    /// cut lines. Nothing may trap; whatever decodes is within the limits.
    @Test func mutatedLinesNeverTrap() {
        var seeded = SeededRandom(seed: 14)
        let lines = [started, #"{"e":"ended","id":"12","attempt":3,"exit_code":255,"signal":null,"status":"failed","t":1796339428038298333}"#,
                     QueueEvent.submitted(QueueTask(id: "9", key: "k", label: "l", command: "c", argv: ["/bin/true", "x"], cwd: "/w",
                                                    config: "c.yaml", output: "o", submitted: 3)).json.encoded()]
        let extremes = ["4294967296", "-1", "9223372036854775807", "-9223372036854775808", "1e999", "0.5", "-0", "null", "\"x\"", "[]", "{}", "true"]
        for _ in 0..<20_000 {
            var bytes = Array(lines[Int(seeded.next() % UInt64(lines.count))].utf8)
            switch seeded.next() % 4 {
            case 0:
                for _ in 0..<(1 + seeded.next() % 4) where !bytes.isEmpty { bytes[Int(seeded.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: seeded.next()) }
            case 1:
                bytes = Array(bytes.prefix(Int(seeded.next() % UInt64(bytes.count + 1))))
            case 2:
                let text = String(decoding: bytes, as: UTF8.self)
                let replaced = text.replacing(#/:-?[0-9]+/#) { _ in ":" + extremes[Int(seeded.next() % UInt64(extremes.count))] }
                bytes = Array(replaced.utf8)
            default:
                bytes = (0..<(seeded.next() % 64)).map { _ in UInt8(truncatingIfNeeded: seeded.next()) }
            }
            if let event = try? QueueEvent.decode(line: bytes[...]) {
                switch event {
                case .started(let id, let attempt, _, let slot, let pid, let time):
                    #expect(QueueLimits.isValidID(id) && attempt >= 1 && slot >= 0 && pid >= 0 && QueueLimits.time.contains(time))
                case .ended(_, _, let code, let signal, _, let time):
                    #expect((code.map { (0...255).contains($0) } ?? true) && (signal.map { (1...64).contains($0) } ?? true) && time >= 0)
                default: break
                }
            }
        }
    }

    @Test func exitRecords() throws {
        func record(_ text: String) throws(QueueDecodeError) -> Supervisor.ExitRecord { try Supervisor.decodeRecord(bytes: Array(text.utf8)[...]) }
        let good = try record(#"{"exit_code":3,"signal":null,"start":1,"end":2,"error":"gone"}"# + "\n")
        #expect(good.exit == TaskExit(exitCode: 3) && good.start == 1 && good.end == 2 && good.error == "gone")
        for (text, problem) in [
            (#"{"exit_code":2147483648,"signal":null,"start":1,"end":2}"#, "field 'exit_code' out of range (2147483648)"),
            (#"{"exit_code":null,"signal":2147483648,"start":1,"end":2}"#, "field 'signal' out of range (2147483648)"),
            (#"{"exit_code":0,"start":-9223372036854775808,"end":2}"#, "field 'start' out of range (-9223372036854775808)"),
            (#"{"exit_code":0,"end":1e300}"#, "field 'end' must be a whole number, found 1e300"),
        ] {
            #expect(throws: QueueDecodeError(problem)) { try record(text) }
        }
        #expect(throws: QueueDecodeError.self) { try record("\0") }
    }

    @Test func nextID() throws {
        #expect(try TaskIDs.parseNextID(bytes: Array("42\n".utf8)[...]) == 42)
        #expect(try TaskIDs.parseNextID(bytes: Array("999999999999999".utf8)[...]) == 999_999_999_999_999)
        for (text, problem) in [
            ("9223372036854775807\n", "out of range (9223372036854775807); ids are 1 to 999999999999999"),
            ("1000000000000000", "out of range (1000000000000000); ids are 1 to 999999999999999"),
            ("0\n", "out of range (0); ids are 1 to 999999999999999"), ("", "empty"), ("\n", "empty"),
            ("-1\n", "not a decimal number ('-1')"), ("4\n\n", "not a decimal number ('4\\n')"), ("1\0", "not a decimal number ('1\\u{0}')"),
        ] {
            #expect(throws: QueueDecodeError(problem), "\(text)") { try TaskIDs.parseNextID(bytes: Array(text.utf8)[...]) }
        }
    }

    /// The journal reader: a torn last line waits; a damaged complete line throws, naming
    /// the journal and its line, and is met again by the next read.
    @Test func journalNamesTheDamagedLine() throws {
        let folder = QueueFolder(path: NSTemporaryDirectory() + "damage-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try folder.prepare()
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let drain = #"{"e":"drain","t":1}"#
        try (drain + "\n\n" + drain + "\n" + #"{"e":"dr"#).write(toFile: folder.journal, atomically: true, encoding: .utf8)
        let journal = Journal(folder: folder)
        #expect(try journal.readAll() == [.drain(time: 1), .drain(time: 1)])
        try (drain + "\n" + #"{"e":"drain","t":1.5}"# + "\n" + drain + "\n").write(toFile: folder.journal, atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            do {
                _ = try journal.readNew()
                Issue.record("no error")
            } catch {
                #expect(error.damage == QueueFileError(.journal, path: folder.journal, line: 2, problem: "field 't' must be a whole number, found 1.5"))
            }
        }
    }
}

