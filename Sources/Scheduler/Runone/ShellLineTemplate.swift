/// Fills `{name}` placeholders of a string `command:` (a /bin/sh line) so that each value
/// reaches the program as literal text, whatever quotes the placeholder sits in:
///
/// - bare (`--lr {lr}`, `--lr={lr}`): `'v'`, one word or part of the word around it;
/// - inside `"…"`: the double quote is closed, `'v'` written, and reopened: `"'v'"`;
/// - inside `'…'`: the single quote is closed, `'v'` written, and reopened: `''v''`;
/// - inside `$(…)`: as bare, whatever quotes the substitution itself sits in.
///
/// A `'` in a value is written `'\''`. So nothing in a value is ever read by the shell:
/// no `$`, backquote, quote, backslash, blank or line break in it has any effect.
///
/// The line is scanned once, left to right, keeping a stack of quoting contexts. A
/// placeholder inside backquotes or `${…}` cannot be quoted reliably (the shell reads
/// those twice), nor on a line after a here-document operator `<<` (the document's text is
/// expanded by the shell), and `${name}` with a known name is ambiguous, so those are
/// errors. `${NAME}` with a name that is not a placeholder is left to the shell.
/// Which `{…}` are placeholders is decided as `CommandTemplate.fill` always did: a `{`
/// reaches to the next `}`, and only a name of letters, digits and `_` is a placeholder.
enum ShellLineTemplate {
    private enum Context {
        /// Top level, or inside `$(…)` / `$((…))` (`depth`: parentheses open in it).
        case plain(depth: Int)
        case single
        case double
        case backquote
        /// Inside `${…}` (`depth`: braces open in it).
        case parameter(depth: Int)
        /// From a `#` that starts a word to the end of the line.
        case comment
    }

