/// Reads configs: a YAML subset (block mappings and sequences, flow [..] and {..}, plain,
/// single- and double-quoted scalars, comments) whose scalars resolve as PyYAML's
/// SafeLoader resolves them, and JSON. Everything outside the subset (anchors, aliases,
/// tags, block scalars, multiple documents, ...) is an error with file:line:col.
///
/// Deliberate differences from PyYAML: duplicate keys are an error (PyYAML keeps the
/// last), and mapping keys stay the text written (`on:` is the key "on", not True).
public enum ConfigParser {
    public enum Dialect: Sendable { case yaml, json }

    public static func parse(_ text: String, dialect: Dialect, source: String) throws(ConfigError) -> ConfigValue {
        var reader = Reader(bytes: Array(text.utf8), dialect: dialect, source: source)
        return try reader.document()
    }

    /// The same from UTF-8 bytes, without a detour through String (journals).
    public static func parse(bytes: [UInt8], dialect: Dialect, source: String) throws(ConfigError) -> ConfigValue {
        var reader = Reader(bytes: bytes, dialect: dialect, source: source)
        return try reader.document()
    }

    /// A config file's document with where each key and list item was written, so schema
    /// errors can name `file:line:col`.
    public static func document(bytes: [UInt8], dialect: Dialect, source: String) throws(ConfigError) -> ConfigDocument {
        var reader = Reader(bytes: bytes, dialect: dialect, source: source)
        reader.recordsPositions = true
        let value = try reader.document()
        return ConfigDocument(value: value, source: source, bytes: reader.bytes, positions: reader.positions)
    }

    /// The dialect a config path is read in: `.json` files are JSON, everything else YAML.
    public static func dialect(of path: String) -> Dialect { path.hasSuffix(".json") ? .json : .yaml }

}

/// Reads one flat JSON object field by field without building a `ConfigValue` tree: the
/// queue journal's hundreds of thousands of lines decode straight into events.
public struct JSONFields {
    private var reader: Reader

    public init(_ bytes: ArraySlice<UInt8>) {
        reader = Reader(bytes: Array(bytes), dialect: .json, source: "journal")
    }

    /// Calls `body` with each key of the object; `body` reads the value with one of the
    /// readers below (or `skip()`), exactly once.
    public mutating func forEach(_ body: (String, inout JSONFields) throws(ConfigError) -> Void) throws(ConfigError) {
        reader.skipJSONSpace()
        guard reader.current == UInt8(ascii: "{") else { throw reader.error("expected a JSON object") }
        reader.pos += 1
        while true {
            reader.skipJSONSpace()
            if reader.current == UInt8(ascii: "}") { return }
            let key = try reader.flowKey()
            reader.skipJSONSpace()
            guard reader.current == UInt8(ascii: ":") else { throw reader.error("expected ':' after the key") }
            reader.pos += 1
            reader.skipJSONSpace()
            try body(key, &self)
            reader.skipJSONSpace()
            if reader.current == UInt8(ascii: ",") { reader.pos += 1; continue }
            guard reader.current == UInt8(ascii: "}") else { throw reader.error("expected ',' or '}'") }
            return
        }
    }

    /// A string, or nil for null or any other type.
    public mutating func string() throws(ConfigError) -> String? {
        if reader.current == UInt8(ascii: "\"") { return try reader.quoted(inFlow: true) }
        _ = try reader.flowNode()
        return nil
    }

    /// An integer, or nil for null or any other type.
    public mutating func int() throws(ConfigError) -> Int? {
        if case .int(let value) = try reader.flowNode() { return value }
        return nil
    }

    /// A boolean, or nil for null or any other type.
    public mutating func bool() throws(ConfigError) -> Bool? {
        if case .bool(let value) = try reader.flowNode() { return value }
        return nil
    }

    /// A list of strings (other items are dropped).
    public mutating func strings() throws(ConfigError) -> [String] {
        guard case .list(let items) = try reader.flowNode() else { return [] }
        return items.compactMap { if case .string(let text) = $0 { return text }; return nil }
    }

