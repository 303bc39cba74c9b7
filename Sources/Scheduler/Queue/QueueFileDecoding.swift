/// Reading the queue folder's own files (journal lines, exit records, `next-id`) from bytes
/// that anyone may have damaged: every reader here throws on bad input and never traps,
/// and every integer is range-checked where it is decoded, so the arithmetic done on it
/// later (`now - t`, `attempt + 1`, `id + count`, `Int32(...)`, `-pid`) cannot overflow.

/// The ranges a queue file's integers must lie in. A value outside is damage.
public enum QueueLimits {
    /// A pid: 0 in a `started` event means "not known yet" (the event precedes the spawn).
    public static let pid: ClosedRange<Int64> = 0...Int64(Int32.max)
    /// A signal number (Linux has 1 to 64).
    public static let signal: ClosedRange<Int64> = 1...64
    /// An exit status as wait(2) reports it.
    public static let exitCode: ClosedRange<Int64> = 0...255
    /// Attempt numbers start at 1; the next attempt (`attempt + 1`) fits in 32 bits too.
    public static let attempt: ClosedRange<Int64> = 1...Int64(Int32.max - 1)
    /// A slot number of the scheduler's pool.
    public static let slot: ClosedRange<Int64> = 0...Int64(Int32.max)
    /// Times are nanoseconds since 1970 (UTC), before 2200-01-01: any difference of two
    /// of them, or of one and the clock, fits in an Int64.
    public static let time: ClosedRange<Int64> = 0...7_258_118_400_000_000_000
    /// Numeric task ids are 1 or more and below 10^15 (at most 15 digits), so `next-id`
    /// plus any submit's task count cannot overflow.
    public static let taskIDLimit = 1_000_000_000_000_000
    /// Resources of a submitted task.
    public static let gpus: ClosedRange<Int64> = 1...Int64(Int32.max)
    public static let mpiProcesses: ClosedRange<Int64> = 1...Int64(Int32.max)
    public static let gpuMemoryMiB: ClosedRange<Int64> = 0...Int64(Int32.max)
    /// A task's own time limit (`resources: {time:}`), in ms: 1 ms to 1e9 s.
    public static let timeLimitMilliseconds: ClosedRange<Int64> = 1...1_000_000_000_000
    /// `submit --retries`.
    public static let retries: ClosedRange<Int64> = 0...1000
    /// A task's priority: any 64-bit integer, as a config's `priority:` may be.
    public static let priority: ClosedRange<Int64> = Int64.min...Int64.max
    /// Task ids: letters, digits, '-' and '_' (they name files of the queue folder).
    public static let idLength = 64

    /// Whether `id` is a task id this queue could have handed out: numeric (1, 2, …) below
    /// `taskIDLimit`, or the older `t` + 8 hex digits; either way it is safe in a file name.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= idLength else { return false }
        guard bytes.allSatisfy({ isDigit($0) || isLetter($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else { return false }
        if bytes.allSatisfy(isDigit) { return numericID(id) != nil }
        return true
    }

    /// The value of a numeric task id, nil for any other id or one out of range.
    public static func numericID(_ id: String) -> Int? {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= 15, bytes.allSatisfy(isDigit) else { return nil }
        var value = 0
        for byte in bytes { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        return value >= 1 && value < taskIDLimit ? value : nil
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}

/// What is wrong with the content of one queue file (or one journal line), without saying
/// where: `QueueFileError` adds the file and line.
public struct QueueDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}

/// A damaged queue file: which file, which line, what is wrong, and the repair step, as
/// the one line that `status`, `cancel`, `wait` and `daemon` print before they stop.
public struct QueueFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable { case journal, exitRecord, nextID }
    public let kind: Kind
    public let path: String
    /// 1-based line of the journal; nil for the other files.
    public let line: Int?
    public let problem: String

    public init(_ kind: Kind, path: String, line: Int? = nil, problem: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.problem = problem
    }

    public var description: String {
        let file = QueueText.shown(path, limit: 4096)
        switch kind {
        case .journal:
            let line = line ?? 0
            return "queue journal \(file):\(line): \(problem); the queue file is damaged: move it aside or delete line \(line), then start again (see README 'Repairing a queue')"
        case .exitRecord:
            return "exit record \(file): \(problem); the queue file is damaged: delete it and the attempt counts as interrupted and runs again (see README 'Repairing a queue')"
        case .nextID:
            return "next-id file \(file): \(problem); the queue file is damaged: delete it and the next submit takes the next id from the journal (see README 'Repairing a queue')"
        }
    }
}

/// Text from a file, shown in a one-line message.
enum QueueText {
    /// `text` with control bytes escaped and cut to `limit` characters.
    static func shown(_ text: String, limit: Int = 40) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { out += "…"; break }
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case ..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    /// A byte as a message names it: 'x', or byte 0x00.
    static func describe(_ byte: UInt8?) -> String {
        guard let byte else { return "the end of the line" }
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16)
        return "byte 0x" + (hex.count < 2 ? "0" : "") + hex
    }
}

/// One value of a flat JSON object as the queue files hold them.
enum FlatValue: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// A number that is not an integer, or an integer beyond Int64: its text.
    case number(String)
    case string(String)
    /// A list whose items are all strings.
    case strings([String])
    /// A value read past without building it (a skipped field, a nested list or object).
    case other(String)

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .number: return "a number"
        case .string, .other("a string"): return "a string"
        case .strings: return "a list"
        case .other(let name): return name
        }
    }
}

