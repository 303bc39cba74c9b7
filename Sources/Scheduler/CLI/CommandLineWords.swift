/// Splits a command line into words the way sh would for the simple cases we run without
/// a shell, and tells when a line needs a real shell.
public enum CommandLineWords {
    /// Characters that make a line shell syntax: pipes, redirections, substitutions,
    /// globs, quoting, comments, grouping.
    private static let shellCharacters: Set<Character> = [
        "|", "&", ";", "<", ">", "(", ")", "$", "`", "\\", "\"", "'", "*", "?", "[", "]", "#", "~", "!", "{", "}",
    ]

    /// True when the line can only be run correctly by /bin/sh.
    public static func needsShell(_ line: String) -> Bool {
        if line.contains(where: { shellCharacters.contains($0) || $0 == "\n" }) { return true }
        // A leading VAR=value word is an assignment, which only a shell understands.
        if let first = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first,
           let eq = first.firstIndex(of: "="), eq != first.startIndex {
            return true
        }
        return false
    }

    /// Words separated by blanks, honouring '...' and "..." quotes and backslash escapes
    /// (no expansions). Used for `--runner` templates.
    public static func split(_ line: String) throws(UsageError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = Array(line).makeIterator()
        while let ch = iterator.next() {
            switch ch {
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let c = iterator.next() {
                    if c == "'" { closed = true; break }
                    current.append(c)
                }
                if !closed { throw UsageError("unclosed ' quote in: \(line)") }
            case "\"":
                inWord = true
                var closed = false
                while let c = iterator.next() {
                    if c == "\"" { closed = true; break }
                    if c == "\\", let escaped = iterator.next() {
                        if !["\"", "\\", "$", "`"].contains(escaped) { current.append("\\") }
                        current.append(escaped)
                        continue
                    }
                    current.append(c)
                }
                if !closed { throw UsageError("unclosed \" quote in: \(line)") }
            case "\\":
                inWord = true
                if let escaped = iterator.next() { current.append(escaped) }
            default:
                inWord = true
                current.append(ch)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
