/// When a shell line is one simple command, the shell can `exec` it: the program then
/// takes the shell's place, and whoever waits for it sees how it really ended (killed by
/// SIGKILL, not the shell's exit code 137).
extension CommandLineWords {
    /// argv that runs `line` under /bin/sh: `sh -c 'exec LINE'` for one simple command,
    /// else `sh -c LINE`.
    public static func shellArgv(_ line: String) -> [String] {
        ["/bin/sh", "-c", isSimpleCommand(line) ? "exec " + line : line]
    }

    /// True when `line` is one simple command that `exec` can take over: no unquoted
    /// `;` `&` `|` line break `(` `)` `{` `}` outside quotes and substitutions (`2>&1` and
    /// `>|` are redirections, not separators), and a first word that is a plain program
    /// name: not an assignment, a redirection, an expansion, or a shell keyword or builtin
    /// with no program behind it. Conservative: anything unclear answers false.
    public static func isSimpleCommand(_ line: String) -> Bool {
        let bytes = Array(line.utf8)
        var index = 0
        var firstWord: [UInt8]?
        var word: [UInt8] = []
        var inWord = false
        // The first word as written is plain: no quotes, escapes or expansions in it.
        var firstIsPlain = true

        func endWord() {
            if inWord, firstWord == nil { firstWord = word }
            word.removeAll(keepingCapacity: true)
            inWord = false
        }

        while index < bytes.count {
            let byte = bytes[index]
            let previous = index > 0 ? bytes[index - 1] : nil
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                endWord()
                index += 1
                continue
            case UInt8(ascii: "#") where !inWord:
                // A comment runs to the end of its line (a line break after it is still a
                // separator: `cmd # note\nnext` is two commands).
                endWord()
                index = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                continue
            case UInt8(ascii: ";"), UInt8(ascii: "\n"), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: "{"), UInt8(ascii: "}"):
                return false
            case UInt8(ascii: "&"), UInt8(ascii: "|"):
                // `2>&1`, `<&0`, `>|file`: part of a redirection.
                guard previous == UInt8(ascii: ">") || previous == UInt8(ascii: "<"), byte == UInt8(ascii: "&") || previous == UInt8(ascii: ">") else {
                    return false
                }
            case UInt8(ascii: "'"):
                guard let close = bytes[(index + 1)...].firstIndex(of: UInt8(ascii: "'")) else { return false }
                if firstWord == nil { firstIsPlain = false }
                inWord = true
                index = close + 1
                continue
            case UInt8(ascii: "\""):
                guard let close = skipDoubleQuoted(bytes, from: index + 1) else { return false }
                if firstWord == nil { firstIsPlain = false }
                inWord = true
                index = close + 1
                continue
            case UInt8(ascii: "\\"):
                if firstWord == nil { firstIsPlain = false }
                inWord = true
                index += 2
                continue
            case UInt8(ascii: "`"), UInt8(ascii: "$"):
                guard let end = skipExpansion(bytes, at: index) else { return false }
                if firstWord == nil { firstIsPlain = false }
                inWord = true
                index = end
                continue
            default:
                break
            }
            inWord = true
            word.append(byte)
            index += 1
        }
        endWord()
        guard let first = firstWord, firstIsPlain, !first.isEmpty else { return false }
        // A redirection or a glob first, or an assignment (NAME=...).
        if first.contains(where: { "<>*?[".utf8.contains($0) }) { return false }
        if let equals = first.firstIndex(of: UInt8(ascii: "=")), isName(first[..<equals]) { return false }
        return !shellOnlyWords.contains(String(decoding: first, as: UTF8.self))
    }

    /// Keywords, builtins that have no program of the same name to exec, and builtins
    /// whose program behaves otherwise (dash's `echo` reads `\t`, /bin/echo does not; `pwd`,
    /// `kill`, `test`): those lines keep the shell, as written. (An array:
    /// a `--commands` file is read before the first task starts, and a Set's first use
    /// costs the runtime a conformance scan.)
    static let shellOnlyWords: [String] = [
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "!", "[[", "]]",
        "{", "}", "function", "select", "time", "coproc", ".", ":", "source", "eval", "exec", "exit", "export",
        "readonly", "return", "set", "shift", "trap", "unset", "alias", "unalias", "cd", "read", "wait", "jobs",
        "fg", "bg", "umask", "ulimit", "type", "command", "getopts", "hash", "local", "break", "continue", "times",
        "let", "declare", "typeset", "builtin", "enable", "shopt", "disown", "suspend", "logout", "pushd", "popd",
        "dirs", "history", "fc", "mapfile", "readarray", "bind", "caller", "compgen", "complete",
        "echo", "printf", "test", "[", "true", "false", "pwd", "kill",
    ]

    private static func isName(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// The index of the `"` that closes a double-quoted string whose text starts at
    /// `start`, skipping escapes and substitutions in it; nil when it is not closed.
    private static func skipDoubleQuoted(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""): return index
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "`"), UInt8(ascii: "$"):
                guard let end = skipExpansion(bytes, at: index) else { return nil }
                index = end
            default: index += 1
            }
        }
        return nil
    }

    /// The index just after the expansion that starts at `index` (a `$` or a backquote):
    /// `$(…)` and `$((…))` to the matching parenthesis, `${…}` to the matching brace
    /// (quotes inside honoured), `` `…` `` to the next unescaped backquote, and a plain
    /// `$NAME` or `$` is one byte. Nil when it is not closed.
    private static func skipExpansion(_ bytes: [UInt8], at index: Int) -> Int? {
        if bytes[index] == UInt8(ascii: "`") {
            var i = index + 1
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "\\") { i += 2; continue }
                if bytes[i] == UInt8(ascii: "`") { return i + 1 }
                i += 1
            }
            return nil
        }
        guard index + 1 < bytes.count else { return index + 1 }
        let open = bytes[index + 1]
        guard open == UInt8(ascii: "(") || open == UInt8(ascii: "{") else { return index + 1 }
        let close = open == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "}")
        var depth = 1
        var i = index + 2
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "\\"):
                i += 2
                continue
            case UInt8(ascii: "'"):
                guard let end = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "'")) else { return nil }
                i = end + 1
                continue
            case UInt8(ascii: "\""):
                guard let end = skipDoubleQuoted(bytes, from: i + 1) else { return nil }
                i = end + 1
                continue
            case UInt8(ascii: "`"), UInt8(ascii: "$"):
                guard let end = skipExpansion(bytes, at: i) else { return nil }
                i = end
                continue
            case open:
                depth += 1
            case close:
                depth -= 1
                if depth == 0 { return i + 1 }
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
