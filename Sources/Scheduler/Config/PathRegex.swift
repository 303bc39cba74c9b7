import Glibc

/// A `-c` pattern: Python `re` syntax, run by glibc's POSIX extended regex engine (fast,
/// no Foundation to load at start, no backtracking blow-ups on hostile patterns).
///
/// `translate` parses the pattern as Python's `re` parser does and writes an equivalent
/// POSIX ERE (GNU flavour, C locale, byte by byte): only "does it match anywhere" matters
/// here, so POSIX's leftmost-longest rule and Python's leftmost-first rule agree, and lazy
/// quantifiers can drop their `?`. Classes (`\d \w \s`, `[...]`, `.`) are written out as
/// explicit byte sets, with one UTF-8 sequence standing for each non-ASCII character, so
/// `.` and `[^/]` take a whole character as Python's do. `(?i)` folds ASCII letters itself
/// (`a` becomes `[aA]`), so scoped `(?i:...)` works too. `\d \w \s \b` and `(?i)` are
/// ASCII, as under Python's `re.ASCII`; on ASCII paths that is exactly plain `re`.
/// What POSIX cannot express (lookarounds, atomic groups, possessive quantifiers,
/// conditionals, ...) is refused with a line that says what to write instead; what Python
/// refuses is refused as not valid.
public final class PathRegex {
    private var compiled = regex_t()

    public init(_ pattern: String) throws(UsageError) {
        let translation = try Self.translate(pattern)
        var bytes = translation.ere.map { CChar(bitPattern: $0) } + [0]
        let flags = REG_EXTENDED | REG_NOSUB | (translation.multiline ? REG_NEWLINE : 0)
        let code = regcomp(&compiled, &bytes, flags)
        if code == 6 {  // REG_ESUBREG: glibc refuses a backreference into another branch
            regfree(&compiled)
            throw UsageError("-c '\(pattern.excerpt)': \(Self.crossBranchBackreference) is not supported in config patterns; spell the repeated text out")
        }
        guard code == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(code, &compiled, &buffer, buffer.count)
            regfree(&compiled)
            let posix = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw UsageError("-c '\(pattern.excerpt)' is not a valid regular expression: \(posix.excerpt)")
        }
    }

    deinit { regfree(&compiled) }

    public func matches(_ text: String) -> Bool { regexec(&compiled, text, 0, nil, 0) == 0 }

    static let crossBranchBackreference = "a backreference to a group in another branch of '|'"

    /// The deepest nesting of groups a pattern may have.
    static let maxGroupDepth = 256
    /// The most bytes of POSIX pattern that repeats may expand to (regcomp copies
    /// `x{1000}` a thousand times: `((x{999}){999}){999}` would take gigabytes).
    static let maxExpandedSize = 60_000

    struct Translation: Equatable {
        /// The POSIX extended regular expression, bytes (not always UTF-8).
        var ere: [UInt8]
        /// `(?m)`: compile with REG_NEWLINE, so `^ $` also match at line breaks.
        var multiline: Bool
    }

    /// The pattern translated, or the one-line reason it cannot be: "is not a valid regular
    /// expression" (Python refuses it too) or "is not supported in config patterns".
    static func translate(_ pattern: String) throws(UsageError) -> Translation {
        // glibc's regcomp (and this parser) recurse once per open group: 20,000 of them
        // overflow the stack. Counted before any recursion.
        var depth = 0
        var inBracket = false
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\" { i += 2; continue }
            if inBracket {
                if c == "]" { inBracket = false }
            } else if c == "[" {
                inBracket = true
                if i + 1 < chars.count && chars[i + 1] == "^" { i += 1 }
                if i + 1 < chars.count && chars[i + 1] == "]" { i += 1 }
            } else if c == "(" {
                depth += 1
                if depth > maxGroupDepth {
                    throw UsageError("-c: the pattern nests groups more than \(maxGroupDepth) deep; write a flatter pattern")
                }
            } else if c == ")" {
                depth = max(0, depth - 1)
            }
            i += 1
        }
        var parser = PythonPatternParser(pattern)
        do {
            return try parser.translate()
        } catch {
            switch error {
            case .invalid(let reason, let position):
                throw UsageError("-c '\(pattern.excerpt)' is not a valid regular expression: \(reason) at position \(position)")
            case .unsupported(let what, let instead):
                throw UsageError("-c '\(pattern.excerpt)': \(what) is not supported in config patterns; \(instead)")
            case .tooLarge:
                throw UsageError("-c '\(pattern.excerpt)': the pattern's repeats expand past \(maxExpandedSize) bytes of regular expression; write smaller counts")
            }
        }
    }
}

