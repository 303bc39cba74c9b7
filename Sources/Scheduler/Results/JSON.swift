/// A JSON value we write: strict JSON only (non-finite numbers become null), keys in the
/// order given so files diff well.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool { lhs.encoded() == rhs.encoded() }

    public static func optional(_ value: Int32?) -> JSON { value.map { .int(Int64($0)) } ?? .null }
    public static func optional(_ value: String?) -> JSON { value.map { .string($0) } ?? .null }
    public static func optional(_ value: Int?) -> JSON { value.map { .int(Int64($0)) } ?? .null }

    /// Compact, one line (for JSONL), or indented by two spaces.
    public func encoded(pretty: Bool = false) -> String {
        String(decoding: bytes(pretty: pretty), as: UTF8.self)
    }

    /// The encoding as UTF-8 bytes, ready for write(2); `newline` ends it with "\n".
    public func bytes(pretty: Bool = false, newline: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.value(self)
        if newline { writer.bytes.append(UInt8(ascii: "\n")) }
        return writer.bytes
    }

    /// Shortest text that reads back as the same Double, always with a '.' or exponent.
    static func number(_ value: Double) -> String {
        let text = "\(value)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    static func quote(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (paths, commands, timestamps) need no escaping: copy them whole,
        // scanning the contiguous bytes (a UTF8View walk costs tens of instructions a byte).
        var string = string
        let plain = string.withUTF8 { bytes in
            !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
        if plain {
            out.appendUTF8(string)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\"".utf8
            case UInt8(ascii: "\\"): out += "\\\\".utf8
            case UInt8(ascii: "\n"): out += "\\n".utf8
            case UInt8(ascii: "\r"): out += "\\r".utf8
            case UInt8(ascii: "\t"): out += "\\t".utf8
            case ..<0x20:
                // Other control characters as \u00XX; every byte >= 0x20 is copied as is
                // (multi-byte UTF-8 sequences are never below 0x80).
                let hex = Array("0123456789abcdef".utf8)
                out += "\\u00".utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Writes JSON straight into bytes, value by value: records written once per task go out
/// without building a `JSON` tree first (which cost more than the writing). Compact, or
/// indented by two spaces with `"key": value`; an empty array or object stays `[]`, `{}`.
struct JSONWriter {
    var bytes: [UInt8] = []
    let pretty: Bool
    /// How many arrays and objects are open, and, one bit per level (the innermost at bit
    /// depth - 1), whether each has a member yet. Plain integers: this state is touched
    /// for every key and value, and an array of flags cost more than the bytes written.
    private var depth = 0
    private var hasMembers: UInt64 = 0
    /// The same for levels below the 64th (config values nest up to 256 levels); empty,
    /// so never allocated, for everything multirun itself writes.
    private var deeperHasMembers: [Bool] = []
    /// A key was just written: its value follows without a separator.
    private var afterKey = false
    /// Non-finite numbers as Python's `str()` writes them (`inf`, `-inf`, `nan`) instead of
    /// JSON's null: for lists and mappings filled into a command line, not for files.
    var writesNonFiniteAsPython = false

    init(pretty: Bool = false) {
        self.pretty = pretty
        bytes.reserveCapacity(256)
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    /// The next member's key, in an object.
    mutating func key(text name: String) {
        separate()
        JSON.quote(name, into: &bytes)
        endKey()
    }

    /// A key written in our code, which needs no escaping: copied, not scanned.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        endKey()
    }

    private mutating func endKey() {
        bytes.append(UInt8(ascii: ":"))
        if pretty { bytes.append(UInt8(ascii: " ")) }
        afterKey = true
    }

    mutating func string(_ value: String?) {
        elementStart()
        if let value { JSON.quote(value, into: &bytes) } else { bytes += "null".utf8 }
    }

    mutating func int(_ value: Int64?) {
        elementStart()
        if let value { DecimalText.append(value, to: &bytes) } else { bytes += "null".utf8 }
    }

    mutating func double(_ value: Double?) {
        elementStart()
        if let value, value.isFinite {
            bytes.appendUTF8(JSON.number(value))
        } else if let value, writesNonFiniteAsPython {
            bytes += (value.isNaN ? "nan" : value < 0 ? "-inf" : "inf").utf8
        } else {
            bytes += "null".utf8
        }
    }

    /// An ISO 8601 UTC timestamp (`Clock.iso8601`), as a string.
    mutating func timestamp(_ nanoseconds: Int64?) {
        elementStart()
        guard let nanoseconds else { bytes += "null".utf8; return }
        bytes.append(UInt8(ascii: "\""))
        Clock.appendISO8601(nanoseconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func value(_ json: JSON) {
        switch json {
        case .null: string(nil)
        case .bool(let value): elementStart(); bytes += (value ? "true" : "false").utf8
        case .int(let value): int(value)
        case .double(let value): double(value)
        case .string(let value): string(value)
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members {
                key(text: name)
                value(member)
            }
            endObject()
        }
    }

    private mutating func open(_ bracket: UInt8) {
        elementStart()
        bytes.append(bracket)
        depth += 1
        setHasMembers(false)
    }

    private mutating func close(_ bracket: UInt8) {
        let had = levelHasMembers
        if depth > 64 { deeperHasMembers.removeLast() }
        depth -= 1
        if had && pretty { newline() }
        bytes.append(bracket)
    }

    /// Whether the innermost open array or object has a member yet.
    private var levelHasMembers: Bool {
        depth <= 64 ? hasMembers & (1 << UInt64(depth - 1)) != 0 : deeperHasMembers[depth - 65]
    }

    /// Sets `levelHasMembers`; just after `open` (false), it pushes the level.
    private mutating func setHasMembers(_ value: Bool) {
        if depth <= 64 {
            let bit: UInt64 = 1 << UInt64(depth - 1)
            hasMembers = value ? hasMembers | bit : hasMembers & ~bit
        } else if deeperHasMembers.count < depth - 64 {
            deeperHasMembers.append(value)
        } else {
            deeperHasMembers[depth - 65] = value
        }
    }

    /// Before a key, or before a value in an array: comma and indentation.
    private mutating func separate() {
        guard depth > 0 else { return }
        if levelHasMembers { bytes.append(UInt8(ascii: ",")) }
        setHasMembers(true)
        if pretty { newline() }
    }

    /// A value after a key needs nothing more; one in an array is an element of its own.
    private mutating func elementStart() {
        if afterKey { afterKey = false; return }
        separate()
    }

    private mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }
}
