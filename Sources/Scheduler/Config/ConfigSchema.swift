/// The one config schema that multirun and runone both read, and a config's content hash.
///
/// A config holds what its runner reads (runone: `command`/`params`/`description` or
/// `model_params`) and what multirun reads to schedule it (`resources`). With the default
/// runner the whole file is checked against runone's schema; with any other runner the
/// file must parse and only multirun's keys are checked, since the rest belong to that runner.
public enum ConfigSchema {
    /// Keys that say how to schedule a task, not what it computes: they are left out of the
    /// content hash, so editing one never re-runs completed work. `resources` is read
    /// today; the others are reserved for priorities, dependencies and time limits.
    public static let schedulingKeys = ["resources", "priority", "after", "time"]

    /// A config that passed the checks.
    public struct Checked: Sendable {
        public let document: ConfigDocument
        public let resources: TaskResources
        /// runone's reading of it, when checked for runone.
        public let runone: RunoneConfig?
        /// SHA-256 of the parsed config less `schedulingKeys` (see `contentHash`).
        public let contentSHA256: String
    }

    /// Parses `bytes` (the file at `path`) and checks it. `runone`: check runone's schema
    /// too (the default runner). Throws one line, `file:line:col: problem; fix`.
    /// `memory`: refuse a built-in model whose estimated peak exceeds it (`MemoryBudget`).
    public static func check(_ bytes: [UInt8], path: String, runone: Bool, memory: MemoryBudget? = nil) throws(ConfigProblem) -> Checked {
        let document: ConfigDocument
        do {
            document = try ConfigParser.document(bytes: bytes, dialect: ConfigParser.dialect(of: path), source: path)
        } catch {
            throw ConfigProblem("\(error)")
        }
        do throws(SchemaError) {
            let config = runone ? try RunoneConfig.from(document.value, source: path) : nil
            if case .model(let model)? = config, let memory {
                do { try memory.check(estimate: model.peakBytes, what: model.estimateDescription) } catch {
                    throw SchemaError(source: path, key: "model_params", message: error.message)
                }
            }
            let resources = try document.value["resources"].map { value throws(SchemaError) in try TaskResources.parse(value, path: path) }
            return Checked(document: document, resources: resources ?? TaskResources(), runone: config,
                           contentSHA256: contentHash(document.value))
        } catch {
            throw ConfigProblem(error, in: document)
        }
    }

    /// SHA-256 (hex) of the config's data less its top-level `schedulingKeys`, in a
    /// canonical form: mapping keys sorted by their bytes, every value tagged with its type
    /// (so `1`, `1.0`, `"1"` and `true` differ), strings length-prefixed. Comments, quoting,
    /// key order, flow or block style and JSON versus YAML do not change it.
    public static func contentHash(_ value: ConfigValue) -> String {
        var canonical: [UInt8] = []
        if case .map(let entries) = value {
            append(.map(entries.filter { !schedulingKeys.contains($0.key) }), to: &canonical)
        } else {
            append(value, to: &canonical)
        }
        return SHA256.hex(canonical)
    }

    private static func append(_ value: ConfigValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(UInt8(ascii: "n"))
        case .bool(let flag): out += (flag ? "t" : "f").utf8
        case .int(let number):
            out.append(UInt8(ascii: "i"))
            DecimalText.append(Int64(number), to: &out)
            out.append(UInt8(ascii: ";"))
        case .double(let number):
            // The bit pattern: exact, and one NaN as good as another.
            out.append(UInt8(ascii: "d"))
            DecimalText.append(Int64(bitPattern: number.isNaN ? Double.nan.bitPattern : number.bitPattern), to: &out)
            out.append(UInt8(ascii: ";"))
        case .string(let text): appendString(text, to: &out)
        case .list(let items):
            out.append(UInt8(ascii: "["))
            for item in items { append(item, to: &out) }
            out.append(UInt8(ascii: "]"))
        case .map(let entries):
            out.append(UInt8(ascii: "{"))
            for entry in entries.sorted(by: { ConfigSelector.bytesPrecede($0.key, $1.key) }) {
                appendString(entry.key, to: &out)
                append(entry.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "s"))
        DecimalText.append(Int64(text.utf8.count), to: &out)
        out.append(UInt8(ascii: ":"))
        out += text.utf8
    }

    /// The closest of `known` to `word` (at most two edits away), for "did you mean".
    public static func suggestion(for word: String, among known: [String]) -> String? {
        // Two edits change a length by at most two: a longer word is none of these.
        let length = word.utf8.count
        let known = known.filter { abs($0.utf8.count - length) <= 2 }
        let scored = known.map { (key: $0, distance: editDistance(Array(word.utf8), Array($0.utf8))) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= 2 else { return nil }
        return best.key
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var row = [i + 1]
            for (j, y) in b.enumerated() {
                row.append(min(previous[j + 1] + 1, row[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = row
        }
        return previous[b.count]
    }
}

/// A config that cannot be used as it is: one line, `file:line:col: problem; fix`.
public struct ConfigProblem: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    /// A schema error placed at the key it names.
    public init(_ error: SchemaError, in document: ConfigDocument) {
        let key = error.key.map { "key '\($0.excerpt)': " } ?? ""
        message = "\(document.location(of: error.key)): \(key)\(error.message)"
    }

    public var description: String { message }
}
