/// Splits a command line into words the way sh would for the simple cases we run without
/// a shell, and tells when a line needs a real shell.
public enum CommandLineWords {
    /// True when the line can only be run correctly by /bin/sh.
    public static func needsShell(_ line: String) -> Bool {
        // Bytes, not Characters: every character that matters is ASCII, and a commands file
        // may hold 100,000 lines.
        if line.utf8.contains(where: isShellSyntax) { return true }
        // A leading VAR=value word is an assignment, which only a shell understands.
        let first = line.utf8.drop(while: isBlank).prefix(while: { !isBlank($0) })
        if let eq = first.firstIndex(of: UInt8(ascii: "=")), eq != first.startIndex { return true }
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

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// Words separated by blanks, honouring '...' and "..." quotes and backslash escapes
    /// (no expansions). Used for `--runner` templates and plain `--commands` lines.
    public static func split(_ line: String) throws(UsageError) -> [String] {
        // Bytes: quotes, blanks and backslashes are ASCII, and no byte of a multi-byte
        // UTF-8 character is.
        var words: [String] = []
        var current: [UInt8] = []
        var inWord = false
        var iterator = line.utf8.makeIterator()
        func endWord() {
            if inWord { words.append(String(decoding: current, as: UTF8.self)) }
            current.removeAll(keepingCapacity: true)
            inWord = false
        }
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"):
                endWord()
            case UInt8(ascii: "'"):
                inWord = true
                var closed = false
                while let b = iterator.next() {
                    if b == UInt8(ascii: "'") { closed = true; break }
                    current.append(b)
                }
                if !closed { throw UsageError("unclosed ' quote in: \(line)") }
            case UInt8(ascii: "\""):
                inWord = true
                var closed = false
                while let b = iterator.next() {
                    if b == UInt8(ascii: "\"") { closed = true; break }
                    if b == UInt8(ascii: "\\"), let escaped = iterator.next() {
                        // Inside double quotes a backslash escapes only these four.
                        if !"\"\\$`".utf8.contains(escaped) { current.append(b) }
                        current.append(escaped)
                        continue
                    }
                    current.append(b)
                }
                if !closed { throw UsageError("unclosed \" quote in: \(line)") }
            case UInt8(ascii: "\\"):
                inWord = true
                if let escaped = iterator.next() { current.append(escaped) }
            default:
                inWord = true
                current.append(byte)
            }
        }
        endWord()
        return words
    }
}
