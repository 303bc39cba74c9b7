/// The one config schema that multirun and runone both read, and a config's content hash.
///
/// A config holds what its runner reads (runone: `command`/`params`/`description` or
/// `model_params`) and what multirun reads to schedule it (`resources`). With the default
/// runner the whole file is checked against runone's schema; with any other runner the
/// file must parse and only multirun's keys are checked, since the rest belong to that runner.
/// Either way the config checked is the file merged over the bases it `extends`
/// (`ConfigLoader`), and top-level keys starting with `x-` or `.` are not the schema's.
public enum ConfigSchema {
    /// Keys that say how to schedule a task, not what it computes: they are left out of the
    /// content hash, so editing one never re-runs completed work. `resources` is read
    /// today; the others are reserved for priorities, dependencies and time limits.
    public static let schedulingKeys = ["resources", "priority", "after", "time"]

    /// Top-level keys the schema ignores: `x-anything` (as in docker-compose) and
    /// `.anything`, for shared blocks (`x-base: &base {...}`) and notes of the user's own.
    /// They are still data: part of the content hash.
    public static func isIgnoredKey(_ key: String) -> Bool {
        key.utf8.first == UInt8(ascii: ".") || key.utf8.starts(with: "x-".utf8)
    }

    /// A config that passed the checks.
    public struct Checked: Sendable {
        /// The config merged over its bases (`ConfigLoader`).
        public let document: ConfigDocument
        public let resources: TaskResources
        /// runone's reading of it, when checked for runone.
        public let runone: RunoneConfig?
        /// The bases it extends, nearest first; empty for most configs.
        public let bases: [String]
        /// SHA-256 of the file's bytes (with bases, of every file's: `LoadedConfig.sha256`).
        public let sha256: String
        /// SHA-256 of the parsed config less `schedulingKeys` (see `contentHash`); with
        /// bases, of every file's content (`contentHash(chain:)`).
        public let contentSHA256: String
        /// `priority:` (higher starts first; 0 when absent) and `after:` as written.
        public var priority = 0
        public var after: [String] = []
    }

    /// A config's `priority:` (an integer) and `after:` (a config path or stem, or a list of
    /// them), checked; runone accepts both and ignores them.
    public static func scheduling(_ value: ConfigValue, path: String) throws(SchemaError) -> (priority: Int, after: [String]) {
        var priority = 0
        if let given = value["priority"] {
            guard let number = given.int else {
                throw SchemaError(source: path, key: "priority", message: "must be an integer (higher starts first), found \(given.typeName)")
            }
            priority = number
        }
        var after: [String] = []
        if let given = value["after"] {
            let items: [ConfigValue]
            if case .list(let list) = given { items = list } else { items = [given] }
            for item in items {
                guard let name = item.string, !name.isEmpty else {
                    throw SchemaError(source: path, key: "after", message: "must be a config path or name, or a list of them (after: [exp-1-1]), found \(item.typeName)")
                }
                after.append(name)
            }
        }
        return (priority, after)
    }

    /// Reads `bytes` (the file at `path`) with the bases it extends (`ConfigLoader`; bases
    /// read by `reader`) and checks the merged config. `runone`: check runone's schema
    /// too (the default runner). Throws one line, `file:line:col: problem; fix`.
    /// `memory`: refuse a built-in model whose estimated peak exceeds it (`MemoryBudget`).
    public static func check(_ bytes: [UInt8], path: String, runone: Bool, memory: MemoryBudget? = nil,
                             reader: ConfigLoader.Reader = ConfigLoader.readBase) throws(ConfigProblem) -> Checked {
        try check(ConfigLoader.load(bytes: bytes, path: path, reader: reader), runone: runone, memory: memory)
    }

    /// Checks a loaded config, as above.
    public static func check(_ loaded: LoadedConfig, runone: Bool, memory: MemoryBudget? = nil) throws(ConfigProblem) -> Checked {
        let document = loaded.document
        let path = document.source
        do throws(SchemaError) {
            let config = runone ? try RunoneConfig.from(document.value, source: path) : nil
            if let model = config?.memoryEstimate, let memory {
                do { try memory.check(estimate: model.peakBytes, what: model.estimateDescription) } catch {
                    throw SchemaError(source: path, key: "model_params", message: error.message)
                }
            }
            let resources = try document.value["resources"].map { value throws(SchemaError) in try TaskResources.parse(value, path: path) }
            let scheduling = try Self.scheduling(document.value, path: path)
            var checked = Checked(document: document, resources: resources ?? TaskResources(), runone: config, bases: loaded.bases,
                                  sha256: loaded.sha256, contentSHA256: loaded.contentSHA256)
            checked.priority = scheduling.priority
            checked.after = scheduling.after
            return checked
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

    /// The content hash of a config with bases (`chain`: the config's value, then each
    /// base's, as parsed): SHA-256 of the content hash of each file in turn, each less its
    /// `extends` (the files' order says what it said). Editing any file of the chain changes
    /// it; a chain of one file (no `extends`) hashes as `contentHash` of that file does.
    public static func contentHash(chain: [ConfigValue]) -> String {
        guard chain.count > 1 else { return chain.first.map(contentHash) ?? contentHash(.null) }
        var text = Array("multirun content chain 1".utf8)
        for value in chain {
            var value = value
            if case .map(let entries) = value { value = .map(entries.filter { $0.key != ConfigDocument.extendsKey }) }
            text.append(0)
            text += contentHash(value).utf8
        }
        return SHA256.hex(text)
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

    /// A schema error placed at the key it names; a key that came from a base is placed
    /// in the base, and the line says which config extends it.
    public init(_ error: SchemaError, in document: ConfigDocument) {
        let key = error.key.map { "key '\($0.excerpt)': " } ?? ""
        let place = document.place(of: error.key)
        let extended = place.inBase ? " (in \(document.source.excerpt), which extends this base)" : ""
        message = "\(place.location): \(key)\(error.message)\(extended)"
    }

    public var description: String { message }
}
