/// Reads configs: YAML 1.1 as PyYAML's `safe_load` reads it (`YAMLReader`: anchors,
/// aliases, merge keys, block scalars, standard tags, multi-line scalars), and JSON
/// (RFC 8259, `JSONReader`). A config that cannot be read is a `ConfigError` naming
/// `file:line:col`.
///
/// Input is decoded first (`ConfigEncoding`: byte order marks, invalid UTF-8, NUL and
/// control characters). Parsing is linear in the input's size and nests at most
/// `maxDepth` collections. The deliberate differences from PyYAML are listed, one per
/// line, in docs/YAML-DIFFERENCES.md.
public enum ConfigParser {
    public enum Dialect: Sendable { case yaml, json }

    /// The deepest nesting of lists and mappings a config (YAML or JSON) may have. PyYAML's
    /// pure-Python loader fails near 500 levels with a RecursionError; a limit of our own
    /// keeps the parser's recursion and everything that walks the value well inside a
    /// thread's stack.
    public static let maxDepth = 256

    public static func parse(_ text: String, dialect: Dialect, source: String) throws(ConfigError) -> ConfigValue {
        try parse(bytes: Array(text.utf8), dialect: dialect, source: source)
    }

    /// The same from the file's bytes (any encoding `ConfigEncoding` reads).
    public static func parse(bytes: [UInt8], dialect: Dialect, source: String) throws(ConfigError) -> ConfigValue {
        let decoded = try ConfigEncoding.utf8(bytes, dialect: dialect, source: source)
        if dialect == .yaml {
            var reader = YAMLReader(bytes: decoded, source: source)
            return try reader.document()
        }
        var reader = JSONReader(bytes: decoded, source: source)
        return try reader.document()
    }

    /// A config file's document with where each key and list item was written, so schema
    /// errors can name `file:line:col`.
    public static func document(bytes: [UInt8], dialect: Dialect, source: String) throws(ConfigError) -> ConfigDocument {
        let decoded = try ConfigEncoding.utf8(bytes, dialect: dialect, source: source)
        if dialect == .yaml {
            var reader = YAMLReader(bytes: decoded, source: source)
            reader.keyPaths.isOn = true
            let value = try reader.document()
            return ConfigDocument(value: value, source: source, bytes: decoded, positions: reader.keyPaths.positions)
        }
        var reader = JSONReader(bytes: decoded, source: source)
        reader.keyPaths.isOn = true
        let value = try reader.document()
        return ConfigDocument(value: value, source: source, bytes: decoded, positions: reader.keyPaths.positions)
    }

    /// The dialect a config path is read in: `.json` files are JSON, everything else YAML.
    public static func dialect(of path: String) -> Dialect { path.hasSuffix(".json") ? .json : .yaml }
}

/// Records key paths (`resources.gpus`, `command[2]`) and the byte offsets where they were
/// written, for `ConfigDocument`; does nothing unless `isOn`.
struct KeyPathRecorder {
    var isOn = false
    private(set) var positions: [(path: String, offset: Int)] = []
    private var path = ""

    /// Enters `component` (a key, or `[i]`) of the current path; returns the path to
    /// restore with `leave`.
    mutating func enter(_ component: String, at offset: Int) -> String {
        let saved = path
        guard isOn else { return saved }
        path = saved.isEmpty || component.hasPrefix("[") ? saved + component : saved + "." + component
        positions.append((path, offset))
        return saved
    }

    mutating func leave(_ saved: String) { path = saved }
}

/// JSON (RFC 8259) into a `ConfigValue`: integers that fit 64 bits stay integers, other
/// numbers are doubles; nesting is bounded by `ConfigParser.maxDepth`.
private struct JSONReader {
    let bytes: [UInt8]
    let source: String
    var pos = 0
    var keyPaths = KeyPathRecorder()
    private var depth = 0

    /// `bytes`: UTF-8 without a byte order mark (`ConfigEncoding`).
    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    private var atEnd: Bool { pos >= bytes.count }
    private var current: UInt8 { pos < bytes.count ? bytes[pos] : 0 }

    private func error(_ message: String, at position: Int? = nil) -> ConfigError {
        let (line, column) = ConfigError.lineAndColumn(of: position ?? pos, in: bytes)
        return ConfigError(source: source, line: line, column: column, message: message)
    }

    private func describe(_ c: UInt8) -> String {
        c == 0 && atEnd ? "end of file" : String(decoding: [c], as: UTF8.self)
    }

    mutating func document() throws(ConfigError) -> ConfigValue {
        skipSpace()
        let value = try node()
        skipSpace()
        guard atEnd else { throw error("unexpected '\(describe(current))' after the JSON value") }
        return value
    }

    private mutating func skipSpace() {
        while !atEnd && (current == 0x20 || current == 0x09 || current == 0x0A || current == 0x0D) { pos += 1 }
    }