enum PatternProblem: Error {
    /// Python's `re` refuses it too; the reason in Python's words, position in characters.
    case invalid(String, Int)
    /// Valid Python that POSIX cannot run: what it is, and what to write instead.
    case unsupported(String, String)
    case tooLarge
}

/// A set of characters: ASCII bytes (1...127) one by one, non-ASCII characters all or a list.
struct CharSet {
    var ascii = [Bool](repeating: false, count: 128)
    var allNonASCII = false
    var nonASCII: [UInt32] = []

    mutating func add(_ scalar: UInt32) {
        if scalar < 128 { ascii[Int(scalar)] = true } else if !nonASCII.contains(scalar) { nonASCII.append(scalar) }
    }
    mutating func add(_ low: UInt32, _ high: UInt32) {
        for b in low..<min(high + 1, 128) { ascii[Int(b)] = true }
    }
    mutating func formUnion(_ other: CharSet) {
        for b in 0..<128 where other.ascii[b] { ascii[b] = true }
        allNonASCII = allNonASCII || other.allNonASCII
        for s in other.nonASCII { add(s) }
    }
    /// Every letter in both cases (Python's ASCII IGNORECASE).
    mutating func foldCase() {
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") {
            let upper = Int(b) - 32
            if ascii[Int(b)] || ascii[upper] { ascii[Int(b)] = true; ascii[upper] = true }
        }
    }

    static func of(_ bytes: String) -> CharSet {
        var set = CharSet()
        for b in bytes.utf8 { set.ascii[Int(b)] = true }
        return set
    }
    static var digits: CharSet { var s = CharSet(); s.add(48, 57); return s }
    static var word: CharSet { var s = CharSet(); s.add(48, 57); s.add(65, 90); s.add(97, 122); s.add(95); return s }
    static var space: CharSet { var s = CharSet(); s.add(9, 13); s.add(32); return s }
    /// Python's `.`: anything but a newline, or anything under `(?s)`.
    static func any(dotAll: Bool) -> CharSet {
        var s = CharSet()
        s.add(1, 127)
        if !dotAll { s.ascii[10] = false }
        s.allNonASCII = true
        return s
    }
    /// Everything not in the set (NUL aside: no path holds one). Nil when the set names
    /// single non-ASCII characters, which POSIX cannot leave out of "any character".
    var complement: CharSet? {
        if !allNonASCII && !nonASCII.isEmpty { return nil }
        var s = CharSet()
        for b in 1..<128 { s.ascii[b] = !ascii[b] }
        s.allNonASCII = !allNonASCII
        return s
    }
}

/// Python's `sre_parse`, as far as it decides what matches, writing POSIX ERE.
struct PythonPatternParser {
    struct Flags { var ignoreCase = false; var dotAll = false; var verbose = false }

    /// One item of a sequence: its ERE, always one POSIX atom (groups wrap the rest).
    struct Item {
        var ere: [UInt8]
        var size: Int
        var isAnchor = false
        var isRepeat = false
    }

    let source: [Unicode.Scalar]
    var at = 0
    var multiline = false
    /// Python's group numbers (1-based) to the ERE's, which counts every `(` written.
    var groupMap: [Int] = [0]
    var openGroups: Set<Int> = []
    var ignoreCaseGroups: Set<Int> = []
    var names: [String: Int] = [:]
    var ereGroups = 0

