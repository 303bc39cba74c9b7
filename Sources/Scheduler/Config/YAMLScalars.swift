/// PyYAML's implicit resolvers for YAML 1.1 scalars (`resolver.py`, the `int`, `float` and
/// `timestamp` patterns) as hand-written scanners, and the conversions behind them.
/// Scanners, not `Regex`: a Swift regex match cost tens of microseconds per scalar, which
/// made a 40,000-key config take seconds; these are linear in the scalar's length.
enum YAMLScalars {
    /// A plain scalar's value by PyYAML's implicit resolvers (YAML 1.1): null, bool, int,
    /// float, else a string. Timestamps stay the text written (a listed difference);
    /// `fail` makes the error for an integer beyond 64 bits.
    static func resolve(_ text: String, fail: (String) -> ConfigError) throws(ConfigError) -> ConfigValue {
        if text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL" { return .null }
        if let bool = bool(text) { return .bool(bool) }
        // Every int and float starts with a digit, a sign or '.'.
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                || isDigit(first) else {
            return .string(text)
        }
        let utf8 = Array(text.utf8)
        if isInt(utf8) {
            guard let value = integer(text) else {
                if lacksDigits(text) {
                    throw fail("'\(text.excerpt)' reads as an integer but has no digits; quote it to keep it as text")
                }
                throw fail("integer '\(text.excerpt)' is outside the 64-bit range (-9223372036854775808 to 9223372036854775807); quote it to keep it as text")
            }
            return .int(value)
        }
        if isFloat(utf8) { return .double(double(text)) }
        if isTimestamp(utf8) && !isValidTimestamp(utf8) {
            throw fail("'\(text.excerpt)' reads as a date, but there is no such date or time; quote it to keep it as text")
        }
        return .string(text)
    }

