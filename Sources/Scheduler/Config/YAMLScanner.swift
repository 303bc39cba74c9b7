/// One token of a YAML 1.1 stream (`start`: the byte offset where it begins).
struct YAMLToken {
    enum Kind: Equatable {
        case streamEnd, directive, documentStart, documentEnd
        case blockSequenceStart, blockMappingStart, blockEnd
        case flowSequenceStart, flowSequenceEnd, flowMappingStart, flowMappingEnd
        case key, value, blockEntry, flowEntry
        case alias, anchor, tag, scalar
    }

    /// How a scalar was written: plain scalars are resolved (int, bool, ...), the others are strings.
    enum Style: Equatable { case plain, singleQuoted, doubleQuoted, literal, folded }

    var kind: Kind
    var start: Int
    /// A scalar's value, an alias's or anchor's name, a tag's suffix, or a %TAG
    /// directive's prefix.
    var text = ""
    /// A directive's name (`YAML`, `TAG`).
    var name = ""
    /// A tag's handle (`!`, `!!`, `!e!`; nil for a verbatim `!<...>` tag); a %TAG
    /// directive's handle.
    var handle: String?
    var style = Style.plain
    /// A key written with `?` rather than found before a `:`.
    var isExplicitKey = false
    /// A %YAML directive's major version.
    var major = 0

    init(_ kind: Kind, at start: Int) {
        self.kind = kind
        self.start = start
    }

    /// What the token is called in messages.
    var described: String {
        switch kind {
        case .streamEnd: return "the end of the file"
        case .directive: return "a directive"
        case .documentStart: return "'---'"
        case .documentEnd: return "'...'"
        case .blockSequenceStart, .blockEntry: return "a list item ('- ')"
        case .blockMappingStart: return "a mapping"
        case .blockEnd: return "a less indented line"
        case .flowSequenceStart: return "'['"
        case .flowSequenceEnd: return "']'"
        case .flowMappingStart: return "'{'"
        case .flowMappingEnd: return "'}'"
        case .key: return isExplicitKey ? "'?'" : "a key"
        case .value: return "':'"
        case .flowEntry: return "','"
        case .alias: return "an alias ('*')"
        case .anchor: return "an anchor ('&')"
        case .tag: return "a tag ('!')"
        case .scalar: return "a value"
        }
    }
}

/// Splits UTF-8 YAML into tokens exactly as PyYAML's scanner (`yaml/scanner.py`, YAML 1.1)
/// does: indentation, simple keys, flow collections, anchors, tags, and the five scalar
/// styles with their line folding. Only its messages are our own.
///
/// The input has been through `ConfigEncoding` (no NUL, no NEL/LS/PS, no byte order mark),
/// so 0 marks the end and every line break is LF, CR LF or CR. Work is linear in the input:
/// a simple key is looked for within one line and 1,024 characters, as PyYAML does, and
/// flow collections nest at most `ConfigParser.maxDepth` levels.
struct YAMLScanner {
    let bytes: [UInt8]
    let source: String

    private var pos = 0
    /// PyYAML's marks: characters (not bytes) from the start and from the line's start.
    private var index = 0
    private var line = 0
    private var column = 0

    private var tokens: [YAMLToken] = []
    private var head = 0
    private var tokensTaken = 0
    private var done = false

    private var flowLevel = 0
    private var indent = -1
    private var indents: [Int] = []
    private var allowSimpleKey = true
    /// At most one a flow level: where a key may have started, if a ':' follows.
    private var simpleKeys: [SimpleKey] = []
    /// A key dropped for being longer than 1,024 characters, to name it if its ':' comes.
    private var overlongKey: SimpleKey?

    private struct SimpleKey {
        var tokenNumber: Int
        var required: Bool
        var index: Int
        var line: Int
        var column: Int
        var offset: Int
        var level: Int
    }

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    func error(_ message: String, at offset: Int) -> ConfigError {
        let (line, column) = ConfigError.lineAndColumn(of: offset, in: bytes)
        return ConfigError(source: source, line: line, column: column, message: message)
    }

    // MARK: - Tokens out

    /// The next token, left in place.
    mutating func peekToken() throws(ConfigError) -> YAMLToken {
        while try needMoreTokens() { try fetchMoreTokens() }
        if head == tokens.count { return YAMLToken(.streamEnd, at: bytes.count) }
        return tokens[head]
    }