    /// Steps over any value without building it: strings and nesting are scanned byte by byte.
    public mutating func skip() throws(ConfigError) {
        var depth = 0
        repeat {
            switch reader.current {
            case UInt8(ascii: "\""):
                reader.pos += 1
                while !reader.atEnd && reader.current != UInt8(ascii: "\"") {
                    reader.pos += reader.current == UInt8(ascii: "\\") ? 2 : 1
                }
                guard !reader.atEnd else { throw reader.error("unclosed string") }
                reader.pos += 1
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                reader.pos += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                guard depth > 0 else { return }
                depth -= 1
                reader.pos += 1
            case UInt8(ascii: ","):
                if depth == 0 { return }
                reader.pos += 1
            case 0 where reader.atEnd:
                throw reader.error("unexpected end of the line")
            default:
                reader.pos += 1
            }
        } while depth > 0 || !(reader.current == UInt8(ascii: ",") || reader.current == UInt8(ascii: "}") || reader.atEnd)
    }
}

private struct Reader {
    let bytes: [UInt8]
    let dialect: ConfigParser.Dialect
    let source: String
    var pos = 0
    /// Key paths (`resources.gpus`, `command[2]`) and their byte offsets, when asked for.
    var recordsPositions = false
    var positions: [(path: String, offset: Int)] = []
    private var path = ""

    init(bytes: [UInt8], dialect: ConfigParser.Dialect, source: String) {
        // A UTF-8 byte order mark is allowed and ignored, as PyYAML does.
        self.bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        self.dialect = dialect
        self.source = source
    }

    // MARK: - Characters

    var atEnd: Bool { pos >= bytes.count }
    var current: UInt8 { pos < bytes.count ? bytes[pos] : 0 }
    func peek(_ offset: Int) -> UInt8 { pos + offset < bytes.count ? bytes[pos + offset] : 0 }
    static func isBreak(_ c: UInt8) -> Bool { c == 0x0A || c == 0x0D || c == 0 }
    static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
    static func isBlankOrBreak(_ c: UInt8) -> Bool { isBlank(c) || isBreak(c) }
    static func isFlowIndicator(_ c: UInt8) -> Bool { c == UInt8(ascii: ",") || c == UInt8(ascii: "[") || c == UInt8(ascii: "]") || c == UInt8(ascii: "{") || c == UInt8(ascii: "}") }

    var column: Int {
        var start = pos
        while start > 0 && bytes[start - 1] != 0x0A { start -= 1 }
        return pos - start
    }

    func error(_ message: String, at position: Int? = nil) -> ConfigError {
        let (line, column) = ConfigError.lineAndColumn(of: position ?? pos, in: bytes)
        return ConfigError(source: source, line: line, column: column, message: message)
    }

    mutating func skipBlanks() { while Self.isBlank(current) && !atEnd { pos += 1 } }

    mutating func skipLineBreak() {
        if current == 0x0D { pos += 1 }
        if current == 0x0A { pos += 1 }
    }

    /// Skips blanks and a comment to the end of the line, then the line break. Anything
    /// else left on the line is an error.
    mutating func finishLine() throws(ConfigError) {
        skipBlanks()
        if current == UInt8(ascii: "#") {
            while !Self.isBreak(current) { pos += 1 }
        }
        guard Self.isBreak(current) else {
            if current == UInt8(ascii: ":") {
                throw error("unexpected ':'; a value cannot itself hold 'key: value' on the same line (quote it if it is text)")
            }
            throw error("unexpected '\(describe(current))' after the value; put one value per line, or quote text that contains it")
        }
        skipLineBreak()
    }