    /// Whether a text `isTimestamp` matched names a real date and time, as Python's
    /// `datetime` checks it in PyYAML's `construct_yaml_timestamp`: year 1-9999, month
    /// 1-12, day within the month (leap years too), hour < 24, minute and second < 60,
    /// and a UTC offset under 24 hours.
    static func isValidTimestamp(_ text: [UInt8]) -> Bool {
        var at = 0
        func number() -> Int {
            var value = 0
            while at < text.count, isDigit(text[at]), value < 100_000 { value = value * 10 + Int(text[at] - zero); at += 1 }
            return value
        }
        func skip(_ matches: (UInt8) -> Bool) { while at < text.count && matches(text[at]) { at += 1 } }
        let year = number(); at += 1
        let month = number(); at += 1
        let day = number()
        guard (1...9999).contains(year), (1...12).contains(month) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return false }
        guard at < text.count else { return true }
        skip { $0 == UInt8(ascii: "T") || $0 == UInt8(ascii: "t") || $0 == 0x20 || $0 == 0x09 }
        let hour = number(); at += 1
        let minute = number(); at += 1
        let second = number()
        guard hour < 24, minute < 60, second < 60 else { return false }
        if at < text.count && text[at] == UInt8(ascii: ".") { at += 1; skip(isDigit) }
        skip { $0 == 0x20 || $0 == 0x09 }
        guard at < text.count, text[at] == UInt8(ascii: "+") || text[at] == UInt8(ascii: "-") else { return true }
        at += 1
        let offsetHours = number()
        let offsetMinutes = at < text.count && text[at] == UInt8(ascii: ":") ? { at += 1; return number() }() : 0
        return offsetHours * 60 + offsetMinutes < 24 * 60
    }

    /// `!!int TEXT` as PyYAML's `construct_yaml_int` reads it: any text, not only what the
    /// implicit resolver matches (`!!int "1:75"` is 135).
    static func taggedInteger(_ text: String, fail: (String) -> ConfigError) throws(ConfigError) -> Int {
        var body = Substring(text.filter { $0 != "_" })
        var negative = false
        if body.first == "-" || body.first == "+" { negative = body.removeFirst() == "-" }
        let magnitude: UInt64?
        if body == "0" {
            magnitude = 0
        } else if body.hasPrefix("0b") {
            magnitude = pythonInt(body.dropFirst(2), radix: 2, negative: &negative)
        } else if body.hasPrefix("0x") {
            magnitude = pythonInt(body.dropFirst(2), radix: 16, negative: &negative)
        } else if body.hasPrefix("0") {
            magnitude = pythonInt(body, radix: 8, negative: &negative)
        } else if body.contains(":") {
            var total: UInt64? = 0
            for part in body.split(separator: ":", omittingEmptySubsequences: false) {
                guard let sum = total, !part.isEmpty, part.utf8.allSatisfy(isDigit), let digit = UInt64(part) else { total = nil; break }
                let (shifted, over) = sum.multipliedReportingOverflow(by: 60)
                let (next, carry) = shifted.addingReportingOverflow(digit)
                total = over || carry ? nil : next
            }
            magnitude = total
        } else {
            magnitude = pythonInt(body, radix: 10, negative: &negative)
        }
        guard let magnitude, !body.isEmpty else { throw fail("'\(text.excerpt)' is not an integer for !!int") }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { throw fail("integer '\(text.excerpt)' is outside the 64-bit range") }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { throw fail("integer '\(text.excerpt)' is outside the 64-bit range") }
        return Int(magnitude)
    }

    /// Python's `int(text, radix)` for ASCII text: blanks around, a sign, and the radix's
    /// prefix (`0o17` in base 8) allowed; a sign flips `negative`.
    private static func pythonInt(_ text: Substring, radix: Int, negative: inout Bool) -> UInt64? {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        var body = text.drop(while: isSpace)
        while let last = body.last, isSpace(last) { body.removeLast() }
        if body.first == "-" || body.first == "+" { if body.removeFirst() == "-" { negative.toggle() } }
        let prefix = radix == 8 ? "0o" : radix == 16 ? "0x" : radix == 2 ? "0b" : ""
        if !prefix.isEmpty && body.lowercased().hasPrefix(prefix) { body = body.dropFirst(2) }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isHexDigit && Int(String($0), radix: 16)! < radix }) else { return nil }
        return UInt64(body, radix: radix)
    }

    /// `!!float TEXT` as PyYAML's `construct_yaml_float` reads it (Python's `float()` after
    /// `.inf`, `.nan` and base 60); nil when Python would refuse it.
    static func taggedDouble(_ text: String) -> Double? {
        var body = Substring(text.filter { $0 != "_" }.lowercased())
        var sign = 1.0
        if body.first == "-" || body.first == "+" { sign = body.removeFirst() == "-" ? -1 : 1 }
        if body == ".inf" { return sign * .infinity }
        if body == ".nan" { return .nan }
        if body.contains(":") {
            var value = 0.0
            var base = 1.0
            for part in body.split(separator: ":", omittingEmptySubsequences: false).reversed() {
                guard let digit = pythonFloat(part) else { return nil }
                value += digit * base
                base *= 60
            }
            return sign * value
        }
        return pythonFloat(body).map { sign * $0 }
    }

    /// Python's `float(text)` for ASCII text: decimal digits with an optional point and
    /// exponent, or inf/infinity/nan, blanks around allowed; no hex.
    private static func pythonFloat(_ text: Substring) -> Double? {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        var body = text.drop(while: isSpace)
        while let last = body.last, isSpace(last) { body.removeLast() }
        var sign = 1.0
        if body.first == "-" || body.first == "+" { sign = body.removeFirst() == "-" ? -1 : 1 }
        switch body {
        case "inf", "infinity": return sign * .infinity
        case "nan": return .nan
        default: break
        }
        var scan = Scan(Array(body.utf8))
        let integerDigits = scan.run(of: isDigit)
        var fractionDigits = 0
        if scan.literal(".") { fractionDigits = scan.run(of: isDigit) }
        guard integerDigits + fractionDigits > 0 else { return nil }
        if scan.take(where: { $0 == UInt8(ascii: "e") }) {
            scan.sign()
            guard scan.run(of: isDigit) > 0 else { return nil }
        }
        guard scan.atEnd else { return nil }
        // Give Double a digit on each side of the point ("1." and ".5" are Python floats).
        var normalized = ""
        var previous: Character = " "
        for c in body {
            if c == "." && !previous.isNumber { normalized.append("0") }
            if previous == "." && !c.isNumber { normalized.append("0") }
            normalized.append(c)
            previous = c
        }
        if previous == "." { normalized.append("0") }
        return Double(normalized).map { sign * $0 }
    }

    /// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    /// | [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`
    static func isInt(_ text: [UInt8]) -> Bool {
        var scan = Scan(text)
        scan.sign()
        if scan.literal("0b") { return scan.run(of: { $0 == zero || $0 == one || $0 == underscore }) > 0 && scan.atEnd }
        if scan.literal("0x") { return scan.run(of: { isHexDigit($0) || $0 == underscore }) > 0 && scan.atEnd }
        if scan.literal("0") { return scan.atEnd || (scan.run(of: { (zero...seven).contains($0) || $0 == underscore }) > 0 && scan.atEnd) }
        guard scan.take(where: { (one...nine).contains($0) }) else { return false }
        scan.run(of: isDigitOrUnderscore)
        if scan.atEnd { return true }
        return scan.sexagesimalGroups() > 0 && scan.atEnd
    }

    /// `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? | \.[0-9][0-9_]*([eE][-+][0-9]+)?
    /// | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)`
    static func isFloat(_ text: [UInt8]) -> Bool {
        var scan = Scan(text)
        let signed = scan.sign()
        if scan.literal(".") {
            if scan.atEnd { return false }
            if ["inf", "Inf", "INF"].contains(where: { scan.rest(is: $0) }) { return true }
            if !signed && ["nan", "NaN", "NAN"].contains(where: { scan.rest(is: $0) }) { return true }
            guard !signed, scan.take(where: isDigit) else { return false }
            scan.run(of: isDigitOrUnderscore)
            return scan.exponent() && scan.atEnd
        }
        guard scan.take(where: isDigit) else { return false }
        scan.run(of: isDigitOrUnderscore)
        if scan.literal(".") {
            scan.run(of: isDigitOrUnderscore)
            return scan.exponent() && scan.atEnd
        }
        guard scan.sexagesimalGroups() > 0, scan.literal(".") else { return false }
        scan.run(of: isDigitOrUnderscore)
        return scan.atEnd
    }

    /// YAML 1.1 timestamps (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`), which PyYAML
    /// reads as dates. Rare, so a regex, behind a check of the leading `dddd-`.
    static func isTimestamp(_ text: [UInt8]) -> Bool {
        guard text.count >= 8, text.prefix(4).allSatisfy(isDigit), text[4] == UInt8(ascii: "-") else { return false }
        return String(decoding: text, as: UTF8.self).wholeMatch(of: timestamp) != nil
    }

    /// `YYYY-M-D` with one- or two-digit month and day and no time, which PyYAML's
    /// timestamp constructor (not its resolver) accepts for `!!timestamp`.
    static func isShortDate(_ text: [UInt8]) -> Bool {
        let parts = text.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].count == 4 && (1...2).contains(parts[1].count) && (1...2).contains(parts[2].count)
            && parts.allSatisfy { $0.allSatisfy(isDigit) }
    }

    /// (`nonisolated(unsafe)`: Regex is not Sendable; it is only read, and matching does not
    /// change it.)
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

    /// The value of text `isInt` accepted; nil when it does not fit in a 64-bit Int
    /// (PyYAML gives a big int there: a listed difference).
    static func integer(_ text: String) -> Int? {
        var body = Substring(text.filter { $0 != "_" })
        var negative = false
        if body.first == "-" || body.first == "+" { negative = body.removeFirst() == "-" }
        let magnitude: UInt64?
        if body.hasPrefix("0b") {
            magnitude = UInt64(body.dropFirst(2), radix: 2)
        } else if body.hasPrefix("0x") {
            magnitude = UInt64(body.dropFirst(2), radix: 16)
        } else if body.contains(":") {
            // Base 60, exactly: "1:30" is 90.
            var total: UInt64? = 0
            for part in body.split(separator: ":") {
                guard let sum = total, let digit = UInt64(part) else { total = nil; break }
                let (shifted, over) = sum.multipliedReportingOverflow(by: 60)
                let (next, carry) = shifted.addingReportingOverflow(digit)
                total = over || carry ? nil : next
            }
            magnitude = total
        } else if body.count > 1 && body.hasPrefix("0") {
            magnitude = UInt64(body.dropFirst(), radix: 8)
        } else {
            magnitude = UInt64(body)
        }
        guard let magnitude else { return nil }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { return nil }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        return magnitude <= UInt64(Int.max) ? Int(magnitude) : nil
    }

    /// True for the ints `isInt` accepts that hold only underscores after `0x` or `0b`
    /// (`0x_`): PyYAML fails on them with a ValueError.
    static func lacksDigits(_ text: String) -> Bool {
        let body = text.drop(while: { $0 == "-" || $0 == "+" })
        return (body.hasPrefix("0x") || body.hasPrefix("0b")) && body.dropFirst(2).allSatisfy { $0 == "_" }
    }

    /// The value of text `isFloat` accepted (base-60 floats included: "1:30.5" is 90.5).
    static func double(_ text: String) -> Double {
        // Most floats are what strtod reads as they are ("0.5", "1.0e-3", "1."); only
        // underscores, base 60 and .inf/.nan need the rewriting below.
        if let first = text.utf8.first, first != UInt8(ascii: "."),
           !text.utf8.contains(where: { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "n") || $0 == UInt8(ascii: "N") }),
           let value = Double(text) {
            return value
        }
        // Underscores, base 60 and .inf/.nan: as the !!float constructor reads them.
        return taggedDouble(text) ?? .nan
    }

    private static let zero = UInt8(ascii: "0"), one = UInt8(ascii: "1"), seven = UInt8(ascii: "7")
    private static let nine = UInt8(ascii: "9"), underscore = UInt8(ascii: "_")
    private static func isDigit(_ c: UInt8) -> Bool { (zero...nine).contains(c) }
    private static func isDigitOrUnderscore(_ c: UInt8) -> Bool { isDigit(c) || c == underscore }
    private static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(c)
    }

    /// A cursor over a scalar's bytes for the scanners above.
    private struct Scan {
        let text: [UInt8]
        var index = 0

        init(_ text: [UInt8]) { self.text = text }

        var atEnd: Bool { index == text.count }

        mutating func take(where matches: (UInt8) -> Bool) -> Bool {
            guard index < text.count, matches(text[index]) else { return false }
            index += 1
            return true
        }

        @discardableResult
        mutating func run(of matches: (UInt8) -> Bool) -> Int {
            let start = index
            while index < text.count && matches(text[index]) { index += 1 }
            return index - start
        }

        @discardableResult
        mutating func sign() -> Bool { take { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") } }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= text.count else { return false }
            for k in 0..<count where text[index + k] != word.utf8Start[k] { return false }
            index += count
            return true
        }

        /// True when the rest of the text is exactly `word`.
        mutating func rest(is word: String) -> Bool {
            guard text[index...].elementsEqual(word.utf8) else { return false }
            index = text.count
            return true
        }

        /// `(:[0-5]?[0-9])*`: how many groups were read.
        mutating func sexagesimalGroups() -> Int {
            var groups = 0
            while index + 1 < text.count, text[index] == UInt8(ascii: ":"), YAMLScalars.isDigit(text[index + 1]) {
                if index + 2 < text.count, YAMLScalars.isDigit(text[index + 2]) {
                    guard text[index + 1] <= UInt8(ascii: "5") else { return groups }
                    index += 3
                } else {
                    index += 2
                }
                groups += 1
            }
            return groups
        }

        /// An optional `[eE][-+][0-9]+`; false when one starts but is incomplete.
        mutating func exponent() -> Bool {
            guard index < text.count, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") else { return true }
            index += 1
            guard sign() else { return false }
            return run(of: YAMLScalars.isDigit) > 0
        }
    }
}
