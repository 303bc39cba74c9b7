/// A config file's bytes as the UTF-8 text the parser reads, or one `file:line:col` error.
///
/// As the YAML 1.1 spec (§5.2, "Character Encoding") and PyYAML's reader do, a byte order
/// mark selects UTF-8, UTF-16 or UTF-32 (either byte order); without one the file is UTF-8.
/// Only YAML's printable characters may appear (§5.1): tab, line feed, carriage return,
/// U+0020–U+007E, U+0085, U+00A0–U+D7FF, U+E000–U+FFFD and U+10000–U+10FFFF. JSON (RFC 8259)
/// additionally allows DEL and the C1 controls raw inside strings, so JSON refuses only the
/// C0 controls. A NUL byte without a byte order mark most often means a UTF-16 file saved
/// without one, and the message says so.
public enum ConfigEncoding {
    /// `bytes` as UTF-8 without a byte order mark. Throws `ConfigError` naming the first
    /// offending character (line and column count characters of the decoded text).
    /// `lineBreaks`: CR LF and a lone CR become LF (YAML §5.4; PyYAML reads an old Mac
    /// file's lone CRs as line breaks), so lines and columns count as an editor shows them.
    public static func utf8(_ bytes: [UInt8], dialect: ConfigParser.Dialect, source: String, lineBreaks: Bool = true) throws(ConfigError) -> [UInt8] {
        var text: [UInt8]
        switch bytes.count >= 2 ? (bytes[0], bytes[1]) : (0, 0) {
        case (0xFF, 0xFE) where bytes.count >= 4 && bytes[2] == 0 && bytes[3] == 0:
            text = try transcode(bytes.dropFirst(4), UTF32.self, width: 4, bigEndian: false, name: "UTF-32", source: source)
        case (0x00, 0x00) where bytes.count >= 4 && bytes[2] == 0xFE && bytes[3] == 0xFF:
            text = try transcode(bytes.dropFirst(4), UTF32.self, width: 4, bigEndian: true, name: "UTF-32", source: source)
        case (0xFF, 0xFE):
            text = try transcode(bytes.dropFirst(2), UTF16.self, width: 2, bigEndian: false, name: "UTF-16", source: source)
        case (0xFE, 0xFF):
            text = try transcode(bytes.dropFirst(2), UTF16.self, width: 2, bigEndian: true, name: "UTF-16", source: source)
        default:
            text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        }
        if lineBreaks && text.contains(0x0D) {
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            for (index, byte) in text.enumerated() where byte != 0x0D || index + 1 == text.count || text[index + 1] != 0x0A {
                out.append(byte == 0x0D ? 0x0A : byte)
            }
            text = out
        }
        try checkCharacters(text, dialect: dialect, source: source)
        return text
    }