    init(_ pattern: String) { source = Array(pattern.unicodeScalars) }

    var next: Unicode.Scalar? { at < source.count ? source[at] : nil }

    mutating func match(_ c: Unicode.Scalar) -> Bool {
        if next == c { at += 1; return true }
        return false
    }

    mutating func translate() throws(PatternProblem) -> PathRegex.Translation {
        var flags = Flags()
        let body = try alternation(&flags, nested: false)
        if at < source.count {
            throw .invalid("unbalanced parenthesis", at)
        }
        return PathRegex.Translation(ere: body.ere, multiline: multiline)
    }

    static func checked(_ size: Int) throws(PatternProblem) -> Int {
        if size > PathRegex.maxExpandedSize { throw .tooLarge }
        return size
    }

    /// Branches separated by `|`, up to a `)` or the end (not consumed).
    mutating func alternation(_ flags: inout Flags, nested: Bool) throws(PatternProblem) -> Item {
        var branches: [Item] = []
        var first = !nested
        while true {
            branches.append(try sequence(&flags, first: first))
            first = false
            if !match("|") { break }
        }
        if branches.count == 1 { return branches[0] }
        var ere: [UInt8] = []
        var size = 0
        for (k, branch) in branches.enumerated() {
            if k > 0 { ere.append(UInt8(ascii: "|")) }
            ere += branch.ere
            size += branch.size + 1
        }
        return Item(ere: ere, size: try Self.checked(size))
    }

    /// Items up to `|`, `)` or the end.
    mutating func sequence(_ flags: inout Flags, first: Bool) throws(PatternProblem) -> Item {
        var items: [Item] = []
        var atStart = first
        while let c = next {
            if c == "|" || c == ")" { break }
            let here = at
            at += 1
            if flags.verbose {
                if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" { continue }
                if c == "#" {
                    while let d = next, d != "\n" { at += 1 }
                    continue
                }
            }
            switch c {
            case "*", "+", "?":
                try repeatLast(&items, min: c == "+" ? 1 : 0, max: c == "?" ? 1 : nil, position: here)
            case "{":
                if let (low, high) = try interval() {
                    try repeatLast(&items, min: low, max: high, position: here)
                } else {
                    items.append(literal(c, flags))
                }
            case "(":
                if match("?") {
                    if match("#") {
                        while let d = next, d != ")" { at += 1 }
                        if !match(")") { throw .invalid("missing ), unterminated comment", here) }
                        continue
                    }
                    guard let item = try groupExtension(&flags, start: here, atStart: atStart && items.isEmpty) else { continue }
                    items.append(item)
                } else {
                    items.append(try group(flags, name: nil, start: here))
                }
            case "[":
                items.append(try charClass(flags, start: here))
            case ".":
                items.append(emit(CharSet.any(dotAll: flags.dotAll), flags))
            case "^":
                // glibc's `$` also matches before a newline that a later item may take;
                // GNU's buffer anchors do not.
                items.append(Item(ere: Array((multiline ? "^" : "\\`").utf8), size: 2, isAnchor: true))
            case "$":
                items.append(Item(ere: Array((multiline ? "$" : "\\'").utf8), size: 2, isAnchor: true))
            case "\\":
                items.append(try escape(flags, start: here))
            default:
                items.append(literal(c, flags))
            }
            atStart = false
        }
        var ere: [UInt8] = []
        var size = 0
        for item in items { ere += item.ere; size += item.size }
        return Item(ere: ere, size: try Self.checked(size))
    }

