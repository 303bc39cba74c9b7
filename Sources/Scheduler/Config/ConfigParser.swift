/// Reads configs: a YAML subset (block mappings and sequences, flow [..] and {..}, plain,
/// single- and double-quoted scalars, comments) whose scalars resolve as PyYAML's
/// SafeLoader resolves them, and JSON. Everything outside the subset (anchors, aliases,
/// tags, block scalars, multiple documents, ...) is an error with file:line:col.
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
        var reader = Reader(bytes: try ConfigEncoding.utf8(bytes, dialect: dialect, source: source), dialect: dialect, source: source)
        return try reader.document()
    }

    /// A config file's document with where each key and list item was written, so schema
    /// errors can name `file:line:col`.
    public static func document(bytes: [UInt8], dialect: Dialect, source: String) throws(ConfigError) -> ConfigDocument {
        var reader = Reader(bytes: try ConfigEncoding.utf8(bytes, dialect: dialect, source: source), dialect: dialect, source: source)
        reader.recordsPositions = true
        let value = try reader.document()
        return ConfigDocument(value: value, source: source, bytes: reader.bytes, positions: reader.positions)
    }

    /// The dialect a config path is read in: `.json` files are JSON, everything else YAML.
    public static func dialect(of path: String) -> Dialect { path.hasSuffix(".json") ? .json : .yaml }

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

    /// Collections open around the current position (`ConfigParser.maxDepth`).
    private var depth = 0

    /// `bytes`: UTF-8 without a byte order mark (`ConfigEncoding`).
    init(bytes: [UInt8], dialect: ConfigParser.Dialect, source: String) {
        self.bytes = bytes
        self.dialect = dialect
        self.source = source
    }

    /// Enters one more level of nesting; `leaveCollection` leaves it.
    mutating func enterCollection() throws(ConfigError) {
        depth += 1
        if depth > ConfigParser.maxDepth {
            throw error("lists and mappings nested more than \(ConfigParser.maxDepth) levels deep; flatten the config")
        }
    }

    mutating func leaveCollection() { depth -= 1 }

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
        try enterCollection()
        defer { leaveCollection() }
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
        try enterCollection()
        defer { leaveCollection() }
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
            if !seen.insert(key).inserted { throw error("duplicate key '\(key.excerpt)'", at: keyStart) }
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
        let isCollection = current == UInt8(ascii: "[") || current == UInt8(ascii: "{")
        if isCollection { try enterCollection() }
        defer { if isCollection { leaveCollection() } }
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
            var seen: Set<String> = []
            while true {
                try skipFlowSpace()
                if current == UInt8(ascii: "}") { pos += 1; return .map(entries) }
                if atEnd { throw error("unclosed '{': no '}' before the end of the file", at: open) }
                let keyStart = pos
                let key = try flowKey()
                // Most flow mappings are small, where a scan beats hashing every key; a big
                // one switches to a set, so parsing stays linear.
                if entries.count < 16 {
                    if entries.contains(where: { $0.key == key }) { throw error("duplicate key '\(key.excerpt)'", at: keyStart) }
                } else {
                    if seen.isEmpty { seen = Set(entries.map(\.key)) }
                    if !seen.insert(key).inserted { throw error("duplicate key '\(key.excerpt)'", at: keyStart) }
                }
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
        let utf8 = Array(text.utf8)
        if YAMLScalars.isInt(utf8) {
            guard let value = YAMLScalars.integer(text) else {
                if YAMLScalars.lacksDigits(text) {
                    throw error("'\(text.excerpt)' reads as an integer but has no digits; quote it to keep it as text", at: start)
                }
                throw error("integer '\(text.excerpt)' is outside the 64-bit range (-9223372036854775808 to 9223372036854775807); quote it to keep it as text", at: start)
            }
            return .int(value)
        }
        if YAMLScalars.isFloat(utf8) { return .double(YAMLScalars.double(text)) }
        if YAMLScalars.isTimestamp(utf8) {
            throw error("'\(text.excerpt)' reads as a date, which configs do not support; quote it to keep it as text", at: start)
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
}
