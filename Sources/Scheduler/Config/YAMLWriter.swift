/// Writes a config value as block YAML that PyYAML's `safe_load` (YAML 1.1, as
/// `YAMLScalars` reads it) reads back as the same value and the same types:
///
/// - floats always carry a `.` and a signed exponent when they have one (`0.5`, `1.0`,
///   `1.0e-05`, `.inf`, `.nan`): YAML 1.1 reads `1e-5` as text;
/// - strings are plain only when YAML would read them back as that string; otherwise
///   single-quoted (`'007'`, `'true'`, `'1e-3'`), or double-quoted with escapes when they
///   hold control characters;
/// - mappings in block style, two spaces an indent; lists as `- item`; empty ones `{}`, `[]`.
///
/// `SweepCommand` re-reads every file it writes and compares, so a value this writer could
/// not express is refused rather than written wrong.
public enum YAMLWriter {
    /// A mapping as a YAML document (no `---`), ending in a newline. Other values are
    /// written as a one-line document.
    public static func document(_ value: ConfigValue) -> String {
        var out = ""
        if case .map(let entries) = value, !entries.isEmpty {
            appendMap(entries, indent: 0, to: &out)
        } else if case .list(let items) = value, !items.isEmpty {
            appendList(items, indent: 0, to: &out)
        } else {
            out = scalar(value) + "\n"
        }
        return out
    }

    /// A scalar (or empty collection) as it is written on one line.
    public static func scalar(_ value: ConfigValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return float(number)
        case .string(let text): return string(text)
        case .list(let items): return items.isEmpty ? "[]" : "[" + items.map(scalar).joined(separator: ", ") + "]"
        case .map(let entries): return entries.isEmpty ? "{}" : "{" + entries.map { string($0.key) + ": " + scalar($0.value) }.joined(separator: ", ") + "}"
        }
    }

    /// A float as YAML 1.1 reads it back bit for bit: Swift's shortest round-trip digits,
    /// with `.0` added to a mantissa without a point and `+` to an unsigned exponent.
    public static func float(_ number: Double) -> String {
        if number.isNaN { return ".nan" }
        if number.isInfinite { return number < 0 ? "-.inf" : ".inf" }
        let text = number.description
        let parts = text.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
        var mantissa = String(parts[0])
        if !mantissa.contains(".") { mantissa += ".0" }
        guard parts.count == 2 else { return mantissa }
        var exponent = String(parts[1])
        if let first = exponent.first, first != "-" && first != "+" { exponent = "+" + exponent }
        return mantissa + "e" + exponent
    }

    /// A string, plain when that reads back as the same string, else quoted.
    public static func string(_ text: String) -> String {
        if isPlainSafe(text) { return text }
        let controls = text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029 || $0.value == 0xFEFF }
        if !controls { return "'" + text.replacingAll("'", with: "''") + "'" }
        var out = "\""
        for unit in text.unicodeScalars {
            switch unit {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let value = unit.value
                if value < 0x20 || value == 0x7F || (0x80..<0xA0).contains(value) {
                    out += "\\x" + hex(value, digits: 2)
                } else if value == 0x2028 || value == 0x2029 || value == 0xFEFF {
                    out += "\\u" + hex(value, digits: 4)
                } else {
                    out.unicodeScalars.append(unit)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Plain only for printable ASCII that starts with a letter, digit, `_`, `/` or `.`,
    /// holds no YAML indicator that could end or change the scalar (`: `, ` #`, flow
    /// brackets, commas), and that YAML 1.1's resolvers read as this very string.
    static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last, last != UInt8(ascii: " "), last != UInt8(ascii: ":") else { return false }
        let startsWell = (first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z")) || (first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z"))
            || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) || first == UInt8(ascii: "_") || first == UInt8(ascii: "/") || first == UInt8(ascii: ".")
        guard startsWell else { return false }
        var previous: UInt8 = 0
        for byte in text.utf8 {
            guard byte >= 0x20 && byte < 0x7F else { return false }
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
                return false
            case UInt8(ascii: "#") where previous == UInt8(ascii: " "):
                return false
            case UInt8(ascii: " ") where previous == UInt8(ascii: ":"):
                return false
            default: break
            }
            previous = byte
        }
        // PyYAML reads a timestamp as a date; our reader keeps its text.
        if YAMLScalars.isTimestamp(Array(text.utf8)) { return false }
        guard let read = try? YAMLScalars.resolve(text, fail: { ConfigError(source: "", line: 0, column: 0, message: $0) }) else { return false }
        return read == .string(text)
    }

    private static func appendMap(_ entries: [(key: String, value: ConfigValue)], indent: Int, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in entries {
            out += pad + string(key) + ":"
            appendNested(value, indent: indent + 2, to: &out)
        }
    }

    private static func appendList(_ items: [ConfigValue], indent: Int, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let entries) where !entries.isEmpty:
                // The mapping at indent+2, its first line's indent turned into "- ".
                var block = ""
                appendMap(entries, indent: indent + 2, to: &block)
                out += pad + "- " + block.dropFirst(indent + 2)
            case .list(let inner) where !inner.isEmpty:
                var block = ""
                appendList(inner, indent: indent + 2, to: &block)
                out += pad + "- " + block.dropFirst(indent + 2)
            default:
                out += pad + "- " + scalar(item) + "\n"
            }
        }
    }

    /// After `key:`: a nested block on the next lines, or ` scalar` on this one.
    private static func appendNested(_ value: ConfigValue, indent: Int, to out: inout String) {
        switch value {
        case .map(let entries) where !entries.isEmpty:
            out += "\n"
            appendMap(entries, indent: indent, to: &out)
        case .list(let items) where !items.isEmpty:
            out += "\n"
            appendList(items, indent: indent, to: &out)
        default:
            out += " " + scalar(value) + "\n"
        }
    }
}

extension String {
    /// Every `target` replaced by `replacement` (no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