    /// Moves to the first character of the next line holding content and returns its
    /// indentation, or nil at the end of the document.
    mutating func nextContentLine() throws(ConfigError) -> Int? {
        while !atEnd {
            let lineStart = pos
            while current == 0x20 { pos += 1 }
            if current == 0x09 {
                // Tabs after content-free indentation only matter if content follows.
                var probe = pos
                while probe < bytes.count && Self.isBlank(bytes[probe]) { probe += 1 }
                if probe < bytes.count && !Self.isBreak(bytes[probe]) && bytes[probe] != UInt8(ascii: "#") {
                    throw error("tab character in indentation; YAML indents with spaces only")
                }
                pos = probe
            }
            if current == UInt8(ascii: "#") || Self.isBreak(current) {
                while !Self.isBreak(current) { pos += 1 }
                if atEnd { return nil }
                skipLineBreak()
                continue
            }
            return pos - lineStart
        }
        return nil
    }

    /// True at `---` or `...` in column 0, followed by a blank or line end.
    var atDocumentMarker: Bool {
        guard column == 0, pos + 2 < bytes.count || pos + 3 == bytes.count else { return false }
        let three = bytes[pos..<min(pos + 3, bytes.count)]
        return (three.elementsEqual("---".utf8) || three.elementsEqual("...".utf8)) && Self.isBlankOrBreak(peek(3))
    }

    /// Enters `component` (a key, or `[i]`) of the current path, recording where it starts;
    /// returns the path to restore with `leave`.
    mutating func enter(_ component: String, at offset: Int) -> String {
        let saved = path
        guard recordsPositions else { return saved }
        path = saved.isEmpty || component.hasPrefix("[") ? saved + component : saved + "." + component
        positions.append((path, offset))
        return saved
    }

    mutating func leave(_ saved: String) { path = saved }

    func describe(_ c: UInt8) -> String {
        c == 0 ? "end of file" : String(decoding: [c], as: UTF8.self)
    }

    // MARK: - Document

    mutating func document() throws(ConfigError) -> ConfigValue {
        if dialect == .json { return try jsonDocument() }
        guard let indent = try nextContentLine() else { return .null }
        if current == UInt8(ascii: "%") {
            throw error("directives (%YAML, %TAG) are not supported; remove the line")
        }
        var value = ConfigValue.null
        if atDocumentMarker && current == UInt8(ascii: "-") {
            pos += 3
            skipBlanks()
            if current != UInt8(ascii: "#") && !Self.isBreak(current) {
                throw error("content on the '---' line is not supported; start it on the next line")
            }
            try finishLine()
            if let next = try nextContentLine(), !atDocumentMarker {
                value = try blockNode(indent: next)
            }
        } else if !atDocumentMarker {
            value = try blockNode(indent: indent)
        }
        if try nextContentLine() != nil {
            if atDocumentMarker && current == UInt8(ascii: ".") {
                pos += 3
                try finishLine()
                if try nextContentLine() == nil { return value }
            }
            if atDocumentMarker {
                throw error("a second document ('---') is not supported; use one document per config file")
            }
            throw error("unexpected content; check the indentation of this line")
        }
        return value
    }

    mutating func jsonDocument() throws(ConfigError) -> ConfigValue {
        skipJSONSpace()
        let value = try flowNode()
        skipJSONSpace()
        guard atEnd else { throw error("unexpected '\(describe(current))' after the JSON value") }
        return value
    }

    mutating func skipJSONSpace() {
        while !atEnd && (Self.isBlank(current) || current == 0x0A || current == 0x0D) { pos += 1 }
    }

    // MARK: - Block structure

    /// A node whose first character is at the current position, in column `indent`.
    mutating func blockNode(indent: Int) throws(ConfigError) -> ConfigValue {
        if current == UInt8(ascii: "-") && Self.isBlankOrBreak(peek(1)) {
            return try blockSequence(indent: indent)
        }
        if current == UInt8(ascii: "?") && Self.isBlankOrBreak(peek(1)) {
            throw error("complex keys ('? ') are not supported")
        }
        if try lineHasMappingKey() {
            return try blockMapping(indent: indent)
        }
        let value = try flowOrScalar(inFlow: false)
        try finishLine()
        return value
    }