    /// `{m}`, `{m,}`, `{,n}`, `{m,n}` after the `{`, or nil (and nothing read) when what
    /// follows is not one, so the `{` is a literal, as in Python.
    mutating func interval() throws(PatternProblem) -> (Int, Int?)? {
        let start = at
        if next == "}" { return nil }
        func digits() -> String {
            var s = ""
            while let d = next, ("0"..."9").contains(d) { s.unicodeScalars.append(d); at += 1 }
            return s
        }
        let low = digits()
        var high = low
        var open = false
        if match(",") { high = digits(); open = high.isEmpty }
        guard match("}") else { at = start; return nil }
        func number(_ s: String) throws(PatternProblem) -> Int {
            // Python refuses counts from 2**32 - 1 up (OverflowError).
            guard s.count <= 10, let n = Int(s), n < 4_294_967_295 else {
                throw .invalid("the repetition number is too large", start)
            }
            return n
        }
        let min = low.isEmpty ? 0 : try number(low)
        let max: Int? = open ? nil : try number(high)
        if let max, max < min { throw .invalid("min repeat greater than max repeat", start) }
        return (min, max)
    }

    mutating func repeatLast(_ items: inout [Item], min: Int, max: Int?, position: Int) throws(PatternProblem) {
        guard var last = items.last, !last.isAnchor else { throw .invalid("nothing to repeat", position) }
        if last.isRepeat { throw .invalid("multiple repeat", position) }
        if match("+") {
            throw .unsupported("a possessive quantifier ('*+', '++', '?+', '{m,n}+')",
                               "drop the last '+' (POSIX has no backtracking to forbid), or rewrite the pattern so it needs none")
        }
        _ = match("?")  // lazy: the same yes/no as greedy
        let suffix: String
        switch (min, max) {
        case (0, nil): suffix = "*"
        case (1, nil): suffix = "+"
        case (0, 1): suffix = "?"
        case (let m, nil): suffix = "{\(m),}"
        case (let m, let n?): suffix = m == n ? "{\(m)}" : "{\(m),\(n)}"
        }
        let copies = Swift.max(1, max ?? (min + 1))
        if copies > 32_767 { throw .tooLarge }
        let (product, overflow) = last.size.multipliedReportingOverflow(by: copies)
        if overflow { throw .tooLarge }
        last.size = try Self.checked(product + suffix.utf8.count)
        last.ere += Array(suffix.utf8)
        last.isRepeat = true
        items[items.count - 1] = last
    }

    /// `(?...)` after the `?`: a group, or nil for global flags.
    mutating func groupExtension(_ flags: inout Flags, start: Int, atStart: Bool) throws(PatternProblem) -> Item? {
        guard let c = next else { throw .invalid("unexpected end of pattern", at) }
        let lookaround = PatternProblem.unsupported(
            "a lookaround ('(?=', '(?!', '(?<=', '(?<!')",
            "match the text itself instead, e.g. 'exp-1([^0]|$)' for 'exp-1(?!0)' or '/exp-1' for '(?<=/)exp-1'")
        switch c {
        case ":":
            at += 1
            return try group(flags, name: nil, start: start, capturing: false)
        case "P":
            at += 1
            if match("<") {
                let name = try groupName(terminator: ">")
                return try group(flags, name: name, start: start)
            }
            if match("=") {
                let name = try groupName(terminator: ")")
                guard let number = names[name] else { throw .invalid("unknown group name '\(name)'", start + 4) }
                return try backreference(number, flags, position: start)
            }
            if let d = next { throw .invalid("unknown extension ?P\(d)", start + 1) }
            throw .invalid("unexpected end of pattern", at)
        case "=", "!":
            throw lookaround
        case "<":
            at += 1
            if next == "=" || next == "!" { throw lookaround }
            if let d = next { throw .invalid("unknown extension ?<\(d)", start + 1) }
            throw .invalid("unexpected end of pattern", at)
        case ">":
            throw .unsupported("an atomic group '(?>...)'", "write '(?:...)' instead (POSIX has no backtracking to forbid)")
        case "(":
            throw .unsupported("a conditional group '(?(...)...)'", "write the alternatives out with '|'")
        default:
            return try flagGroup(&flags, start: start, atStart: atStart)
        }
    }