    /// Code units of `width` bytes in the given byte order, decoded to UTF-8.
    private static func transcode<Codec: UnicodeCodec>(
        _ bytes: ArraySlice<UInt8>, _ codec: Codec.Type, width: Int, bigEndian: Bool, name: String, source: String
    ) throws(ConfigError) -> [UInt8] where Codec.CodeUnit: FixedWidthInteger {
        var units: [Codec.CodeUnit] = []
        units.reserveCapacity(bytes.count / width)
        var index = bytes.startIndex
        while index + width <= bytes.endIndex {
            var unit: Codec.CodeUnit = 0
            for k in 0..<width {
                let byte = Codec.CodeUnit(bytes[index + (bigEndian ? k : width - 1 - k)])
                unit = unit << 8 | byte
            }
            units.append(unit)
            index += width
        }
        var out: [UInt8] = []
        out.reserveCapacity(units.count)
        var decoder = Codec()
        var iterator = units.makeIterator()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): UTF8.encode(scalar) { out.append($0) }
            case .emptyInput: break loop
            case .error:
                throw located(out, source: source,
                              "invalid \(name) (a broken surrogate pair or a value beyond U+10FFFF); save the file as UTF-8")
            }
        }
        if index != bytes.endIndex {
            throw located(out, source: source, "the file ends in the middle of a \(name) character; save the file as UTF-8")
        }
        return out
    }

    /// Refuses invalid UTF-8 and characters YAML does not allow in a document.
    static func checkCharacters(_ text: [UInt8], dialect: ConfigParser.Dialect, source: String) throws(ConfigError) {
        var index = 0
        let count = text.count
        while index < count {
            let byte = text[index]
            // Printable ASCII, tab and line breaks: almost every byte of a config.
            if byte >= 0x20 && byte < 0x7F || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                index += 1
                continue
            }
            if byte == 0x7F && dialect == .json {
                index += 1
                continue
            }
            if byte < 0x80 {
                throw located(Array(text[..<index]), source: source, controlMessage(UInt32(byte), in: text))
            }
            guard let (scalar, length) = decodeUTF8(text, at: index) else {
                throw located(Array(text[..<index]), source: source,
                              "invalid UTF-8 (byte 0x\(hex(byte, digits: 2))); save the file as UTF-8")
            }
            if dialect == .yaml && !isYAMLPrintable(scalar) {
                throw located(Array(text[..<index]), source: source, controlMessage(scalar, in: text))
            }
            if dialect == .yaml && (scalar == 0x85 || scalar == 0x2028 || scalar == 0x2029) {
                // Line breaks to YAML 1.1 (and PyYAML), which this reader does not split on.
                throw located(Array(text[..<index]), source: source,
                              "line break character U+\(hex(scalar, digits: 4)) in the file; use a plain line break, or write it as an escape (\\N, \\L, \\P) inside a double-quoted string")
            }
            index += length
        }
    }

    /// YAML 1.1's `c-printable` beyond ASCII.
    static func isYAMLPrintable(_ scalar: UInt32) -> Bool {
        scalar == 0x85 || (0xA0...0xD7FF).contains(scalar) || (0xE000...0xFFFD).contains(scalar) || scalar >= 0x10000
    }

    /// One scalar of well-formed UTF-8 at `index` (no overlong forms, no surrogates, at
    /// most U+10FFFF; RFC 3629 §4) and its length in bytes; nil for anything else,
    /// including a sequence cut short by the end of `text`.
    static func decodeUTF8<Bytes: RandomAccessCollection<UInt8>>(_ text: Bytes, at index: Int) -> (UInt32, Int)? where Bytes.Index == Int {
        guard index >= text.startIndex && index < text.endIndex else { return nil }
        let lead = text[index]
        let length: Int
        var scalar: UInt32
        let lowest: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F); lowest = 0x80
        case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F); lowest = 0x800
        case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07); lowest = 0x10000
        default: return nil
        }
        guard index + length <= text.endIndex else { return nil }
        for k in 1..<length {
            let next = text[index + k]
            guard next & 0xC0 == 0x80 else { return nil }
            scalar = scalar << 6 | UInt32(next & 0x3F)
        }
        guard scalar >= lowest, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return nil }
        return (scalar, length)
    }

    private static func controlMessage(_ scalar: UInt32, in text: [UInt8]) -> String {
        if scalar == 0 {
            // Every other byte NUL: UTF-16 text without its byte order mark.
            let sample = text.prefix(64)
            let nuls = sample.filter { $0 == 0 }.count
            if nuls * 3 >= sample.count {
                return "NUL byte: the file looks like UTF-16 or UTF-32 without a byte order mark; save it as UTF-8"
            }
            return "NUL byte in the file; remove it (the file must be text, saved as UTF-8)"
        }
        return "control character U+\(hex(scalar, digits: 4)) in the file; remove it, or write it as an escape inside a double-quoted string"
    }

    private static func located(_ before: [UInt8], source: String, _ message: String) -> ConfigError {
        let (line, column) = ConfigError.lineAndColumn(of: before.count, in: before)
        return ConfigError(source: source, line: line, column: column, message: message)
    }

    private static func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