    /// The value after `key:` or `- ` when the rest of that line is empty: a more indented
    /// block, a sequence at the key's own indentation, or null.
    mutating func nestedValue(parentIndent: Int, allowSequenceAtParent: Bool) throws(ConfigError) -> ConfigValue {
        let save = pos
        guard let indent = try nextContentLine() else { return .null }
        if indent > parentIndent && !atDocumentMarker {
            return try blockNode(indent: indent)
        }
        if allowSequenceAtParent && indent == parentIndent && current == UInt8(ascii: "-") && Self.isBlankOrBreak(peek(1)) {
            return try blockSequence(indent: indent)
        }
        pos = save
        return .null
    }

    mutating func blockSequence(indent: Int) throws(ConfigError) -> ConfigValue {
        var items: [ConfigValue] = []
        while true {
            pos += 1  // the '-'
            skipBlanks()
            let saved = enter("[\(items.count)]", at: pos)
            if current == UInt8(ascii: "#") || Self.isBreak(current) {
                try finishLine()
                items.append(try nestedValue(parentIndent: indent, allowSequenceAtParent: false))
            } else {
                items.append(try blockNode(indent: column))
            }
            leave(saved)
            let save = pos
            guard let next = try nextContentLine() else { break }
            if next == indent && current == UInt8(ascii: "-") && Self.isBlankOrBreak(peek(1)) && !atDocumentMarker { continue }
            if next > indent { throw error("this line is indented more than the list item above it; align it with the item's content or the '-'") }
            pos = save
            break
        }
        return .list(items)
    }

    mutating func blockMapping(indent: Int) throws(ConfigError) -> ConfigValue {
        var entries: [(key: String, value: ConfigValue)] = []
        var seen: Set<String> = []
        while true {
            let keyStart = pos
            if current == UInt8(ascii: "-") && Self.isBlankOrBreak(peek(1)) {
                throw error("a list item where a key was expected; indent the list under its key")
            }
            guard try lineHasMappingKey() else {
                throw error("expected 'key: value' at this indentation")
            }
            let key = try mappingKey()
            if !seen.insert(key).inserted { throw error("duplicate key '\(key)'", at: keyStart) }
            pos += 1  // the ':'
            skipBlanks()
            let saved = enter(key, at: keyStart)
            defer { leave(saved) }
            let value: ConfigValue
            if current == UInt8(ascii: "#") || Self.isBreak(current) {
                try finishLine()
                value = try nestedValue(parentIndent: indent, allowSequenceAtParent: true)
            } else {
                if current == UInt8(ascii: "-") && Self.isBlankOrBreak(peek(1)) {
                    throw error("a list cannot start on the same line as its key; put '- item' lines under it")
                }
                if try lineHasMappingKey() {
                    throw error("a mapping cannot start on the same line as its key; put it on the next lines, indented")
                }
                value = try flowOrScalar(inFlow: false)
                try finishLine()
            }
            entries.append((key, value))
            let save = pos
            guard let next = try nextContentLine() else { break }
            if next == indent && !atDocumentMarker && !(current == UInt8(ascii: "-") && Self.isBlankOrBreak(peek(1))) { continue }
            if next > indent {
                throw error("this line is indented more than the key above it; multi-line plain values are not supported (put the value on one line, or quote it)")
            }
            pos = save
            break
        }
        return .map(entries)
    }

    /// Looks ahead on the current line: does a key followed by ': ' start here?
    mutating func lineHasMappingKey() throws(ConfigError) -> Bool {
        let save = pos
        defer { pos = save }
        if current == UInt8(ascii: "\"") || current == UInt8(ascii: "'") {
            _ = try quoted(inFlow: false)
            skipBlanks()
            return current == UInt8(ascii: ":") && Self.isBlankOrBreak(peek(1))
        }
        if current == UInt8(ascii: "[") || current == UInt8(ascii: "{") || current == UInt8(ascii: "#") { return false }
        while !Self.isBreak(current) {
            if current == UInt8(ascii: ":") && Self.isBlankOrBreak(peek(1)) { return true }
            if current == UInt8(ascii: "#") && pos > 0 && Self.isBlank(bytes[pos - 1]) { return false }
            pos += 1
        }
        return false
    }