/// A strict reader of one JSON object whose values are scalars or lists (RFC 8259, UTF-8):
/// iterative, so no nesting depth can exhaust the stack; every index is checked.
struct FlatJSON {
    private let bytes: ArraySlice<UInt8>
    private var pos: Int
    static let maxDepth = 64

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        pos = bytes.startIndex
    }

    /// Calls `body` for each field in order; `wanted` says which values to build (the
    /// others are checked and stepped over). Duplicate keys are an error.
    static func fields(_ bytes: ArraySlice<UInt8>, wanted: (String) -> Bool = { _ in true },
                       _ body: (String, FlatValue) throws(QueueDecodeError) -> Void) throws(QueueDecodeError) {
        var reader = FlatJSON(bytes)
        var seen: [String] = []
        reader.space()
        guard reader.current == UInt8(ascii: "{") else { throw reader.fail("expected '{'") }
        reader.pos += 1
        reader.space()
        if reader.current == UInt8(ascii: "}") {
            reader.pos += 1
        } else {
            while true {
                reader.space()
                guard reader.current == UInt8(ascii: "\"") else { throw reader.fail("expected a field name") }
                let key = try reader.string(build: true) ?? ""
                if seen.contains(key) { throw QueueDecodeError("field '\(QueueText.shown(key))' appears twice") }
                seen.append(key)
                reader.space()
                guard reader.current == UInt8(ascii: ":") else { throw reader.fail("expected ':'") }
                reader.pos += 1
                reader.space()
                let value = try reader.value(build: wanted(key))
                try body(key, value)
                reader.space()
                if reader.current == UInt8(ascii: ",") { reader.pos += 1; continue }
                guard reader.current == UInt8(ascii: "}") else { throw reader.fail("expected ',' or '}'") }
                reader.pos += 1
                break
            }
        }
        reader.space()
        guard reader.atEnd else { throw reader.fail("unexpected text after the object") }
    }

    /// Whether `bytes` is one well-formed JSON value (strict, UTF-8, nested at most
    /// `maxDepth` levels): what may be handed to a general JSON reader safely.
    static func isWellFormed(_ bytes: ArraySlice<UInt8>) -> Bool {
        var reader = FlatJSON(bytes)
        do { try reader.skipValue() } catch { return false }
        reader.space()
        return reader.atEnd
    }

    private var atEnd: Bool { pos >= bytes.endIndex }
    private var current: UInt8? { pos >= bytes.startIndex && pos < bytes.endIndex ? bytes[pos] : nil }

    private func fail(_ what: String) -> QueueDecodeError {
        let column = pos - bytes.startIndex + 1
        return QueueDecodeError("not valid JSON: \(what), found \(QueueText.describe(current)) at column \(column)")
    }

    private mutating func space() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { pos += 1 }
    }

    private mutating func value(build: Bool) throws(QueueDecodeError) -> FlatValue {
        switch current {
        case UInt8(ascii: "\"")?:
            let text = try string(build: build)
            return text.map(FlatValue.string) ?? .other("a string")
        case UInt8(ascii: "[")?:
            return try list(build: build)
        case UInt8(ascii: "{")?:
            try skipValue()
            return .other("an object")
        default:
            return try scalar()
        }
    }

    /// true, false, null or a number.
    private mutating func scalar() throws(QueueDecodeError) -> FlatValue {
        for (word, value) in [("true", FlatValue.bool(true)), ("false", .bool(false)), ("null", .null)] where current == word.utf8.first {
            for byte in word.utf8 {
                guard current == byte else { throw fail("expected \(word)") }
                pos += 1
            }
            return value
        }
        return try number()
    }

    private mutating func number() throws(QueueDecodeError) -> FlatValue {
        let start = pos
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard let first = current, QueueLimits.isDigit(first) else { throw fail("expected a value") }
        var magnitude: UInt64 = 0
        var overflow = false
        func digit(_ byte: UInt8) {
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if o1 || o2 { overflow = true }
            magnitude = sum
        }
        if first == UInt8(ascii: "0") {
            pos += 1
        } else {
            while let c = current, QueueLimits.isDigit(c) { digit(c); pos += 1 }
        }
        var integral = true
        if current == UInt8(ascii: ".") {
            integral = false
            pos += 1
            guard let c = current, QueueLimits.isDigit(c) else { throw fail("expected a digit after '.'") }
            while let c = current, QueueLimits.isDigit(c) { pos += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard let c = current, QueueLimits.isDigit(c) else { throw fail("expected a digit in the exponent") }
            while let c = current, QueueLimits.isDigit(c) { pos += 1 }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard integral, !overflow else { return .number(text) }
        if negative {
            if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            return .number(text)
        }
        return magnitude <= UInt64(Int64.max) ? .int(Int64(magnitude)) : .number(text)
    }

    /// A list: its strings when every item is one (and `build`), else stepped over.
    private mutating func list(build: Bool) throws(QueueDecodeError) -> FlatValue {
        pos += 1
        var items: [String] = []
        var onlyStrings = true
        space()
        if current == UInt8(ascii: "]") {
            pos += 1
            return .strings([])
        }
        while true {
            space()
            if current == UInt8(ascii: "\"") {
                if let text = try string(build: build) { items.append(text) }
            } else {
                onlyStrings = false
                try skipValue()
            }
            space()
            if current == UInt8(ascii: ",") { pos += 1; continue }
            guard current == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            pos += 1
            break
        }
        if !onlyStrings { return .other("a list of other things than strings") }
        return build ? .strings(items) : .other("a list")
    }

    /// Steps over any JSON value, checking its syntax, with an explicit stack of the
    /// brackets open (at most `maxDepth`).
    private mutating func skipValue() throws(QueueDecodeError) {
        var closers: [UInt8] = []
        var expectValue = true
        while true {
            space()
            if expectValue {
                switch current {
                case UInt8(ascii: "{")?, UInt8(ascii: "[")?:
                    let object = current == UInt8(ascii: "{")
                    guard closers.count < Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) levels") }
                    pos += 1
                    space()
                    if current == (object ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        pos += 1
                        expectValue = false
                    } else {
                        closers.append(object ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                        if object { try memberName() }
                        continue
                    }
                case UInt8(ascii: "\"")?:
                    _ = try string(build: false)
                    expectValue = false
                default:
                    _ = try scalar()
                    expectValue = false
                }
                if closers.isEmpty { return }
            } else {
                guard let closer = closers.last else { return }
                if current == UInt8(ascii: ",") {
                    pos += 1
                    if closer == UInt8(ascii: "}") { try memberName() }
                    expectValue = true
                } else if current == closer {
                    pos += 1
                    closers.removeLast()
                    if closers.isEmpty { return }
                } else {
                    throw fail("expected ',' or '\(Character(Unicode.Scalar(closer)))'")
                }
            }
        }
    }

    /// `"name":` inside a skipped object.
    private mutating func memberName() throws(QueueDecodeError) {
        space()
        guard current == UInt8(ascii: "\"") else { throw fail("expected a field name") }
        _ = try string(build: false)
        space()
        guard current == UInt8(ascii: ":") else { throw fail("expected ':'") }
        pos += 1
    }

    /// A string (at its opening quote): escapes decoded, UTF-8 checked, control bytes refused.
    private mutating func string(build: Bool) throws(QueueDecodeError) -> String? {
        pos += 1
        var out: [UInt8] = []
        var runStart = pos
        while true {
            guard let c = current else { throw fail("unclosed string") }
            if c == UInt8(ascii: "\"") {
                if build { out += bytes[runStart..<pos] }
                pos += 1
                return build ? String(decoding: out, as: UTF8.self) : nil
            }
            if c < 0x20 { throw fail("control character in a string") }
            if c < 0x80 && c != UInt8(ascii: "\\") { pos += 1; continue }
            if c >= 0x80 { try utf8Sequence(); continue }
            if build { out += bytes[runStart..<pos] }
            pos += 1
            guard let e = current else { throw fail("unclosed string") }
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), current == UInt8(ascii: "\\"), pos + 1 < bytes.endIndex, bytes[pos + 1] == UInt8(ascii: "u") {
                    let save = pos
                    pos += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        pos = save
                    }
                }
                // A lone surrogate is not a character: U+FFFD, as String(decoding:) does.
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                if build { out += Array(String(Character(scalar)).utf8) }
            default:
                pos -= 1
                throw fail("unknown escape")
            }
            runStart = pos
        }
    }

    private mutating func hex4() throws(QueueDecodeError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current else { throw fail("expected 4 hex digits") }
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("expected 4 hex digits")
            }
            code = code << 4 | digit
            pos += 1
        }
        return code
    }

    /// One multi-byte UTF-8 character (at its lead byte), checked as Unicode defines it:
    /// no overlong forms, no surrogates, nothing past U+10FFFF.
    private mutating func utf8Sequence() throws(QueueDecodeError) {
        guard current != nil else { throw fail("unclosed string") }
        guard let (_, length) = ConfigEncoding.decodeUTF8(bytes, at: pos) else { throw fail("invalid UTF-8") }
        pos += length
    }
}