    mutating func groupName(terminator: Unicode.Scalar) throws(PatternProblem) -> String {
        let start = at
        var name = ""
        while let c = next, c != terminator { name.unicodeScalars.append(c); at += 1 }
        guard match(terminator) else {
            throw .invalid(name.isEmpty ? "missing group name" : "missing \(terminator), unterminated name", start)
        }
        if name.isEmpty { throw .invalid("missing group name", start) }
        let scalars = Array(name.unicodeScalars)
        let isIdentifier = !("0"..."9").contains(scalars[0]) && scalars.allSatisfy {
            $0 == "_" || $0.properties.isXIDContinue
        } && (scalars[0] == "_" || scalars[0].properties.isXIDStart)
        if !isIdentifier { throw .invalid("bad character in group name '\(name)'", start) }
        return name
    }

    /// `(?aiLmsux)`, `(?aimsux-imsx:...)`.
    mutating func flagGroup(_ flags: inout Flags, start: Int, atStart: Bool) throws(PatternProblem) -> Item? {
        var on = "", off = ""
        var turningOff = false
        while let c = next {
            if c == ")" || c == ":" { break }
            at += 1
            if c == "-" {
                if turningOff { throw .invalid("unknown flag", at - 1) }
                turningOff = true
                continue
            }
            if c == "L" { throw .invalid("bad inline flag: cannot use 'L' flag with a str pattern", at - 1) }
            guard "aimsux".unicodeScalars.contains(c) else {
                throw .invalid(on.isEmpty && !turningOff ? "unknown extension ?\(c)" : "unknown flag", at - 1)
            }
            if turningOff {
                if c == "a" || c == "u" { throw .invalid("bad inline flag: cannot turn off flags 'a', 'u' and 'L'", at - 1) }
                off.unicodeScalars.append(c)
            } else {
                on.unicodeScalars.append(c)
            }
        }
        guard let end = next else { throw .invalid("missing -, : or )", at) }
        at += 1
        if on.contains("a") && on.contains("u") { throw .invalid("bad inline flag: flags 'a', 'u' and 'L' are incompatible", start) }
        if end == ")" {
            if turningOff { throw .invalid("missing :", at - 1) }
            if on.isEmpty { throw .invalid("missing flag", at - 1) }
            guard atStart else { throw .invalid("global flags not at the start of the expression", start) }
            if on.contains("i") { flags.ignoreCase = true }
            if on.contains("s") { flags.dotAll = true }
            if on.contains("x") { flags.verbose = true }
            if on.contains("m") { multiline = true }
            return nil
        }
        if turningOff && off.isEmpty { throw .invalid("missing flag", at - 1) }
        for c in on.unicodeScalars where off.unicodeScalars.contains(c) {
            throw .invalid("bad inline flag: flag turned on and off", at - 1)
        }
        if on.contains("m") || (off.contains("m") && multiline) {
            throw .unsupported("a scoped multiline flag '(?m:...)'", "put '(?m)' at the start of the pattern, for all of it")
        }
        var inner = flags
        if on.contains("i") { inner.ignoreCase = true }
        if on.contains("s") { inner.dotAll = true }
        if on.contains("x") { inner.verbose = true }
        if off.contains("i") { inner.ignoreCase = false }
        if off.contains("s") { inner.dotAll = false }
        if off.contains("x") { inner.verbose = false }
        return try group(inner, name: nil, start: start, capturing: false)
    }

    /// A group's body after its opening, through its `)`.
    mutating func group(_ flags: Flags, name: String?, start: Int, capturing: Bool = true) throws(PatternProblem) -> Item {
        ereGroups += 1
        var number = 0
        if capturing {
            number = groupMap.count
            groupMap.append(ereGroups)
            openGroups.insert(number)
            if let name {
                if names[name] != nil { throw .invalid("redefinition of group name '\(name)' as group \(number); was group \(names[name]!)", start + 4) }
                names[name] = number
            }
        }
        var inner = flags
        let body = try alternation(&inner, nested: true)
        guard match(")") else { throw .invalid("missing ), unterminated subpattern", start) }
        openGroups.remove(number)
        return Item(ere: Array("(".utf8) + body.ere + Array(")".utf8), size: try Self.checked(body.size + 2))
    }

