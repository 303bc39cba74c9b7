/// What `multirun sweep` generates, decided without touching a file: the axes of the grid
/// (`--grid KEY=V1,V2,...`), the subjects (`--subjects A-B`), every point of their
/// Cartesian product, and each point's config value and file name.
///
/// Points are ordered as an odometer: the first `--grid` turns slowest, the subject
/// fastest. A point's file name is the base's stem (less a trailing `-base`/`_base`),
/// then `__LABEL-VALUE` per axis and `__sub-NNNN` for the subject, then `.yaml`:
///
///     study-base.yaml --grid model_params.name=kuramoto --grid model_params.G=0.5 --subjects 0-9999
///     → study__name-kuramoto__G-0.5__sub-0007.yaml
///
/// LABEL is the shortest dotted tail of the key that no other axis shares (`G`, or
/// `model_params.G` beside `other.G`). Letters, digits and `.`, `_`, `+`, `-` are kept;
/// any other byte is written `%XX`, so two values never share a name and a name is safe
/// on any filesystem. A name that would end in `-base`/`_base` (which multirun skips as a
/// base) ends in `-bas%65` instead.
public struct SweepGrid: Sendable {
    /// One `--grid KEY=V1,V2,...`.
    public struct Axis: Sendable, Equatable {
        /// The key as typed (`model_params.G`) and its components.
        public let key: String
        public let path: [String]
        public let values: [ConfigValue]
        /// The part of the key that file names show.
        public var label: String
    }

    /// `--subjects A-B`: subjects A through B, written `sub-` and at least 4 digits.
    public struct Subjects: Sendable, Equatable {
        public let first: Int
        public let last: Int
        public var count: Int { last - first + 1 }
        /// Zero-padded width of every subject in names: 4, or more for larger numbers,
        /// so names sort in subject order.
        public var width: Int { max(4, String(last).count) }
    }

    /// The most points (configs) one sweep makes: each is a file and a task.
    public static let maxPoints = 100_000
    /// The largest subject number.
    public static let maxSubject = 999_999_999

    public var axes: [Axis]
    public var subjects: Subjects?
    /// Where `--subjects` puts the subject: `model_params.subject`, or `params.subject` for a
    /// base that runs a `command:` (which fills `{subject}` in it).
    public var subjectPath: [String] = ["model_params", "subject"]

    public var count: Int { axes.reduce(subjects?.count ?? 1) { $0 * $1.values.count } }

    /// Checks the axes and subjects together: duplicate and overlapping keys, the subject
    /// key given as an axis too, and the number of points.
    public init(axes: [Axis], subjects: Subjects?, subjectPath: [String]) throws(UsageError) {
        guard !axes.isEmpty || subjects != nil else {
            throw UsageError("sweep: nothing to sweep; give --grid KEY=V1,V2 (once per key) and/or --subjects A-B")
        }
        var all = axes.map { (key: $0.key, path: $0.path) }
        if subjects != nil { all.append((key: "--subjects (" + subjectPath.joined(separator: ".") + ")", path: subjectPath)) }
        for (i, a) in all.enumerated() {
            for b in all[(i + 1)...] {
                if a.path == b.path && a.key == b.key {
                    throw UsageError("--grid \(a.key) is given twice; give each key once, with all its values: --grid \(a.key)=V1,V2")
                }
                if a.path == b.path {
                    throw UsageError("sweep: key \(b.path.joined(separator: ".")) is swept twice (\(a.key) and \(b.key)); give each key once, with all its values: --grid KEY=V1,V2")
                }
                let (short, long) = a.path.count < b.path.count ? (a, b) : (b, a)
                if long.path.starts(with: short.path) {
                    throw UsageError("sweep: \(long.key) lies inside \(short.key), which is swept as a whole; sweep one or the other")
                }
            }
        }
        var total = subjects?.count ?? 1
        for axis in axes {
            let (product, overflow) = total.multipliedReportingOverflow(by: axis.values.count)
            guard !overflow, product <= Self.maxPoints else {
                throw UsageError("sweep: the grid has more than \(Self.maxPoints) points (\(([subjects.map { "\($0.count) subjects" }] + axes.map { "\($0.values.count) \($0.key)" }).compactMap { $0 }.joined(separator: " × "))); split it over several --out folders")
            }
            total = product
        }
        self.axes = axes
        self.subjects = subjects
        self.subjectPath = subjectPath
        Self.assignLabels(&self.axes, subjects: subjects != nil)
    }

