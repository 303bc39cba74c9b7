/// Splits a command line into words the way sh would for the simple cases we run without
/// a shell, and tells when a line needs a real shell.
public enum CommandLineWords {
    /// True when the line can only be run correctly by /bin/sh.
    public static func needsShell(_ line: String) -> Bool {
        var line = line
        return line.withUTF8 { needsShell($0) }
    }

    /// The same for a line's UTF-8 bytes. Bytes, not Characters: every character that
    /// matters is ASCII, and a commands file may hold 100,000 lines.
    private static func needsShell(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        if line.contains(where: isShellSyntax) { return true }
        // A leading VAR=value word is an assignment, which only a shell understands.
        var index = 0
        while index < line.count && isBlank(line[index]) { index += 1 }
        let wordStart = index
        while index < line.count && !isBlank(line[index]) {
            if line[index] == UInt8(ascii: "=") { return index != wordStart }
            index += 1
        }
        return false
    }

    /// Pipes, redirections, substitutions, globs, quoting, comments, grouping, line breaks.
    private static func isShellSyntax(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "|"), UInt8(ascii: "&"), UInt8(ascii: ";"), UInt8(ascii: "<"), UInt8(ascii: ">"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "$"), UInt8(ascii: "`"), UInt8(ascii: "\\"),
             UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "#"), UInt8(ascii: "~"), UInt8(ascii: "!"), UInt8(ascii: "{"),
             UInt8(ascii: "}"), UInt8(ascii: "\n"):
            return true
        default:
            return false
        }
    }

    /// True when a quote opened on the line is not closed by its end, read as sh reads
    /// quotes: `\` escapes outside single quotes, `'…'` holds everything, `"…"` honours `\`,
    /// and an unquoted `#` at a word's start begins a comment. (Quotes nested in `$(…)`
    /// inside `"…"` pair up among themselves, so the scan's answer holds for them too.)
    public static func hasUnclosedQuote(_ line: String) -> Bool {
        var quote: UInt8 = 0
        var escaped = false
        var previous = UInt8(ascii: " ")
        for byte in line.utf8 {
            defer { previous = byte }
            if escaped { escaped = false; continue }
            switch quote {
            case UInt8(ascii: "'"):
                if byte == quote { quote = 0 }
            case UInt8(ascii: "\""):
                if byte == UInt8(ascii: "\\") { escaped = true } else if byte == quote { quote = 0 }
            default:
                if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") { quote = byte }
                else if byte == UInt8(ascii: "#") && (isBlank(previous) || previous == UInt8(ascii: ";")) { return false }
            }
        }
        return quote != 0
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// The runs between blanks, decoded straight into one array sized for a typical line.
    private static func plainWords(_ line: UnsafeBufferPointer<UInt8>) -> [String] {
        var words: [String] = []
        words.reserveCapacity(8)
        var start = 0
        while start < line.count {
            if isBlank(line[start]) || line[start] == UInt8(ascii: "\n") { start += 1; continue }
            var end = start + 1
            while end < line.count && !isBlank(line[end]) && line[end] != UInt8(ascii: "\n") { end += 1 }
            words.append(String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self))
            start = end
        }
        return words
    }

    /// Words separated by blanks, honouring '...' and "..." quotes and backslash escapes
    /// (no expansions). Used for `--runner` templates and plain `--commands` lines.
    public static func split(_ line: String) throws(UsageError) -> [String] {
        var line = line
        // withUTF8's body cannot throw a typed error: carry it out as a value.
        let result: Result<[String], UsageError> = line.withUTF8 { bytes in
            do throws(UsageError) { return .success(try split(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The same for a line's UTF-8 bytes: quotes, blanks and backslashes are ASCII, and no
    /// byte of a multi-byte UTF-8 character is.
    private static func split(_ line: UnsafeBufferPointer<UInt8>) throws(UsageError) -> [String] {
        // Most lines quote and escape nothing: their words are just the runs between blanks.
        if !line.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return plainWords(line)
        }
        var words: [String] = []
        var current: [UInt8] = []
        var inWord = false
        var index = 0
        func next() -> UInt8? {
            guard index < line.count else { return nil }
            defer { index += 1 }
            return line[index]
        }
        func endWord() {
            if inWord { words.append(String(decoding: current, as: UTF8.self)) }
            current.removeAll(keepingCapacity: true)
            inWord = false
        }
        func unclosed(_ quote: String) -> UsageError {
            UsageError("unclosed \(quote) quote in: \(String(decoding: line, as: UTF8.self))")
        }
        while let byte = next() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"):
                endWord()
            case UInt8(ascii: "'"):
                inWord = true
                var closed = false
                while let b = next() {
                    if b == UInt8(ascii: "'") { closed = true; break }
                    current.append(b)
                }
                if !closed { throw unclosed("'") }
            case UInt8(ascii: "\""):
                inWord = true
                var closed = false
                while let b = next() {
                    if b == UInt8(ascii: "\"") { closed = true; break }
                    if b == UInt8(ascii: "\\"), let escaped = next() {
                        // Inside double quotes a backslash escapes only these four.
                        if !"\"\\$`".utf8.contains(escaped) { current.append(b) }
                        current.append(escaped)
                        continue
                    }
                    current.append(b)
                }
                if !closed { throw unclosed("\"") }
            case UInt8(ascii: "\\"):
                inWord = true
                if let escaped = next() { current.append(escaped) }
            default:
                inWord = true
                current.append(byte)
            }
        }
        endWord()
        return words
    }
}