    mutating func backreference(_ number: Int, _ flags: Flags, position: Int) throws(PatternProblem) -> Item {
        if openGroups.contains(number) { throw .invalid("cannot refer to an open group", position) }
        if flags.ignoreCase {
            throw .unsupported("a backreference under (?i)", "spell the repeated text out, e.g. '(?i)(exp)-exp' for '(?i)(exp)-\\1'")
        }
        let ere = groupMap[number]
        if ere > 9 {
            throw .unsupported("a backreference to a group POSIX numbers past 9", "spell the repeated text out, or use fewer groups before it")
        }
        return Item(ere: Array("\\\(ere)".utf8), size: 2)
    }

    /// A literal character: itself, escaped where POSIX gives it a meaning, both cases under
    /// `(?i)`, a non-ASCII one as its UTF-8 bytes in a group (so a quantifier takes it whole).
    mutating func literal(_ c: Unicode.Scalar, _ flags: Flags) -> Item {
        let v = c.value
        if v < 128 {
            if flags.ignoreCase && c.properties.isAlphabetic {
                var set = CharSet()
                set.add(v)
                set.foldCase()
                return emit(set, flags)
            }
            if v == 0 { return emit(CharSet(), flags) }  // no path holds a NUL
            if "\\.[]()*+?{}|^$".unicodeScalars.contains(c) {
                return Item(ere: [UInt8(ascii: "\\"), UInt8(v)], size: 2)
            }
            return Item(ere: [UInt8(v)], size: 1)
        }
        ereGroups += 1
        let bytes = Array(String(Character(c)).utf8)
        return Item(ere: [UInt8(ascii: "(")] + bytes + [UInt8(ascii: ")")], size: bytes.count + 2)
    }

    /// A set as one POSIX atom: a bracket expression, or a group of alternatives when it
    /// holds non-ASCII characters.
    mutating func emit(_ given: CharSet, _ flags: Flags) -> Item {
        var set = given
        if flags.ignoreCase { set.foldCase() }
        var alternatives: [[UInt8]] = []
        let members = (1..<128).filter { set.ascii[$0] }
        if members.count == 1 {
            let c = UInt8(members[0])
            alternatives.append("\\.[]()*+?{}|^$".utf8.contains(c) ? [UInt8(ascii: "\\"), c] : [c])
        } else if !members.isEmpty {
            alternatives.append(Self.bracket(set.ascii))
        }
        if set.allNonASCII {
            // One whole UTF-8 character of 2, 3 or 4 bytes (paths are valid UTF-8).
            alternatives.append([0x5B, 0xC0, 0x2D, 0xDF, 0x5D, 0x5B, 0x80, 0x2D, 0xBF, 0x5D])
            alternatives.append([0x5B, 0xE0, 0x2D, 0xEF, 0x5D] + Array(repeating: [0x5B, 0x80, 0x2D, 0xBF, 0x5D], count: 2).joined())
            alternatives.append([0x5B, 0xF0, 0x2D, 0xF7, 0x5D] + Array(repeating: [0x5B, 0x80, 0x2D, 0xBF, 0x5D], count: 3).joined())
        } else {
            for s in set.nonASCII where Unicode.Scalar(s) != nil {
                alternatives.append(Array(String(Character(Unicode.Scalar(s)!)).utf8))
            }
        }
        if alternatives.isEmpty {
            // Matches nothing: no path holds a byte outside 1...255.
            return Item(ere: [0x5B, 0x5E, 0x01, 0x2D, 0xFF, 0x5D], size: 6)
        }
        if alternatives.count == 1 && (members.count >= 1) {
            return Item(ere: alternatives[0], size: alternatives[0].count)
        }
        ereGroups += 1
        let ere = [UInt8(ascii: "(")] + Array(alternatives.joined(separator: [UInt8(ascii: "|")])) + [UInt8(ascii: ")")]
        return Item(ere: ere, size: ere.count)
    }