    mutating func check(_ kinds: YAMLToken.Kind...) throws(ConfigError) -> Bool {
        kinds.contains(try peekToken().kind)
    }

    /// The next token, taken.
    mutating func next() throws(ConfigError) -> YAMLToken {
        let token = try peekToken()
        if head < tokens.count {
            head += 1
            tokensTaken += 1
            if head >= 64 && head * 2 >= tokens.count {
                tokens.removeFirst(head)
                head = 0
            }
        }
        return token
    }

    private mutating func needMoreTokens() throws(ConfigError) -> Bool {
        if done { return false }
        if head == tokens.count { return true }
        try staleSimpleKeys()
        return simpleKeys.contains { $0.tokenNumber == tokensTaken }
            && !simpleKeys.contains { $0.tokenNumber < tokensTaken }
    }

    // MARK: - Characters

    @inline(__always) private func peek(_ offset: Int = 0) -> UInt8 {
        pos + offset < bytes.count ? bytes[pos + offset] : 0
    }

    @inline(__always) private static func isBreak(_ c: UInt8) -> Bool { c == 0x0A || c == 0x0D }
    @inline(__always) private static func isBreakOrEnd(_ c: UInt8) -> Bool { c == 0x0A || c == 0x0D || c == 0 }
    /// PyYAML's `'\0 \t\r\n…'`.
    @inline(__always) private static func isBlankOrEnd(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || isBreakOrEnd(c) }
    /// `'\0 \r\n…'`: what may follow a tag or a directive's parts (a tab may not).
    @inline(__always) private static func isSpaceOrEnd(_ c: UInt8) -> Bool { c == 0x20 || isBreakOrEnd(c) }
    @inline(__always) private static func isWordCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
    }
    @inline(__always) private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    /// Moves past `count` bytes, keeping PyYAML's line, column and character index.
    private mutating func forward(_ count: Int = 1) {
        var left = count
        while left > 0 && pos < bytes.count {
            let c = bytes[pos]
            pos += 1
            left -= 1
            if c == 0x0A || (c == 0x0D && (pos == bytes.count || bytes[pos] != 0x0A)) {
                line += 1
                column = 0
                index += 1
            } else if c & 0xC0 != 0x80 {
                column += 1
                index += 1
            }
        }
    }

    /// Takes a line break (LF, CR LF or CR); true when there was one.
    private mutating func scanLineBreak() -> Bool {
        switch peek() {
        case 0x0D: forward(peek(1) == 0x0A ? 2 : 1); return true
        case 0x0A: forward(); return true
        default: return false
        }
    }

    private func text(_ from: Int, _ to: Int) -> String { String(decoding: bytes[from..<to], as: UTF8.self) }

    /// True at `---` or `...` followed by a blank, a break or the end.
    private func atDocumentIndicator(_ mark: UInt8) -> Bool {
        peek() == mark && peek(1) == mark && peek(2) == mark && Self.isBlankOrEnd(peek(3))
    }

    private func describe(_ c: UInt8) -> String {
        switch c {
        case 0: return "the end of the file"
        case 0x09: return "a tab"
        case 0x0A, 0x0D: return "the end of the line"
        case 0x20: return "a space"
        default:
            var end = pos + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            return "'\(text(pos, min(end, bytes.count)))'"
        }
    }

    // MARK: - Fetching

    private mutating func fetchMoreTokens() throws(ConfigError) {
        try scanToNextToken()
        try staleSimpleKeys()
        unwindIndent(column)
        let c = peek()
        switch c {
        case 0: return try fetchStreamEnd()
        case UInt8(ascii: "%") where column == 0: return try fetchDirective()
        case UInt8(ascii: "-") where column == 0 && atDocumentIndicator(c),
             UInt8(ascii: ".") where column == 0 && atDocumentIndicator(c):
            return try fetchDocumentIndicator(c == UInt8(ascii: "-") ? .documentStart : .documentEnd)
        case UInt8(ascii: "["): return try fetchFlowCollectionStart(.flowSequenceStart)
        case UInt8(ascii: "{"): return try fetchFlowCollectionStart(.flowMappingStart)
        case UInt8(ascii: "]"): return try fetchFlowCollectionEnd(.flowSequenceEnd)
        case UInt8(ascii: "}"): return try fetchFlowCollectionEnd(.flowMappingEnd)
        case UInt8(ascii: ","): return try fetchFlowEntry()
        case UInt8(ascii: "-") where Self.isBlankOrEnd(peek(1)): return try fetchBlockEntry()
        case UInt8(ascii: "?") where flowLevel > 0 || Self.isBlankOrEnd(peek(1)): return try fetchKey()
        case UInt8(ascii: ":") where flowLevel > 0 || Self.isBlankOrEnd(peek(1)): return try fetchValue()
        case UInt8(ascii: "*"): return try fetchAnchor(.alias)
        case UInt8(ascii: "&"): return try fetchAnchor(.anchor)
        case UInt8(ascii: "!"): return try fetchTag()
        case UInt8(ascii: "|") where flowLevel == 0: return try fetchBlockScalar(folded: false)
        case UInt8(ascii: ">") where flowLevel == 0: return try fetchBlockScalar(folded: true)
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return try fetchFlowScalar(double: c == UInt8(ascii: "\""))
        default:
            if checkPlain() { return try fetchPlain() }
        }
        if c == 0x09 {
            throw error("a tab where YAML expects a space or a value; separate and indent with spaces only", at: pos)
        }
        throw error("\(describe(c)) cannot start a value here; quote the value if it is text", at: pos)
    }

    private func checkPlain() -> Bool {
        let c = peek()
        switch c {
        case 0, 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
             UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
             UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
            return false
        case UInt8(ascii: "-"):
            return !Self.isBlankOrEnd(peek(1))
        case UInt8(ascii: "?"), UInt8(ascii: ":"):
            return flowLevel == 0 && !Self.isBlankOrEnd(peek(1))
        default:
            return true
        }
    }

    private mutating func scanToNextToken() throws(ConfigError) {
        while true {
            while peek() == 0x20 { forward() }
            if peek() == UInt8(ascii: "#") {
                while !Self.isBreakOrEnd(peek()) { forward() }
            }
            guard scanLineBreak() else { return }
            if flowLevel == 0 { allowSimpleKey = true }
        }
    }

    // MARK: Simple keys

    private mutating func staleSimpleKeys() throws(ConfigError) {
        var at = 0
        while at < simpleKeys.count {
            let key = simpleKeys[at]
            if key.line != line || index - key.index > 1024 {
                if key.line == line { overlongKey = key }
                if key.required { throw missingColon(key) }
                simpleKeys.remove(at: at)
            } else {
                at += 1
            }
        }
    }

    private func missingColon(_ key: SimpleKey) -> ConfigError {
        error("expected ':' after this key on the same line; write 'key: value' (a key ends at ': ')", at: key.offset)
    }

    private mutating func saveSimpleKey() throws(ConfigError) {
        guard allowSimpleKey else { return }
        try removeSimpleKey()
        simpleKeys.append(SimpleKey(tokenNumber: tokensTaken + tokens.count - head, required: flowLevel == 0 && indent == column,
                                    index: index, line: line, column: column, offset: pos, level: flowLevel))
    }

    private mutating func removeSimpleKey() throws(ConfigError) {
        guard let at = simpleKeys.firstIndex(where: { $0.level == flowLevel }) else { return }
        if simpleKeys[at].required { throw missingColon(simpleKeys[at]) }
        simpleKeys.remove(at: at)
    }

    // MARK: Indentation

    private mutating func unwindIndent(_ column: Int) {
        guard flowLevel == 0 else { return }
        while indent > column {
            indent = indents.popLast() ?? -1
            tokens.append(YAMLToken(.blockEnd, at: pos))
        }
    }

    private mutating func addIndent(_ column: Int) -> Bool {
        guard indent < column else { return false }
        indents.append(indent)
        indent = column
        return true
    }

    // MARK: Indicators

    private mutating func fetchStreamEnd() throws(ConfigError) {
        unwindIndent(-1)
        try removeSimpleKey()
        allowSimpleKey = false
        simpleKeys = []
        tokens.append(YAMLToken(.streamEnd, at: pos))
        done = true
    }

    private mutating func fetchDocumentIndicator(_ kind: YAMLToken.Kind) throws(ConfigError) {
        unwindIndent(-1)
        try removeSimpleKey()
        allowSimpleKey = false
        tokens.append(YAMLToken(kind, at: pos))
        forward(3)
    }

    private mutating func fetchFlowCollectionStart(_ kind: YAMLToken.Kind) throws(ConfigError) {
        try saveSimpleKey()
        if flowLevel >= ConfigParser.maxDepth {
            throw error("lists and mappings nested more than \(ConfigParser.maxDepth) levels deep; flatten the config", at: pos)
        }
        flowLevel += 1
        allowSimpleKey = true
        tokens.append(YAMLToken(kind, at: pos))
        forward()
    }

    private mutating func fetchFlowCollectionEnd(_ kind: YAMLToken.Kind) throws(ConfigError) {
        guard flowLevel > 0 else {
            throw error("'\(kind == .flowSequenceEnd ? "]" : "}")' closes nothing: no '\(kind == .flowSequenceEnd ? "[" : "{")' is open; quote the value if it is text", at: pos)
        }
        try removeSimpleKey()
        flowLevel -= 1
        allowSimpleKey = false
        tokens.append(YAMLToken(kind, at: pos))
        forward()
    }

    private mutating func fetchFlowEntry() throws(ConfigError) {
        allowSimpleKey = true
        try removeSimpleKey()
        tokens.append(YAMLToken(.flowEntry, at: pos))
        forward()
    }

    private mutating func fetchBlockEntry() throws(ConfigError) {
        if flowLevel == 0 {
            guard allowSimpleKey else {
                throw error("a list item ('- ') cannot start here; start it on a line of its own, indented under its key", at: pos)
            }
            if addIndent(column) { tokens.append(YAMLToken(.blockSequenceStart, at: pos)) }
        }
        allowSimpleKey = true
        try removeSimpleKey()
        tokens.append(YAMLToken(.blockEntry, at: pos))
        forward()
    }

    private mutating func fetchKey() throws(ConfigError) {
        if flowLevel == 0 {
            guard allowSimpleKey else { throw error("a '? ' key cannot start here", at: pos) }
            if addIndent(column) { tokens.append(YAMLToken(.blockMappingStart, at: pos)) }
        }
        allowSimpleKey = flowLevel == 0
        try removeSimpleKey()
        var token = YAMLToken(.key, at: pos)
        token.isExplicitKey = true
        tokens.append(token)
        forward()
    }

    private mutating func fetchValue() throws(ConfigError) {
        if let at = simpleKeys.firstIndex(where: { $0.level == flowLevel }) {
            let key = simpleKeys.remove(at: at)
            let insertAt = head + key.tokenNumber - tokensTaken
            tokens.insert(YAMLToken(.key, at: key.offset), at: insertAt)
            if flowLevel == 0 && addIndent(key.column) {
                tokens.insert(YAMLToken(.blockMappingStart, at: key.offset), at: insertAt)
            }
            allowSimpleKey = false
        } else {
            if flowLevel == 0 {
                guard allowSimpleKey else {
                    if let key = overlongKey, key.line == line {
                        throw error("a key longer than 1,024 characters (YAML's limit for a key written before ':'); shorten it", at: key.offset)
                    }
                    throw error("unexpected ':'; a value cannot hold 'key: value' on the same line (quote it if it is text, or put the mapping on the next lines, indented)", at: pos)
                }
                if addIndent(column) { tokens.append(YAMLToken(.blockMappingStart, at: pos)) }
            }
            allowSimpleKey = flowLevel == 0
            try removeSimpleKey()
        }
        tokens.append(YAMLToken(.value, at: pos))
        forward()
    }

    // MARK: Anchors, aliases, tags

    private mutating func fetchAnchor(_ kind: YAMLToken.Kind) throws(ConfigError) {
        try saveSimpleKey()
        allowSimpleKey = false
        let start = pos
        // The indicator ('&' or '*') is one byte. (Read back as `pos` right after
        // `forward()`, Swift 6.3.1's optimized build gave `start` here; .ci/run compares
        // the release build's reading with the debug build's.)
        let nameStart = start + 1
        forward()
        while Self.isWordCharacter(peek()) { forward() }
        let what = kind == .alias ? "an alias ('*')" : "an anchor ('&')"
        guard pos > nameStart else {
            throw error("\(what) needs a name of letters, digits, '-' or '_'; found \(describe(peek()))", at: start)
        }
        switch peek() {
        case 0, 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "]"),
             UInt8(ascii: "}"), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
            break
        default:
            throw error("\(what) name holds letters, digits, '-' and '_' only; found \(describe(peek()))", at: pos)
        }
        var token = YAMLToken(kind, at: start)
        token.text = text(nameStart, pos)
        tokens.append(token)
    }

    private mutating func fetchTag() throws(ConfigError) {
        try saveSimpleKey()
        allowSimpleKey = false
        let start = pos
        var token = YAMLToken(.tag, at: start)
        let next = peek(1)
        if next == UInt8(ascii: "<") {
            forward(2)
            token.text = try scanTagURI(start: start)
            guard peek() == UInt8(ascii: ">") else { throw error("a verbatim tag '!<...>' needs its closing '>'", at: pos) }
            forward()
        } else if Self.isBlankOrEnd(next) {
            token.handle = "!"
            token.text = ""
            forward()
        } else {
            var length = 1
            var usesHandle = false
            while !Self.isSpaceOrEnd(peek(length)) {
                if peek(length) == UInt8(ascii: "!") { usesHandle = true; break }
                length += 1
            }
            if usesHandle {
                token.handle = try scanTagHandle(start: start)
            } else {
                token.handle = "!"
                forward()
            }
            token.text = try scanTagURI(start: start)
        }
        guard Self.isSpaceOrEnd(peek()) else {
            throw error("a tag must be followed by a space; found \(describe(peek()))", at: pos)
        }
        tokens.append(token)
    }

    /// `!`, `!!` or `!word!`.
    private mutating func scanTagHandle(start: Int) throws(ConfigError) -> String {
        let from = pos
        guard peek() == UInt8(ascii: "!") else { throw error("expected '!' to start a tag handle", at: pos) }
        var length = 1
        if peek(1) != 0x20 {
            while Self.isWordCharacter(peek(length)) { length += 1 }
            guard peek(length) == UInt8(ascii: "!") else {
                forward(length)
                throw error("a tag handle is '!', '!!' or '!name!'; found \(describe(peek()))", at: pos)
            }
            length += 1
        }
        forward(length)
        return text(from, pos)
    }

    /// A tag's URI characters, with %XX escapes decoded.
    private mutating func scanTagURI(start: Int) throws(ConfigError) -> String {
        var out: [UInt8] = []
        while true {
            let c = peek()
            if c == UInt8(ascii: "%") {
                forward()
                guard Self.isHexDigit(peek()), Self.isHexDigit(peek(1)), let code = UInt8(text(pos, pos + 2), radix: 16) else {
                    throw error("a '%' in a tag needs two hex digits", at: pos)
                }
                out.append(code)
                forward(2)
                continue
            }
            let isURICharacter = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || "-;/?:@&=+$,_.!~*'()[]".utf8.contains(c)
            guard isURICharacter else { break }
            out.append(c)
            forward()
        }
        guard !out.isEmpty else { throw error("a tag needs a name after '!'; found \(describe(peek()))", at: pos) }
        guard let decoded = String(validating: out, as: UTF8.self) else {
            throw error("a tag's %XX escapes are not UTF-8", at: start)
        }
        return decoded
    }

    // MARK: Directives

    private mutating func fetchDirective() throws(ConfigError) {
        unwindIndent(-1)
        try removeSimpleKey()
        allowSimpleKey = false
        let start = pos
        let nameStart = start + 1  // after the '%' (see fetchAnchor)
        forward()
        while Self.isWordCharacter(peek()) { forward() }
        guard pos > nameStart, Self.isSpaceOrEnd(peek()) else {
            throw error("a directive is '%YAML 1.1' or '%TAG ! prefix'; found \(describe(peek()))", at: pos)
        }
        var token = YAMLToken(.directive, at: start)
        token.name = text(nameStart, pos)
        switch token.name {
        case "YAML":
            while peek() == 0x20 { forward() }
            token.major = try directiveNumber()
            guard peek() == UInt8(ascii: ".") else { throw error("a %YAML version is written MAJOR.MINOR, as in '%YAML 1.1'", at: pos) }
            forward()
            _ = try directiveNumber()
            guard Self.isSpaceOrEnd(peek()) else { throw error("a %YAML version is written MAJOR.MINOR, as in '%YAML 1.1'", at: pos) }
        case "TAG":
            while peek() == 0x20 { forward() }
            token.handle = try scanTagHandle(start: start)
            guard peek() == 0x20 else { throw error("%TAG needs a space between the handle and the prefix", at: pos) }
            while peek() == 0x20 { forward() }
            token.text = try scanTagURI(start: start)
            guard Self.isSpaceOrEnd(peek()) else { throw error("%TAG's prefix must end the line", at: pos) }
        default:
            while !Self.isBreakOrEnd(peek()) { forward() }
        }
        while peek() == 0x20 { forward() }
        if peek() == UInt8(ascii: "#") {
            while !Self.isBreakOrEnd(peek()) { forward() }
        }
        guard Self.isBreakOrEnd(peek()) else { throw error("unexpected \(describe(peek())) after the directive", at: pos) }
        _ = scanLineBreak()
        tokens.append(token)
    }

    private mutating func directiveNumber() throws(ConfigError) -> Int {
        let from = pos
        while peek() >= 0x30 && peek() <= 0x39 { forward() }
        guard pos > from, pos - from <= 9, let number = Int(text(from, pos)) else {
            throw error("a %YAML version is written MAJOR.MINOR, as in '%YAML 1.1'", at: pos)
        }
        return number
    }

    // MARK: - Scalars

    private mutating func fetchBlockScalar(folded: Bool) throws(ConfigError) {
        allowSimpleKey = true
        try removeSimpleKey()
        tokens.append(try scanBlockScalar(folded: folded))
    }

    private mutating func fetchFlowScalar(double: Bool) throws(ConfigError) {
        try saveSimpleKey()
        allowSimpleKey = false
        tokens.append(try scanFlowScalar(double: double))
    }

    private mutating func fetchPlain() throws(ConfigError) {
        try saveSimpleKey()
        allowSimpleKey = false
        tokens.append(scanPlain())
    }

    /// `|` or `>` with optional chomping (`+`, `-`) and indentation (1-9) indicators.
    private mutating func scanBlockScalar(folded: Bool) throws(ConfigError) -> YAMLToken {
        let start = pos
        forward()
        // Chomping: nil clips (one final break), true keeps them all, false strips them.
        var chomping: Bool?
        var increment: Int?
        for _ in 0..<2 {
            let c = peek()
            if chomping == nil && (c == UInt8(ascii: "+") || c == UInt8(ascii: "-")) {
                chomping = c == UInt8(ascii: "+")
                forward()
            } else if increment == nil && c >= 0x30 && c <= 0x39 {
                guard c != 0x30 else {
                    throw error("a block scalar's indentation indicator is 1 to 9, not 0", at: pos)
                }
                increment = Int(c - 0x30)
                forward()
            }
        }
        guard Self.isSpaceOrEnd(peek()) else {
            throw error("after '\(folded ? ">" : "|")' only '+', '-', a digit 1-9 and a comment may follow on the line; found \(describe(peek()))", at: pos)
        }
        while peek() == 0x20 { forward() }
        if peek() == UInt8(ascii: "#") {
            while !Self.isBreakOrEnd(peek()) { forward() }
        }
        guard Self.isBreakOrEnd(peek()) else {
            throw error("after '\(folded ? ">" : "|")' only a comment may follow on the line; the text starts on the next line", at: pos)
        }
        _ = scanLineBreak()

        let minIndent = max(indent + 1, 1)
        var blockIndent: Int
        var breaks: Int
        if let increment {
            blockIndent = minIndent + increment - 1
            breaks = scanBlockScalarBreaks(blockIndent)
        } else {
            var maxIndent = 0
            breaks = 0
            while peek() == 0x20 || Self.isBreak(peek()) {
                if peek() == 0x20 {
                    forward()
                    maxIndent = max(maxIndent, column)
                } else {
                    _ = scanLineBreak()
                    breaks += 1
                }
            }
            blockIndent = max(minIndent, maxIndent)
        }

        var out: [UInt8] = []
        var lineBreak = false
        while column == blockIndent && peek() != 0 {
            out.append(contentsOf: repeatElement(0x0A, count: breaks))
            let leadingNonSpace = peek() != 0x20 && peek() != 0x09
            let from = pos
            while !Self.isBreakOrEnd(peek()) { forward() }
            out.append(contentsOf: bytes[from..<pos])
            lineBreak = scanLineBreak()
            breaks = scanBlockScalarBreaks(blockIndent)
            guard column == blockIndent && peek() != 0 else { break }
            if folded && lineBreak && leadingNonSpace && peek() != 0x20 && peek() != 0x09 {
                if breaks == 0 { out.append(0x20) }
            } else if lineBreak {
                out.append(0x0A)
            }
        }
        if chomping != false && lineBreak { out.append(0x0A) }
        if chomping == true { out.append(contentsOf: repeatElement(0x0A, count: breaks)) }
        var token = YAMLToken(.scalar, at: start)
        token.text = String(decoding: out, as: UTF8.self)
        token.style = folded ? .folded : .literal
        return token
    }

    /// Empty lines inside a block scalar: how many, leaving the position at `indent` spaces in.
    private mutating func scanBlockScalarBreaks(_ indent: Int) -> Int {
        var breaks = 0
        while column < indent && peek() == 0x20 { forward() }
        while Self.isBreak(peek()) {
            _ = scanLineBreak()
            breaks += 1
            while column < indent && peek() == 0x20 { forward() }
        }
        return breaks
    }

    private mutating func scanFlowScalar(double: Bool) throws(ConfigError) -> YAMLToken {
        let start = pos
        let quote = peek()
        forward()
        var out: [UInt8] = []
        try scanFlowScalarNonSpaces(double: double, start: start, into: &out)
        while peek() != quote {
            try scanFlowScalarSpaces(start: start, into: &out)
            try scanFlowScalarNonSpaces(double: double, start: start, into: &out)
        }
        forward()
        var token = YAMLToken(.scalar, at: start)
        token.text = String(decoding: out, as: UTF8.self)
        token.style = double ? .doubleQuoted : .singleQuoted
        return token
    }

    private mutating func scanFlowScalarNonSpaces(double: Bool, start: Int, into out: inout [UInt8]) throws(ConfigError) {
        while true {
            let from = pos
            while true {
                let c = peek()
                if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || Self.isBlankOrEnd(c) { break }
                forward()
            }
            out.append(contentsOf: bytes[from..<pos])
            let c = peek()
            if !double && c == UInt8(ascii: "'") && peek(1) == UInt8(ascii: "'") {
                out.append(c)
                forward(2)
            } else if (double && c == UInt8(ascii: "'")) || (!double && (c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\"))) {
                out.append(c)
                forward()
            } else if double && c == UInt8(ascii: "\\") {
                forward()
                try scanEscape(start: start, into: &out)
            } else {
                return
            }
        }
    }

    /// One escape after a backslash in a double-quoted scalar.
    private mutating func scanEscape(start: Int, into out: inout [UInt8]) throws(ConfigError) {
        let c = peek()
        let simple: String?
        switch c {
        case UInt8(ascii: "0"): simple = "\0"
        case UInt8(ascii: "a"): simple = "\u{07}"
        case UInt8(ascii: "b"): simple = "\u{08}"
        case UInt8(ascii: "t"), 0x09: simple = "\t"
        case UInt8(ascii: "n"): simple = "\n"
        case UInt8(ascii: "v"): simple = "\u{0B}"
        case UInt8(ascii: "f"): simple = "\u{0C}"
        case UInt8(ascii: "r"): simple = "\r"
        case UInt8(ascii: "e"): simple = "\u{1B}"
        case 0x20: simple = " "
        case UInt8(ascii: "\""): simple = "\""
        case UInt8(ascii: "\\"): simple = "\\"
        case UInt8(ascii: "/"): simple = "/"
        case UInt8(ascii: "N"): simple = "\u{85}"
        case UInt8(ascii: "_"): simple = "\u{A0}"
        case UInt8(ascii: "L"): simple = "\u{2028}"
        case UInt8(ascii: "P"): simple = "\u{2029}"
        default: simple = nil
        }
        if let simple {
            out.append(contentsOf: simple.utf8)
            forward()
            return
        }
        let digits: Int
        switch c {
        case UInt8(ascii: "x"): digits = 2
        case UInt8(ascii: "u"): digits = 4
        case UInt8(ascii: "U"): digits = 8
        case 0x0A, 0x0D:
            // An escaped line break joins the lines with nothing between.
            _ = scanLineBreak()
            try scanFlowScalarBreaks(start: start, into: &out)
            return
        default:
            throw error("unknown escape '\\\(c == 0 ? "" : describe(c).trimmingQuotes)' in a double-quoted string; write '\\\\' for a backslash", at: pos - 1)
        }
        let escape = pos - 1
        forward()
        for k in 0..<digits where !Self.isHexDigit(peek(k)) {
            throw error("escape '\\\(describe(c).trimmingQuotes)' needs \(digits) hex digits", at: escape)
        }
        guard let code = UInt32(text(pos, pos + digits), radix: 16), let scalar = Unicode.Scalar(code) else {
            throw error("escape '\\\(text(escape + 1, pos + digits))' is not a Unicode character", at: escape)
        }
        forward(digits)
        out.append(contentsOf: String(Character(scalar)).utf8)
    }

    private mutating func scanFlowScalarSpaces(start: Int, into out: inout [UInt8]) throws(ConfigError) {
        let from = pos
        while peek() == 0x20 || peek() == 0x09 { forward() }
        let c = peek()
        if c == 0 {
            throw error("unclosed quote: the string has no closing quote before the end of the file", at: start)
        } else if Self.isBreak(c) {
            _ = scanLineBreak()
            let before = out.count
            try scanFlowScalarBreaks(start: start, into: &out)
            if out.count == before { out.append(0x20) }
        } else {
            out.append(contentsOf: bytes[from..<pos])
        }
    }

    /// Line breaks inside a quoted scalar: one becomes a space (`scanFlowScalarSpaces`),
    /// each further one a newline.
    private mutating func scanFlowScalarBreaks(start: Int, into out: inout [UInt8]) throws(ConfigError) {
        while true {
            if column == 0 && (atDocumentIndicator(UInt8(ascii: "-")) || atDocumentIndicator(UInt8(ascii: "."))) {
                throw error("unclosed quote: a document marker ('---' or '...') inside the quoted string", at: start)
            }
            while peek() == 0x20 || peek() == 0x09 { forward() }
            guard Self.isBreak(peek()) else { return }
            _ = scanLineBreak()
            out.append(0x0A)
        }
    }

    private mutating func scanPlain() -> YAMLToken {
        let start = pos
        var out: [UInt8] = []
        let minIndent = indent + 1
        var spaces: [UInt8] = []
        var chunks = 0
        var firstChunkEnd = start
        while true {
            if peek() == UInt8(ascii: "#") { break }
            let from = pos
            var end = pos
            while end < bytes.count {
                let c = bytes[end]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { break }
                if c == UInt8(ascii: ":") {
                    let after = end + 1 < bytes.count ? bytes[end + 1] : 0
                    if Self.isBlankOrEnd(after) { break }
                    if flowLevel > 0 && (after == UInt8(ascii: ",") || after == UInt8(ascii: "[") || after == UInt8(ascii: "]")
                        || after == UInt8(ascii: "{") || after == UInt8(ascii: "}")) { break }
                }
                if flowLevel > 0 && (c == UInt8(ascii: ",") || c == UInt8(ascii: "?") || c == UInt8(ascii: "[") || c == UInt8(ascii: "]")
                    || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")) { break }
                end += 1
            }
            if end == from { break }
            allowSimpleKey = false
            if chunks == 0 {
                firstChunkEnd = end
            } else {
                if chunks == 1 { out.append(contentsOf: bytes[start..<firstChunkEnd]) }
                out.append(contentsOf: spaces)
                out.append(contentsOf: bytes[from..<end])
            }
            chunks += 1
            forward(end - from)
            guard let more = scanPlainSpaces(), !more.isEmpty, peek() != UInt8(ascii: "#"),
                  flowLevel > 0 || column >= minIndent else { break }
            spaces = more
        }
        var token = YAMLToken(.scalar, at: start)
        // Most plain scalars are one chunk: their text is the bytes as written.
        token.text = chunks == 1 ? text(start, firstChunkEnd) : String(decoding: out, as: UTF8.self)
        token.style = .plain
        return token
    }

    /// The spaces and line breaks after a chunk of a plain scalar, folded: nil or empty
    /// when the scalar ends here.
    private mutating func scanPlainSpaces() -> [UInt8]? {
        let from = pos
        while peek() == 0x20 { forward() }
        let whitespace = bytes[from..<pos]
        guard Self.isBreak(peek()) else { return Array(whitespace) }
        _ = scanLineBreak()
        allowSimpleKey = true
        if atDocumentIndicator(UInt8(ascii: "-")) || atDocumentIndicator(UInt8(ascii: ".")) { return nil }
        var breaks = 0
        while peek() == 0x20 || Self.isBreak(peek()) {
            if peek() == 0x20 {
                forward()
            } else {
                _ = scanLineBreak()
                breaks += 1
                if atDocumentIndicator(UInt8(ascii: "-")) || atDocumentIndicator(UInt8(ascii: ".")) { return nil }
            }
        }
        return breaks == 0 ? [0x20] : Array(repeating: 0x0A, count: breaks)
    }
}

private extension String {
    /// `'x'` → `x`, for quoting a character inside another message.
    var trimmingQuotes: String { hasPrefix("'") && hasSuffix("'") && count >= 2 ? String(dropFirst().dropLast()) : self }
}
