import Glibc

/// A `-c` pattern: Python `re` syntax as people write it, run by glibc's POSIX extended
/// regex engine (fast, and no Foundation to load at start). GNU regcomp already knows
/// `\w \s \b` and backreferences; this translates the rest of the common syntax, and
/// refuses what it cannot express with a clear message.
///
/// Only "does it match anywhere" matters here, so POSIX's leftmost-longest rule and
/// Python's leftmost-first rule agree, and lazy quantifiers can drop their `?`.
public final class PathRegex {
    private var compiled = regex_t()

    public init(_ pattern: String) throws(UsageError) {
        let translated = try Self.translate(pattern)
        let code = regcomp(&compiled, translated, REG_EXTENDED | REG_NOSUB)
        guard code == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(code, &compiled, &buffer, buffer.count)
            regfree(&compiled)
            let posix = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // Swift's regex parser explains syntax errors better than regerror.
            let reason: String
            do { _ = try Regex(pattern); reason = posix } catch { reason = "\(error)" }
            throw UsageError("-c '\(pattern.excerpt)' is not a valid regular expression: \(reason.excerpt)")
        }
    }

    deinit { regfree(&compiled) }

    public func matches(_ text: String) -> Bool { regexec(&compiled, text, 0, nil, 0) == 0 }

    /// The deepest nesting of groups a pattern may have.
    static let maxGroupDepth = 256

    /// Python syntax to POSIX ERE (GNU flavour).
    static func translate(_ pattern: String) throws(UsageError) -> String {
        func unsupported(_ what: String) -> UsageError {
            UsageError("-c '\(pattern.excerpt)': \(what) is not supported in config patterns; write it without (patterns are POSIX extended regular expressions with \\d, \\w, \\s)")
        }
        let chars = Array(pattern)
        var out = ""
        var i = 0
        var inBracket = false
        // glibc's regcomp (and Swift's parser, used to explain errors) recurse once per
        // open group: 20,000 of them overflow the stack.
        var depth = 0
        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if !inBracket && c == "(" {
                depth += 1
                if depth > maxGroupDepth {
                    throw UsageError("-c: the pattern nests groups more than \(maxGroupDepth) deep; write a flatter pattern")
                }
            } else if !inBracket && c == ")" {
                depth = max(0, depth - 1)
            }
            if c == "\\", let next {
                switch next {
                case "d": out += inBracket ? "0-9" : "[0-9]"
                case "D" where !inBracket: out += "[^0-9]"
                case "w" where inBracket: out += "[:alnum:]_"
                case "s" where inBracket: out += "[:space:]"
                case "A": out += "^"
                case "Z", "z": out += "$"
                default: out += String(c) + String(next)
                }
                i += 2
                continue
            }
            if inBracket {
                if c == "]" && !(out.hasSuffix("[") || out.hasSuffix("[^")) { inBracket = false }
                out.append(c)
                i += 1
                continue
            }
            switch c {
            case "[":
                inBracket = true
                out.append(c)
                // A ']' right after '[' or '[^' is a literal member.
                if next == "^" { out.append("^"); i += 1 }
                if i + 1 < chars.count && chars[i + 1] == "]" { out.append("]"); i += 1 }
            case "(" where next == "?":
                let rest = String(chars[(i + 2)...].prefix(3))
                if rest.hasPrefix(":") {
                    out += "("
                    i += 3
                    continue
                }
                if rest.hasPrefix("P<") || (rest.hasPrefix("<") && !rest.hasPrefix("<=") && !rest.hasPrefix("<!")) {
                    guard let close = chars[i...].firstIndex(of: ">") else { throw unsupported("an unfinished group name") }
                    out += "("
                    i = close + 1
                    continue
                }
                if rest.hasPrefix("=") || rest.hasPrefix("!") || rest.hasPrefix("<=") || rest.hasPrefix("<!") {
                    throw unsupported("a lookaround '(?\(rest.prefix(rest.hasPrefix("<") ? 2 : 1))'")
                }
                throw unsupported("the group '(?\(rest.prefix(1))'")
            case "*", "+", "?", "}":
                out.append(c)
                // Lazy quantifiers match wherever greedy ones do.
                if next == "?" { i += 1 }
            default:
                out.append(c)
            }
            i += 1
        }
        return out
    }
}