    /// A POSIX bracket expression for ASCII bytes: `]` first, `-` last, `^` never first,
    /// `[` never before `. = :`, runs as ranges.
    static func bracket(_ ascii: [Bool]) -> [UInt8] {
        let special: Set<Int> = [0x5D, 0x5E, 0x2D, 0x5B]  // ] ^ - [
        var body: [UInt8] = []
        if ascii[0x5D] { body.append(0x5D) }
        var b = 1
        while b < 128 {
            guard ascii[b], !special.contains(b) else { b += 1; continue }
            var end = b
            while end + 1 < 128 && ascii[end + 1] && !special.contains(end + 1) { end += 1 }
            if end - b >= 2 {
                body += [UInt8(b), 0x2D, UInt8(end)]
            } else {
                for x in b...end { body.append(UInt8(x)) }
            }
            b = end + 1
        }
        if ascii[0x5B] { body.append(0x5B) }
        if ascii[0x5E] {
            if body.isEmpty {
                // Only '^' (and maybe '-'): '-' goes first, or '^' stands alone.
                if ascii[0x2D] { return [0x5B, 0x2D, 0x5E, 0x5D] }
                return [0x5C, 0x5E]
            }
            body.append(0x5E)
        }
        if ascii[0x2D] { body.append(0x2D) }
        return [0x5B] + body + [0x5D]
    }

    /// `[...]` after the `[`, as Python's parser reads it.
    mutating func charClass(_ flags: Flags, start: Int) throws(PatternProblem) -> Item {
        var set = CharSet()
        let negate = match("^")
        let first = at
        while true {
            guard let c = next else { throw .invalid("unterminated character set", start) }
            at += 1
            if c == "]" && at != first + 1 { break }
            var low: CharSet? = nil
            var lowScalar: UInt32? = nil
            if c == "\\" { (low, lowScalar) = try classEscape() } else { lowScalar = c.value }
            if match("-") {
                guard let d = next else { throw .invalid("unterminated character set", start) }
                at += 1
                if d == "]" {
                    if let low { set.formUnion(low) } else if let lowScalar { set.add(lowScalar) }
                    set.add(0x2D)
                    break
                }
                var highScalar: UInt32? = nil
                var high: CharSet? = nil
                if d == "\\" { (high, highScalar) = try classEscape() } else { highScalar = d.value }
                guard low == nil, high == nil, let lo = lowScalar, let hi = highScalar else {
                    throw .invalid("bad character range", at - 1)
                }
                if hi < lo { throw .invalid("bad character range", at - 1) }
                if hi >= 128 {
                    if lo == hi { set.add(lo); continue }
                    throw .unsupported("a character range past ASCII in '[...]'",
                                       "list the non-ASCII characters one by one, or use '.' or '\\W' for any of them")
                }
                set.add(lo, hi)
            } else if let low {
                set.formUnion(low)
            } else if let lowScalar {
                set.add(lowScalar)
            }
        }
        if flags.ignoreCase { set.foldCase() }
        if negate {
            guard let complement = set.complement else {
                throw .unsupported("a negated class '[^...]' that names non-ASCII characters",
                                   "leave them out of it, or match what may stand there instead")
            }
            set = complement
        }
        return emit(set, Flags())
    }

    /// An escape inside `[...]` after the backslash: a set (`\d`) or one character.
    mutating func classEscape() throws(PatternProblem) -> (CharSet?, UInt32?) {
        let start = at - 1
        guard let c = next else { throw .invalid("bad escape (end of pattern)", start) }
        at += 1
        switch c {
        case "d": return (.digits, nil)
        case "w": return (.word, nil)
        case "s": return (.space, nil)
        case "D": return (CharSet.digits.complement, nil)
        case "W": return (CharSet.word.complement, nil)
        case "S": return (CharSet.space.complement, nil)
        case "b": return (nil, 8)
        case "0"..."7":
            var digits = String(c)
            while digits.count < 3, let d = next, ("0"..."7").contains(d) { digits.unicodeScalars.append(d); at += 1 }
            let value = UInt32(digits, radix: 8)!
            if value > 0o377 { throw .invalid("octal escape value \\\(digits) outside of range 0-0o377", start) }
            return (nil, value)
        case "8", "9": throw .invalid("bad escape \\\(c)", start)
        default:
            return (nil, try characterEscape(c, start: start))
        }
    }