    static func fill(_ line: String, _ values: [String: String]) throws(UsageError) -> String {
        let scalars = Array(line.unicodeScalars)
        var out = String.UnicodeScalarView()
        var stack: [Context] = [.plain(depth: 0)]
        // Before this index, `{` starts no placeholder (it lies inside a `{…}` that was not one).
        var literalUntil = 0
        // The scalar before is an unescaped `$` that starts an expansion.
        var afterDollar = false
        // The scalar before is a backslash that would escape what comes next.
        var afterBackslash = false
        // A here-document (`<<`) was opened on this line: the lines after it are its text,
        // which the shell reads itself, so no placeholder may follow on a later line.
        var heredoc: (opened: Bool, bodyStarted: Bool) = (false, false)
        var index = 0

        while index < scalars.count {
            let scalar = scalars[index]
            let dollar = afterDollar
            let escaped = afterBackslash
            afterDollar = false
            afterBackslash = false
            let context = stack[stack.count - 1]

            if scalar == "{", index >= literalUntil {
                let (name, close) = placeholder(in: scalars, at: index)
                // `${NAME}` with a name that is no placeholder is the shell's own expansion.
                if let name, !(dollar && values[name] == nil) {
                    if heredoc.bodyStarted {
                        throw UsageError("placeholder {\(name)} in command comes after a here-document (<<), whose text the shell expands itself, so its value cannot be kept literal; pass it as an argument, or read $MULTIRUN_PARAM_\(CommandTemplate.environmentName(name)) in the script")
                    }
                    guard let value = values[name] else {
                        throw UsageError("placeholder {\(name)} in command has no value; add '\(name):' under params (known: \(values.keys.sorted().joined(separator: ", ")))")
                    }
                    let quoted = "'" + value.replacing("'", with: "'\\''") + "'"
                    // After a backslash, a line break first: the two vanish together (a line
                    // continuation), so the backslash escapes none of the quotes below.
                    let continuation = escaped ? "\n" : ""
                    switch context {
                    case .plain where !dollar: out.append(contentsOf: (continuation + quoted).unicodeScalars)
                    case .double where !dollar: out.append(contentsOf: (continuation + "\"" + quoted + "\"").unicodeScalars)
                    case .single: out.append(contentsOf: ("'" + quoted + "'").unicodeScalars)
                    case .comment: break  // nothing in a comment matters, and a line break in a value would end it
                    case .plain, .double:
                        throw UsageError("placeholder {\(name)} in command follows '$'; write {\(name)} without the '$' (runone fills it), or $MULTIRUN_PARAM_\(CommandTemplate.environmentName(name)) for the environment variable")
                    case .backquote, .parameter:
                        throw UsageError("placeholder {\(name)} in command is inside `…` or ${…}, where its value cannot be quoted safely; use $(…) instead of backquotes, or move it out of ${…}")
                    }
                    index = close + 1
                    continue
                }
                literalUntil = close + 1
            }

            let previous = out.last
            out.append(scalar)
            index += 1
            let next = index < scalars.count ? scalars[index] : nil
            // A backslash escapes the next scalar everywhere but inside '…' and comments.
            if scalar == "\\", let next, !backslashIsLiteral(context) {
                if next == "{", index >= literalUntil, placeholder(in: scalars, at: index).name != nil {
                    afterBackslash = true
                } else {
                    out.append(next)
                    index += 1
                }
                continue
            }
            if scalar == "\n", heredoc.opened { heredoc.bodyStarted = true }
            switch context {
            case .comment:
                if scalar == "\n" { stack.removeLast() }
            case .single:
                if scalar == "'" { stack.removeLast() }
            case .backquote:
                if scalar == "`" { stack.removeLast() }
            case .double:
                if scalar == "\"" { stack.removeLast() }
                else if scalar == "`" { stack.append(.backquote) }
                else if scalar == "$" { afterDollar = !dollar }
                else if scalar == "(", dollar { stack.append(.plain(depth: 1)) }
                else if scalar == "{", dollar { stack.append(.parameter(depth: 1)) }
            case .plain(let depth):
                if scalar == "<", previous == "<" { heredoc.opened = true }
                if scalar == "#", previous.map({ " \t\n;&|()<>".unicodeScalars.contains($0) }) ?? true { stack.append(.comment) }
                else if scalar == "'" { stack.append(.single) }
                else if scalar == "\"" { stack.append(.double) }
                else if scalar == "`" { stack.append(.backquote) }
                else if scalar == "$" { afterDollar = !dollar }
                else if scalar == "(", dollar { stack.append(.plain(depth: 1)) }
                else if scalar == "{", dollar { stack.append(.parameter(depth: 1)) }
                else if scalar == "(", depth > 0 { stack[stack.count - 1] = .plain(depth: depth + 1) }
                else if scalar == ")", depth > 0 {
                    stack[stack.count - 1] = .plain(depth: depth - 1)
                    if depth == 1 { stack.removeLast() }
                }
            case .parameter(let depth):
                if scalar == "'" { stack.append(.single) }
                else if scalar == "\"" { stack.append(.double) }
                else if scalar == "`" { stack.append(.backquote) }
                else if scalar == "$" { afterDollar = !dollar }
                else if scalar == "(", dollar { stack.append(.plain(depth: 1)) }
                else if scalar == "{" { stack[stack.count - 1] = .parameter(depth: depth + 1) }
                else if scalar == "}" {
                    stack[stack.count - 1] = .parameter(depth: depth - 1)
                    if depth == 1 { stack.removeLast() }
                }
            }
        }
        return String(out)
    }

    /// Inside '…' and comments a backslash is just a character.
    private static func backslashIsLiteral(_ context: Context) -> Bool {
        switch context {
        case .single, .comment: return true
        default: return false
        }
    }

    /// The `{` at `start` as `CommandTemplate.fill` reads it: the name of a placeholder
    /// (letters, digits and `_` up to the next `}`), or nil; and where that `}` is (the
    /// end of the line when there is none).
    private static func placeholder(in scalars: [Unicode.Scalar], at start: Int) -> (name: String?, close: Int) {
        guard let close = scalars[(start + 1)...].firstIndex(of: "}") else { return (nil, scalars.count) }
        var name = String.UnicodeScalarView()
        name.append(contentsOf: scalars[(start + 1)..<close])
        let text = String(name)
        if text.isEmpty || !text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { return (nil, close) }
        return (text, close)
    }
}