/// Typed access to the fields of one object, each checked against its range.
struct FlatFields {
    var values: [String: FlatValue] = [:]

    func string(_ name: String) throws(QueueDecodeError) -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .other("a string")?: return ""  // stepped over, not built
        case let other?: throw QueueDecodeError("field '\(name)' must be a string, found \(other.typeName)")
        }
    }

    func bool(_ name: String) throws(QueueDecodeError) -> Bool? {
        switch values[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw QueueDecodeError("field '\(name)' must be true or false, found \(other.typeName)")
        }
    }

    func strings(_ name: String) throws(QueueDecodeError) -> [String]? {
        switch values[name] {
        case nil, .null?: return nil
        case .strings(let items)?: return items
        case .other("a list")?: return []  // stepped over, not built
        case let other?: throw QueueDecodeError("field '\(name)' must be a list of strings, found \(other.typeName)")
        }
    }

    /// An integer within `range`; nil when absent or null.
    func int(_ name: String, _ range: ClosedRange<Int64>) throws(QueueDecodeError) -> Int64? {
        switch values[name] {
        case nil, .null?: return nil
        case .int(let value)?:
            guard range.contains(value) else { throw QueueDecodeError("field '\(name)' out of range (\(value))") }
            return value
        case .number(let text)?:
            let integral = !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            throw QueueDecodeError(integral ? "field '\(name)' out of range (\(QueueText.shown(text)))"
                                            : "field '\(name)' must be a whole number, found \(QueueText.shown(text))")
        case let other?: throw QueueDecodeError("field '\(name)' must be a whole number, found \(other.typeName)")
        }
    }
}