    // MARK: - parsing

    /// `KEY=V1,V2,...`: KEY a dotted path of non-empty keys; values separated by commas,
    /// each typed as YAML 1.1 reads a plain scalar (PyYAML: `true`, `3`, `0.5`, `null`,
    /// `kuramoto`), except that a number written as JSON writes it (`1e-3`) is a number, not
    /// text. `'...'` or `"..."` around a value keeps it text (`'007'`, `'true'`, `'a,b'`).
    /// An integer with a leading zero (`010`: octal 8 to YAML 1.1, 10 to YAML 1.2) is refused.
    public static func parseAxis(_ text: String) throws(UsageError) -> Axis {
        let example = "e.g. --grid model_params.G=0.5,1.0"
        guard let eq = text.firstIndex(of: "=") else {
            throw UsageError("--grid '\(text.excerpt)': no '='; write KEY=V1,V2,..., \(example)")
        }
        let key = String(text[..<eq])
        let list = String(text[text.index(after: eq)...])
        let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !key.isEmpty, !path.contains(where: \.isEmpty) else {
            throw UsageError("--grid '\(text.excerpt)': the key '\(key.excerpt)' has an empty part; write keys joined by dots, \(example)")
        }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw UsageError("--grid '\(text.excerpt)': the key holds a control character; write keys in plain text, \(example)")
        }
        if path.count == 1 && path[0] == ConfigDocument.extendsKey {
            throw UsageError("--grid '\(text.excerpt)': '\(ConfigDocument.extendsKey)' cannot be swept; sweep the keys the bases set instead")
        }
        guard !list.isEmpty else {
            throw UsageError("--grid '\(text.excerpt)': the value list is empty; give at least one value, \(example)")
        }
        let words = try splitValues(list, flag: text)
        var values: [ConfigValue] = []
        for (position, word) in words.enumerated() {
            guard !word.isEmpty else {
                throw UsageError("--grid '\(text.excerpt)': value \(position + 1) is empty; remove the extra comma, or write '' for empty text")
            }
            let value = try typedValue(word, flag: text)
            if let earlier = values.firstIndex(of: value) {
                throw UsageError("--grid '\(text.excerpt)': value \(position + 1) ('\(word.excerpt)') is value \(earlier + 1) again; give each value once")
            }
            values.append(value)
        }
        return Axis(key: key, path: path, values: values, label: key)
    }

    /// The values of a list, split at commas outside quotes; quotes are kept for `typedValue`.
    static func splitValues(_ list: String, flag: String) throws(UsageError) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        for character in list {
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
            } else if character == "," {
                words.append(current)
                current = ""
            } else {
                if (character == "'" || character == "\"") && current.isEmpty { quote = character }
                current.append(character)
            }
        }
        if let quote { throw UsageError("--grid '\(flag.excerpt)': a \(quote) quote is not closed; close it, or leave the quotes out") }
        words.append(current)
        return words
    }

    /// One value as the grid reads it (see `parseAxis`).
    static func typedValue(_ word: String, flag: String) throws(UsageError) -> ConfigValue {
        if word.count >= 2, let first = word.first, first == "'" || first == "\"", word.last == first {
            return .string(String(word.dropFirst().dropLast()))
        }
        if word.first == "'" || word.first == "\"" {
            throw UsageError("--grid '\(flag.excerpt)': value '\(word.excerpt)' has text after its closing quote; quote the whole value")
        }
        let bytes = Array(word.utf8)
        var digits = bytes[...]
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { digits = digits.dropFirst() }
        if digits.count > 1, digits.first == UInt8(ascii: "0"), digits.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }) {
            throw UsageError("--grid '\(flag.excerpt)': value '\(word.excerpt)' has a leading zero, which YAML 1.1 reads as octal and YAML 1.2 as decimal; write the number without it, or quote it (\"'\(word.excerpt)'\") to keep it as text")
        }
        let value: ConfigValue
        do {
            value = try YAMLScalars.resolve(word) { ConfigError(source: "--grid", line: 1, column: 1, message: $0) }
        } catch {
            throw UsageError("--grid '\(flag.excerpt)': \(error.message)")
        }
        if case .string = value, YAMLScalars.isJSONNumber(word.utf8), let number = Double(word) {
            return .double(number)
        }
        return value
    }

    /// `A-B` (or one number `A`): whole numbers, A ≤ B, at most `maxPoints` subjects.
    public static func parseSubjects(_ text: String) throws(UsageError) -> Subjects {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        func number(_ part: Substring) -> Int? {
            guard !part.isEmpty, part.count <= 9, part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            return Int(part)
        }
        guard let first = number(parts[0]), let last = parts.count == 2 ? number(parts[1]) : first else {
            throw UsageError("--subjects '\(text.excerpt)': not a range of subject numbers; write FIRST-LAST with whole numbers from 0 to \(maxSubject), e.g. --subjects 0-9999")
        }
        guard first <= last else {
            throw UsageError("--subjects '\(text.excerpt)': the range runs backwards; write the smaller number first, e.g. --subjects \(last)-\(first)")
        }
        guard last - first + 1 <= maxPoints else {
            throw UsageError("--subjects '\(text.excerpt)': \(last - first + 1) subjects, more than the \(maxPoints) one sweep makes; split the range over several --out folders")
        }
        return Subjects(first: first, last: last)
    }

    // MARK: - points

    /// The axis values and subject of point `index` (0 ..< count), in odometer order.
    public func coordinates(of index: Int) -> (values: [Int], subject: Int?) {
        var rest = index
        var subject: Int?
        if let subjects {
            subject = subjects.first + rest % subjects.count
            rest /= subjects.count
        }
        var values = Array(repeating: 0, count: axes.count)
        for axis in axes.indices.reversed() {
            values[axis] = rest % axes[axis].values.count
            rest /= axes[axis].values.count
        }
        return (values, subject)
    }

    /// The base with this point's values set. Throws when a key path goes through
    /// something other than a mapping in the base.
    public func value(of base: ConfigValue, at point: (values: [Int], subject: Int?), baseName: String) throws(UsageError) -> ConfigValue {
        var value = base
        for (axis, index) in zip(axes, point.values) {
            try Self.set(axis.values[index], at: axis.path[...], in: &value, key: axis.key, baseName: baseName)
        }
        if let subject = point.subject {
            try Self.set(.int(subject), at: subjectPath[...], in: &value, key: subjectPath.joined(separator: "."), baseName: baseName)
        }
        return value
    }

    static func set(_ new: ConfigValue, at path: ArraySlice<String>, in value: inout ConfigValue, key: String, baseName: String) throws(UsageError) {
        guard let first = path.first else { value = new; return }
        guard case .map(var entries) = value else {
            let through = key.split(separator: ".").prefix(key.split(separator: ".").count - path.count).joined(separator: ".")
            throw UsageError("sweep: key \(key) goes through \(through), which is \(value.typeName) in \(baseName), not a mapping; sweep a key that is (or fix the base)")
        }
        if let index = entries.firstIndex(where: { $0.key == first }) {
            try set(new, at: path.dropFirst(), in: &entries[index].value, key: key, baseName: baseName)
        } else {
            var fresh = ConfigValue.map([])
            try set(new, at: path.dropFirst(), in: &fresh, key: key, baseName: baseName)
            entries.append((first, fresh))
        }
        value = .map(entries)
    }

    /// Keys whose text is a path relative to the config file's folder (runone's
    /// `model_params.connectivity`): written in the base (or a --grid value) from the base's
    /// folder, so they are rewritten from the generated file's folder to name the same files.
    public static let pathKeys: [[String]] = [["model_params", "connectivity"]]

    /// `value` with each relative `pathKeys` string rebased from folder `from` to folder `to`
    /// (both absolute and normalized, `FileIO.lexicallyNormalized`).
    public static func rebasingPaths(_ value: ConfigValue, from: String, to: String) -> ConfigValue {
        guard from != to else { return value }
        var value = value
        for key in pathKeys {
            guard case .string(let text)? = key.reduce(Optional(value), { $0?[$1] }), !text.isEmpty, !text.hasPrefix("/") else { continue }
            try? set(.string(rebased(text, from: from, to: to)), at: key[...], in: &value, key: "", baseName: "")
        }
        return value
    }

    /// `path` (relative to folder `from`) relative to folder `to`, by their text: both
    /// folders absolute and normalized. A trailing `/` is kept.
    public static func rebased(_ path: String, from: String, to: String) -> String {
        let target = FileIO.lexicallyNormalized(from + "/" + path).split(separator: "/")
        let origin = to.split(separator: "/")
        var common = 0
        while common < min(target.count, origin.count) && target[common] == origin[common] { common += 1 }
        var parts = Array(repeating: Substring(".."), count: origin.count - common) + target[common...]
        if parts.isEmpty { parts = ["."] }
        return parts.joined(separator: "/") + (path.hasSuffix("/") ? "/" : "")
    }

    /// A point's file name (see the type's description). `stem`: `SweepGrid.stem(of:)`.
    public func fileName(stem: String, at point: (values: [Int], subject: Int?)) -> String {
        var name = stem
        for (axis, index) in zip(axes, point.values) {
            name += "__" + Self.safe(axis.label) + "-" + Self.safe(Self.nameText(axis.values[index]))
        }
        if let subject = point.subject, let subjects {
            let digits = String(subject)
            name += "__sub-" + String(repeating: "0", count: max(0, subjects.width - digits.count)) + digits
        }
        if name.hasSuffix("-base") || name.hasSuffix("_base") { name = String(name.dropLast()) + "%65" }
        return name + ".yaml"
    }

    /// The base file's name less its extension and a trailing `-base`/`_base`.
    public static func stem(of basePath: String) -> String {
        var name = Substring(basePath)
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = name[..<dot] }
        if name.hasSuffix("-base") || name.hasSuffix("_base") { name = name.dropLast(5) }
        let stem = safe(String(name))
        return stem.isEmpty || stem.hasPrefix(".") ? "sweep" + stem : stem
    }

    /// A value as names show it: numbers' shortest digits (`0.5`, `1e-05`), text as is.
    static func nameText(_ value: ConfigValue) -> String {
        switch value {
        case .string(let text): return text
        case .double(let number) where number.isFinite: return number.description
        default: return YAMLWriter.scalar(value)
        }
    }

    /// Letters, digits, `.`, `_`, `+`, `-` kept; every other byte as `%XX`.
    static func safe(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let keep = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            if keep {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    /// Each axis's label: the shortest dotted tail of its key that no other axis's key
    /// ends in (and that is not `sub`, the subject's).
    static func assignLabels(_ axes: inout [Axis], subjects: Bool) {
        for i in axes.indices {
            let path = axes[i].path
            var length = 1
            while length < path.count {
                let tail = Array(path.suffix(length))
                let shared = axes.indices.contains { $0 != i && axes[$0].path.count >= length && Array(axes[$0].path.suffix(length)) == tail }
                if !shared && !(subjects && tail == ["sub"]) { break }
                length += 1
            }
            axes[i].label = path.suffix(length).joined(separator: ".")
        }
    }
}