    /// A block mapping key: quoted, or plain text up to ': '. Keys are not resolved.
    mutating func mappingKey() throws(ConfigError) -> String {
        if current == UInt8(ascii: "\"") || current == UInt8(ascii: "'") {
            let key = try quoted(inFlow: false)
            skipBlanks()
            return key
        }
        try rejectIndicator()
        let start = pos
        while !(current == UInt8(ascii: ":") && Self.isBlankOrBreak(peek(1))) { pos += 1 }
        var end = pos
        while end > start && Self.isBlank(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    // MARK: - Flow and scalars

    mutating func flowOrScalar(inFlow: Bool) throws(ConfigError) -> ConfigValue {
        switch current {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return try flowNode()
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return .string(try quoted(inFlow: inFlow))
        default:
            try rejectIndicator()
            return try plain(inFlow: inFlow)
        }
    }

    /// Characters that start YAML features outside our subset.
    mutating func rejectIndicator() throws(ConfigError) {
        switch current {
        case UInt8(ascii: "&"): throw error("anchors ('&') are not supported; repeat the value instead")
        case UInt8(ascii: "*"): throw error("aliases ('*') are not supported; repeat the value instead")
        case UInt8(ascii: "!"): throw error("tags ('!') are not supported; remove the tag, or quote the text")
        case UInt8(ascii: "|"), UInt8(ascii: ">"): throw error("block scalars ('|' and '>') are not supported; use a quoted string with \\n")
        case UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"): throw error("'\(describe(current))' cannot start a plain value; quote it")
        case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","): throw error("unexpected '\(describe(current))'")
        case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            if Self.isBlankOrBreak(peek(1)) { throw error("unexpected '\(describe(current))' followed by a space; quote it if it is text") }
        default: break
        }
    }

    mutating func flowNode() throws(ConfigError) -> ConfigValue {
        let open = pos
        if current == UInt8(ascii: "[") {
            pos += 1
            var items: [ConfigValue] = []
            while true {
                try skipFlowSpace()
                if current == UInt8(ascii: "]") { pos += 1; return .list(items) }
                if atEnd { throw error("unclosed '[': no ']' before the end of the file", at: open) }
                let saved = enter("[\(items.count)]", at: pos)
                items.append(try flowItem())
                leave(saved)
                try skipFlowSpace()
                if atEnd { throw error("unclosed '[': no ']' before the end of the file", at: open) }
                if current == UInt8(ascii: ":") {
                    throw error("'key: value' pairs inside [...] are not supported; use {...} for a mapping")
                }
                if current == UInt8(ascii: ",") { pos += 1; continue }
                if current == UInt8(ascii: "]") { pos += 1; return .list(items) }
                throw error("expected ',' or ']' in a [...] list, found '\(describe(current))'")
            }
        }
        if current == UInt8(ascii: "{") {
            pos += 1
            var entries: [(key: String, value: ConfigValue)] = []
            while true {
                try skipFlowSpace()
                if current == UInt8(ascii: "}") { pos += 1; return .map(entries) }
                if atEnd { throw error("unclosed '{': no '}' before the end of the file", at: open) }
                let keyStart = pos
                let key = try flowKey()
                // Flow mappings are small: a scan beats hashing every key.
                if entries.contains(where: { $0.key == key }) { throw error("duplicate key '\(key)'", at: keyStart) }
                try skipFlowSpace()
                var value = ConfigValue.null
                let saved = enter(key, at: keyStart)
                defer { leave(saved) }
                if current == UInt8(ascii: ":") {
                    pos += 1
                    try skipFlowSpace()
                    if current != UInt8(ascii: ",") && current != UInt8(ascii: "}") {
                        value = try flowItem()
                        try skipFlowSpace()
                    } else if dialect == .json {
                        throw error("expected a value after ':'")
                    }
                } else if dialect == .json {
                    throw error("expected ':' after the key")
                }
                entries.append((key, value))
                if atEnd { throw error("unclosed '{': no '}' before the end of the file", at: open) }
                if current == UInt8(ascii: ",") { pos += 1; continue }
                if current == UInt8(ascii: "}") { pos += 1; return .map(entries) }
                throw error("expected ',' or '}' in a {...} mapping, found '\(describe(current))'")
            }
        }
        if dialect == .json {
            if current == UInt8(ascii: "\"") { return .string(try quoted(inFlow: true)) }
            return try plain(inFlow: true)
        }
        return try flowOrScalar(inFlow: true)
    }

    mutating func flowItem() throws(ConfigError) -> ConfigValue {
        if dialect == .json && current == UInt8(ascii: "'") { throw error("JSON strings use double quotes") }
        return try flowNode()
    }

    mutating func flowKey() throws(ConfigError) -> String {
        if current == UInt8(ascii: "\"") || (current == UInt8(ascii: "'") && dialect == .yaml) {
            return try quoted(inFlow: true)
        }
        if dialect == .json { throw error("JSON keys must be double-quoted strings") }
        if current == UInt8(ascii: "[") || current == UInt8(ascii: "{") {
            throw error("collections as keys are not supported")
        }
        try rejectIndicator()
        return try plainText(inFlow: true)
    }

    /// Blanks, line breaks and (in YAML) comments between flow items.
    mutating func skipFlowSpace() throws(ConfigError) {
        while !atEnd {
            if Self.isBlank(current) || current == 0x0A || current == 0x0D {
                pos += 1
            } else if current == UInt8(ascii: "#") && dialect == .yaml && (pos == 0 || Self.isBlankOrBreak(bytes[pos - 1])) {
                while !Self.isBreak(current) { pos += 1 }
            } else {
                return
            }
        }
    }

    mutating func plain(inFlow: Bool) throws(ConfigError) -> ConfigValue {
        let start = pos
        let text = try plainText(inFlow: inFlow)
        switch dialect {
        case .yaml: return try resolveYAML(text, at: start)
        case .json: return try resolveJSON(text, at: start)
        }
    }

    /// Plain scalar text: up to ': ', ' #', the line end, and in flow context ',[]{}'.
    mutating func plainText(inFlow: Bool) throws(ConfigError) -> String {
        let start = pos
        while !Self.isBreak(current) {
            let c = current
            if c == UInt8(ascii: ":") {
                let next = peek(1)
                if Self.isBlankOrBreak(next) || (inFlow && Self.isFlowIndicator(next)) { break }
            }
            if c == UInt8(ascii: "#") && pos > start && Self.isBlank(bytes[pos - 1]) { break }
            if inFlow && Self.isFlowIndicator(c) { break }
            pos += 1
        }
        var end = pos
        while end > start && Self.isBlank(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// A single- or double-quoted scalar on one line, with YAML's escapes.
    mutating func quoted(inFlow: Bool) throws(ConfigError) -> String {
        let quote = current
        let start = pos
        pos += 1
        // Fast path: no escape before the closing quote, so the text is the bytes between.
        if let close = bytes[pos...].firstIndex(where: { $0 == quote || $0 == UInt8(ascii: "\\") || $0 == 0x0A || $0 == 0x0D }),
           bytes[close] == quote, quote == UInt8(ascii: "\"") || close + 1 >= bytes.count || bytes[close + 1] != quote {
            pos = close + 1
            return String(decoding: bytes[start + 1..<close], as: UTF8.self)
        }
        var out: [UInt8] = []
        while true {
            if Self.isBreak(current) {
                if atEnd { throw error("unclosed \(quote == UInt8(ascii: "'") ? "single" : "double") quote", at: start) }
                throw error("a quoted string that continues on the next line is not supported; use \\n inside double quotes", at: start)
            }
            let c = current
            if quote == UInt8(ascii: "'") {
                if c == UInt8(ascii: "'") {
                    if peek(1) == UInt8(ascii: "'") { out.append(c); pos += 2; continue }
                    pos += 1
                    break
                }
                out.append(c)
                pos += 1
                continue
            }
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

    mutating func escape(into out: inout [UInt8]) throws(ConfigError) {
        let start = pos
        pos += 1
        let c = current
        pos += 1
        let simple: [UInt8: String] = [
            UInt8(ascii: "0"): "\0", UInt8(ascii: "a"): "\u{07}", UInt8(ascii: "b"): "\u{08}", UInt8(ascii: "t"): "\t",
            0x09: "\t", UInt8(ascii: "n"): "\n", UInt8(ascii: "v"): "\u{0B}", UInt8(ascii: "f"): "\u{0C}",
            UInt8(ascii: "r"): "\r", UInt8(ascii: "e"): "\u{1B}", 0x20: " ", UInt8(ascii: "\""): "\"",
            UInt8(ascii: "/"): "/", UInt8(ascii: "\\"): "\\", UInt8(ascii: "N"): "\u{85}", UInt8(ascii: "_"): "\u{A0}",
            UInt8(ascii: "L"): "\u{2028}", UInt8(ascii: "P"): "\u{2029}",
        ]
        if let text = simple[c], dialect == .yaml || "\"\\/bfnrt".utf8.contains(c) {
            out += Array(text.utf8)
            return
        }
        let digits: Int
        switch c {
        case UInt8(ascii: "x") where dialect == .yaml: digits = 2
        case UInt8(ascii: "u"): digits = 4
        case UInt8(ascii: "U") where dialect == .yaml: digits = 8
        default: throw error("unknown escape '\\\(describe(c))' in a double-quoted string", at: start)
        }
        guard pos + digits <= bytes.count,
              let code = UInt32(String(decoding: bytes[pos..<pos + digits], as: UTF8.self), radix: 16) else {
            throw error("escape '\\\(describe(c))' needs \(digits) hex digits", at: start)
        }
        pos += digits
        var scalar = Unicode.Scalar(code)
        // JSON writes characters beyond U+FFFF as a \uD8xx\uDCxx surrogate pair.
        if (0xD800..<0xDC00).contains(code), current == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u"), pos + 6 <= bytes.count,
           let low = UInt32(String(decoding: bytes[pos + 2..<pos + 6], as: UTF8.self), radix: 16), (0xDC00..<0xE000).contains(low) {
            scalar = Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
            pos += 6
        }
        guard let scalar else { throw error("escape '\\\(describe(c))' is not a valid character", at: start) }
        out += Array(String(Character(scalar)).utf8)
    }

    // MARK: - Scalar resolution

    /// PyYAML's implicit resolvers (YAML 1.1): null, bool, int, float; dates are refused.
    func resolveYAML(_ text: String, at start: Int) throws(ConfigError) -> ConfigValue {
        if text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL" { return .null }
        if let bool = YAMLScalars.bool(text) { return .bool(bool) }
        // Every int, float and date starts with a digit, a sign or '.': other text never
        // pays for the patterns (each costs a Regex build).
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            if text == "<<" || text == "=" { throw error("'\(text)' has a special meaning in YAML; quote it", at: start) }
            return .string(text)
        }
        if text.wholeMatch(of: YAMLScalars.int) != nil {
            guard let value = YAMLScalars.integer(text) else { throw error("integer '\(text)' is too large", at: start) }
            return .int(value)
        }
        if text.wholeMatch(of: YAMLScalars.float) != nil { return .double(YAMLScalars.double(text)) }
        if text.wholeMatch(of: YAMLScalars.timestamp) != nil {
            throw error("'\(text)' reads as a date, which configs do not support; quote it to keep it as text", at: start)
        }
        if text == "<<" || text == "=" { throw error("'\(text)' has a special meaning in YAML; quote it", at: start) }
        return .string(text)
    }

    func resolveJSON(_ text: String, at start: Int) throws(ConfigError) -> ConfigValue {
        switch text {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if YAMLScalars.isJSONNumber(text.utf8) {
            if !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
               let value = Int(text) { return .int(value) }
            if let value = Double(text) { return .double(value) }
        }
        throw error(text.isEmpty ? "expected a JSON value, found '\(describe(current))'" : "'\(text)' is not JSON; strings need double quotes", at: start)
    }
}

/// PyYAML's resolver patterns and the conversions behind them. The patterns are built once:
/// a regex literal is rebuilt at every evaluation, which cost about 1 ms per scalar.
/// (`nonisolated(unsafe)`: Regex is not Sendable; it is only read, and matching does not
/// change it.)
enum YAMLScalars {
    nonisolated(unsafe) static let int = #/[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+/#
    nonisolated(unsafe) static let float = #/[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)/#
    nonisolated(unsafe) static let timestamp = #/[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?/#
    /// JSON's number grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)?, scanned by hand:
    /// journals hold hundreds of thousands of numbers.
    static func isJSONNumber(_ text: String.UTF8View) -> Bool {
        var i = text.startIndex
        func digits() -> Int {
            var count = 0
            while i != text.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[i]) { i = text.index(after: i); count += 1 }
            return count
        }
        if i != text.endIndex && text[i] == UInt8(ascii: "-") { i = text.index(after: i) }
        guard i != text.endIndex else { return false }
        if text[i] == UInt8(ascii: "0") { i = text.index(after: i) } else if digits() == 0 { return false }
        if i != text.endIndex && text[i] == UInt8(ascii: ".") {
            i = text.index(after: i)
            if digits() == 0 { return false }
        }
        if i != text.endIndex && (text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E")) {
            i = text.index(after: i)
            if i != text.endIndex && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) { i = text.index(after: i) }
            if digits() == 0 { return false }
        }
        return i == text.endIndex
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return true
        case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    /// An int the `int` pattern matched; nil when it does not fit in 64 bits.
    static func integer(_ text: String) -> Int? {
        var body = Substring(text.filter { $0 != "_" })
        var negative = false
        if body.first == "-" || body.first == "+" { negative = body.removeFirst() == "-" }
        let magnitude: Int?
        if body.hasPrefix("0b") {
            magnitude = Int(body.dropFirst(2), radix: 2)
        } else if body.hasPrefix("0x") {
            magnitude = Int(body.dropFirst(2), radix: 16)
        } else if body.contains(":") {
            magnitude = sexagesimal(body).flatMap { $0 <= Double(Int.max) ? Int($0) : nil }
        } else if body.count > 1 && body.hasPrefix("0") {
            magnitude = Int(body.dropFirst(), radix: 8)
        } else {
            magnitude = Int(body)
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
    }

    static func double(_ text: String) -> Double {
        var body = Substring(text.filter { $0 != "_" }.lowercased())
        var sign = 1.0
        if body.first == "-" || body.first == "+" { sign = body.removeFirst() == "-" ? -1 : 1 }
        if body == ".inf" { return sign * .infinity }
        if body == ".nan" { return .nan }
        if body.contains(":") { return sign * (sexagesimal(body) ?? .nan) }
        // "1." and "1.e+5" are floats to YAML 1.1; give Double a digit after the point.
        var normalized = String(body)
        if let dot = normalized.firstIndex(of: "."),
           normalized.index(after: dot) == normalized.endIndex || normalized[normalized.index(after: dot)] == "e" {
            normalized.insert("0", at: normalized.index(after: dot))
        }
        return sign * (Double(normalized) ?? .nan)
    }

    /// Base 60: "1:30" is 90, "1:30.5" is 90.5.
    static func sexagesimal(_ text: Substring) -> Double? {
        var total = 0.0
        for part in text.split(separator: ":") {
            guard let value = Double(part) else { return nil }
            total = total * 60 + value
        }
        return total
    }
}