    private mutating func node() throws(ConfigError) -> ConfigValue {
        switch current {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            if depth > ConfigParser.maxDepth {
                throw error("lists and mappings nested more than \(ConfigParser.maxDepth) levels deep; flatten the config")
            }
            return current == UInt8(ascii: "[") ? try array() : try object()
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "'"):
            throw error("JSON strings use double quotes")
        default:
            return try literal()
        }
    }

    private mutating func array() throws(ConfigError) -> ConfigValue {
        let open = pos
        pos += 1
        var items: [ConfigValue] = []
        skipSpace()
        if current == UInt8(ascii: "]") { pos += 1; return .list(items) }
        while true {
            skipSpace()
            if atEnd { throw error("unclosed '[': no ']' before the end of the file", at: open) }
            let saved = enter("[\(items.count)]", at: pos)
            items.append(try node())
            leave(saved)
            skipSpace()
            if atEnd { throw error("unclosed '[': no ']' before the end of the file", at: open) }
            if current == UInt8(ascii: ",") { pos += 1; continue }
            if current == UInt8(ascii: "]") { pos += 1; return .list(items) }
            throw error("expected ',' or ']' in a [...] list, found '\(describe(current))'")
        }
    }

    private mutating func object() throws(ConfigError) -> ConfigValue {
        let open = pos
        pos += 1
        var entries: [(key: String, value: ConfigValue)] = []
        var seen: [String: Int] = [:]
        skipSpace()
        if current == UInt8(ascii: "}") { pos += 1; return .map(entries) }
        while true {
            skipSpace()
            if atEnd { throw error("unclosed '{': no '}' before the end of the file", at: open) }
            let keyStart = pos
            guard current == UInt8(ascii: "\"") else { throw error("JSON keys must be double-quoted strings") }
            let key = try string()
            if let first = seen.updateValue(keyStart, forKey: key) {
                let (line, _) = ConfigError.lineAndColumn(of: first, in: bytes)
                throw error("duplicate key '\(key.excerpt)' (first set on line \(line)); keep one", at: keyStart)
            }
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after the key") }
            pos += 1
            skipSpace()
            if current == UInt8(ascii: ",") || current == UInt8(ascii: "}") || atEnd { throw error("expected a value after ':'") }
            let saved = enter(key, at: keyStart)
            entries.append((key, try node()))
            leave(saved)
            skipSpace()
            if atEnd { throw error("unclosed '{': no '}' before the end of the file", at: open) }
            if current == UInt8(ascii: ",") { pos += 1; continue }
            if current == UInt8(ascii: "}") { pos += 1; return .map(entries) }
            throw error("expected ',' or '}' in a {...} mapping, found '\(describe(current))'")
        }
    }

    /// A double-quoted string with JSON's escapes, on one line.
    private mutating func string() throws(ConfigError) -> String {
        let start = pos
        pos += 1
        // Fast path: no escape before the closing quote, so the text is the bytes between.
        if let close = bytes[pos...].firstIndex(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x0A || $0 == 0x0D }),
           bytes[close] == UInt8(ascii: "\"") {
            pos = close + 1
            return String(decoding: bytes[start + 1..<close], as: UTF8.self)
        }
        var out: [UInt8] = []
        while true {
            let c = current
            if atEnd { throw error("unclosed double quote", at: start) }
            if c == 0x0A || c == 0x0D { throw error("a JSON string cannot hold a line break; write \\n", at: start) }
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c == UInt8(ascii: "\\") {
                try escape(into: &out)
                continue
            }
            out.append(c)
            pos += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func escape(into out: inout [UInt8]) throws(ConfigError) {
        let start = pos
        pos += 1
        let c = current
        pos += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c); return
        case UInt8(ascii: "b"): out.append(0x08); return
        case UInt8(ascii: "f"): out.append(0x0C); return
        case UInt8(ascii: "n"): out.append(0x0A); return
        case UInt8(ascii: "r"): out.append(0x0D); return
        case UInt8(ascii: "t"): out.append(0x09); return
        case UInt8(ascii: "u"): break
        default: throw error("unknown escape '\\\(describe(c))' in a JSON string", at: start)
        }
        guard let code = hex4(at: pos) else { throw error("escape '\\u' needs 4 hex digits", at: start) }
        pos += 4
        var scalar = Unicode.Scalar(code)
        // Characters beyond U+FFFF are written as a \uD8xx\uDCxx surrogate pair.
        if (0xD800..<0xDC00).contains(code), current == UInt8(ascii: "\\"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "u"),
           let low = hex4(at: pos + 2), (0xDC00..<0xE000).contains(low) {
            scalar = Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
            pos += 6
        }
        guard let scalar else { throw error("escape '\\u' is not a valid character", at: start) }
        out += Array(String(Character(scalar)).utf8)
    }

    private func hex4(at offset: Int) -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for c in bytes[offset..<offset + 4] {
            guard let digit = c.hexDigitValue else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// `null`, `true`, `false` or a number, up to the next delimiter.
    private mutating func literal() throws(ConfigError) -> ConfigValue {
        let start = pos
        while !atEnd, !" \t\r\n,]}:".utf8.contains(current) { pos += 1 }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        switch text {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if YAMLScalars.isJSONNumber(text.utf8) {
            if !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                guard let value = Int(text) else {
                    throw error("integer '\(text.excerpt)' is outside the 64-bit range (-9223372036854775808 to 9223372036854775807); write it as a string", at: start)
                }
                return .int(value)
            }
            if let value = Double(text) { return .double(value) }
        }
        throw error(text.isEmpty ? "expected a JSON value, found '\(describe(current))'" : "'\(text.excerpt)' is not JSON; strings need double quotes", at: start)
    }

    private mutating func enter(_ component: String, at offset: Int) -> String { keyPaths.enter(component, at: offset) }
    private mutating func leave(_ saved: String) { keyPaths.leave(saved) }
}

private extension UInt8 {
    var hexDigitValue: UInt8? {
        switch self {
        case 0x30...0x39: return self - 0x30
        case 0x41...0x46: return self - 0x41 + 10
        case 0x61...0x66: return self - 0x61 + 10
        default: return nil
        }
    }
}