    /// The character named by `\a \f \n \r \t \v \xHH \uHHHH \UHHHHHHHH` or an escaped
    /// non-letter; other letters are refused as Python refuses them.
    mutating func characterEscape(_ c: Unicode.Scalar, start: Int) throws(PatternProblem) -> UInt32 {
        switch c {
        case "a": return 7
        case "f": return 12
        case "n": return 10
        case "r": return 13
        case "t": return 9
        case "v": return 11
        case "x", "u", "U":
            let count = c == "x" ? 2 : c == "u" ? 4 : 8
            var hex = ""
            while hex.unicodeScalars.count < count, let d = next, d.properties.isASCIIHexDigit { hex.unicodeScalars.append(d); at += 1 }
            guard hex.unicodeScalars.count == count, let value = UInt32(hex, radix: 16) else {
                throw .invalid("incomplete escape \\\(c)\(hex)", start)
            }
            if value > 0x10FFFF { throw .invalid("bad escape \\\(c)\(hex)", start) }
            return value
        case "N":
            throw .unsupported("a named character '\\N{...}'", "write the character itself, or '\\uXXXX'")
        default:
            if c.isASCII && c.properties.isAlphabetic { throw .invalid("bad escape \\\(c)", start) }
            return c.value
        }
    }

    /// An escape outside `[...]`, after the backslash.
    mutating func escape(_ flags: Flags, start: Int) throws(PatternProblem) -> Item {
        guard let c = next else { throw .invalid("bad escape (end of pattern)", start) }
        at += 1
        switch c {
        case "A": return Item(ere: Array("\\`".utf8), size: 2, isAnchor: true)
        case "Z": return Item(ere: Array("\\'".utf8), size: 2, isAnchor: true)
        case "b": return Item(ere: Array("\\b".utf8), size: 2, isAnchor: true)
        case "B": return Item(ere: Array("\\B".utf8), size: 2, isAnchor: true)
        case "d": return emit(.digits, flags)
        case "w": return emit(.word, flags)
        case "s": return emit(.space, flags)
        case "D": return emit(CharSet.digits.complement!, flags)
        case "W": return emit(CharSet.word.complement!, flags)
        case "S": return emit(CharSet.space.complement!, flags)
        case "0":
            var digits = "0"
            while digits.count < 3, let d = next, ("0"..."7").contains(d) { digits.unicodeScalars.append(d); at += 1 }
            return literal(Unicode.Scalar(UInt32(digits, radix: 8)!)!, flags)
        case "1"..."9":
            var digits = String(c)
            if let d = next, ("0"..."9").contains(d) {
                digits.unicodeScalars.append(d)
                at += 1
                if ("0"..."7").contains(c), ("0"..."7").contains(d), let e = next, ("0"..."7").contains(e) {
                    digits.unicodeScalars.append(e)
                    at += 1
                    let value = UInt32(digits, radix: 8)!
                    if value > 0o377 { throw .invalid("octal escape value \\\(digits) outside of range 0-0o377", start) }
                    return literal(Unicode.Scalar(value)!, flags)
                }
            }
            let number = Int(digits)!
            guard number < groupMap.count else { throw .invalid("invalid group reference \(number)", start + 1) }
            return try backreference(number, flags, position: start)
        default:
            let value = try characterEscape(c, start: start)
            guard let scalar = Unicode.Scalar(value) else { return emit(CharSet(), flags) }
            return literal(scalar, flags)
        }
    }
}
