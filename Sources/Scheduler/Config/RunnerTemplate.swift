/// The command each config task runs, with placeholders filled per task:
/// `{config}` config path, `{output}` its results folder, `{gpu}` GPU index (empty on the
/// CPU), `{slot}` slot number, `{overwrite}` `--overwrite` with -w and nothing otherwise,
/// `{overwrite?WITH:WITHOUT}` the text WITH under -w and WITHOUT otherwise (for a runner
/// that spells it another way: `--overwrite {overwrite?True:False}`).
///
/// A template without `{config}` gets `-c {config}` appended, so `--runner 'python run.py'`
/// runs `python run.py -c configs/...`.
public struct RunnerTemplate: Equatable, Sendable {
    public static let defaultText = "runone -c {config} {overwrite}"
    public static let placeholders = ["config", "output", "gpu", "slot", "overwrite"]

    public let words: [String]

    public init(_ text: String) throws(UsageError) {
        var words = try CommandLineWords.split(text)
        guard !words.isEmpty else {
            throw UsageError("--runner is empty; give the program each task runs, e.g. --runner 'python run.py'")
        }
        for word in words {
            for name in Self.placeholderNames(in: word, choices: true) where !Self.placeholders.contains(name) && !name.hasPrefix("overwrite?") {
                let known = Self.placeholders.map { "{\($0)}" }.joined(separator: " ") + " {overwrite?WITH:WITHOUT}"
                throw UsageError("--runner: unknown placeholder {\(name)}; the known ones are \(known)")
            }
            try Self.checkOverwriteForms(in: word)
        }
        if !words.contains(where: { $0.contains("{config}") }) { words += ["-c", "{config}"] }
        self.words = words
    }

    /// A template whose words were checked when it was made (a Slurm task's manifest).
    public init(checkedWords words: [String]) {
        self.words = words
    }

    public struct Values: Sendable {
        public var config: String
        public var output: String
        public var gpu: String
        public var slot: Int
        public var overwrite: Bool

        public init(config: String, output: String, gpu: String, slot: Int, overwrite: Bool) {
            self.config = config
            self.output = output
            self.gpu = gpu
            self.slot = slot
            self.overwrite = overwrite
        }
    }

    /// The argv for one task, as written (argv[0] not yet resolved to a path).
    /// `keepingSlot` leaves `{slot}` for a queue's scheduler to fill at launch;
    /// `keepingOverwrite` leaves `{overwrite}` and `{overwrite?WITH:WITHOUT}` too, so that
    /// `multirun restart -w` can launch a queued task with -w after all.
    public func expand(_ values: Values, keepingSlot: Bool = false, keepingOverwrite: Bool = false) -> [String] {
        var argv: [String] = []
        argv.reserveCapacity(words.count)
        for word in words {
            if keepingOverwrite && word == "{overwrite}" {
                argv.append(word)
                continue
            }
            Self.append(word, to: &argv, overwrite: values.overwrite) { name in
                switch name {
                case "config": return values.config
                case "output": return values.output
                case "gpu": return values.gpu
                case "slot": return keepingSlot ? "{slot}" : String(values.slot)
                case "overwrite": return keepingOverwrite ? "{overwrite}" : nil
                default: return keepingOverwrite && name.hasPrefix("overwrite?") ? "{\(name)}" : nil
                }
            }
        }
        return argv
    }

    /// A queued task's argv at launch: `{gpu}`, `{slot}` and the overwrite forms that
    /// submit kept are filled. (Submit filled `{config}` and `{output}`, so a value that
    /// holds "{gpu}" itself is filled here too: the words no longer say which part came
    /// from the template.)
    public static func launchArgv(_ stored: [String], gpu: String, slot: Int, overwrite: Bool) -> [String] {
        var argv: [String] = []
        argv.reserveCapacity(stored.count)
        for word in stored {
            append(word, to: &argv, overwrite: overwrite) { name in
                name == "gpu" ? gpu : name == "slot" ? String(slot) : nil
            }
        }
        return argv
    }

    /// Appends `word` filled: `value` first, then `{overwrite}` (`--overwrite` with -w, else
    /// nothing) and `{overwrite?WITH:WITHOUT}`. A word that is only one of those and comes
    /// out empty disappears.
    private static func append(_ word: String, to argv: inout [String], overwrite: Bool, _ value: (Substring) -> String?) {
        if word == "{overwrite}" {
            if overwrite { argv.append("--overwrite") }
            return
        }
        let filled = fill(word) { name in
            if let text = value(name) { return text }
            return name == "overwrite" ? (overwrite ? "--overwrite" : "") : overwriteChoice(name, overwrite: overwrite)
        }
        if filled.isEmpty, word.hasPrefix("{overwrite?"), word.utf8.last == UInt8(ascii: "}"),
           word.utf8.dropLast().firstIndex(of: UInt8(ascii: "}")) == nil { return }
        argv.append(filled)
    }

    /// The runner part of a task's identity (`ConfigIdentity`): the template as written,
    /// with `{config}` and `{output}` filled and the per-launch placeholders left as they are.
    public func identityText(config: String, output: String) -> String {
        displayCommand(words.map { word in
            Self.fill(word) { name in
                switch name {
                case "config": return config
                case "output": return output
                default: return nil
                }
            }
        })
    }

    /// Replaces each `{name}` that `value` knows, in one pass over the word's bytes: a
    /// value is never searched again (a config path may hold braces of its own), and a word
    /// with no brace is returned as is. It runs on every launch, between one task's end and
    /// the next one's start.
    public static func fill(_ word: String, _ value: (Substring) -> String?) -> String {
        guard word.utf8.contains(UInt8(ascii: "{")) else { return word }
        var filled = ""
        var rest = Substring(word)
        while let open = rest.utf8.firstIndex(of: UInt8(ascii: "{")) {
            filled += rest[..<open]
            let name = rest[rest.utf8.index(after: open)...]
            guard let close = name.utf8.firstIndex(of: UInt8(ascii: "}")), let text = value(name[..<close]) else {
                filled += "{"
                rest = name
                continue
            }
            filled += text
            rest = name[name.utf8.index(after: close)...]
        }
        filled += rest
        return filled
    }

    /// The text `{overwrite?WITH:WITHOUT}` stands for (`name` is what lies between the
    /// braces); nil for any other name.
    static func overwriteChoice(_ name: Substring, overwrite: Bool) -> String? {
        guard name.hasPrefix("overwrite?") else { return nil }
        let body = name.dropFirst("overwrite?".count)
        guard let colon = body.firstIndex(of: ":") else { return nil }
        return String(overwrite ? body[..<colon] : body[body.index(after: colon)...])
    }

    /// Refuses a `{overwrite` that is neither `{overwrite}` nor a well-formed
    /// `{overwrite?WITH:WITHOUT}` (one `:`, no braces inside, closed in the same word).
    static func checkOverwriteForms(in word: String) throws(UsageError) {
        let form = "write {overwrite} for --overwrite, or {overwrite?WITH:WITHOUT}, e.g. --overwrite {overwrite?True:False}"
        var rest = Substring(word)
        while let open = rest.firstIndex(of: "{") {
            let name = rest[rest.index(after: open)...]
            rest = name
            guard name.hasPrefix("overwrite") else { continue }
            let after = name.dropFirst("overwrite".count)
            guard let next = after.first else {
                throw UsageError("--runner: '\(word)' has {overwrite with no closing }; \(form)")
            }
            if next == "}" || next.isLetter || next.isNumber || next == "_" { continue }
            guard next == "?" else {
                throw UsageError("--runner: '\(word)' has {overwrite\(next)…; \(form)")
            }
            let body = after.dropFirst()
            guard let close = body.firstIndex(of: "}") else {
                throw UsageError("--runner: '\(word)' has {overwrite? with no closing }; \(form)")
            }
            let choice = body[..<close]
            if choice.contains("{") {
                throw UsageError("--runner: '\(word)': {overwrite?WITH:WITHOUT} cannot hold braces; \(form)")
            }
            if choice.count(where: { $0 == ":" }) != 1 {
                throw UsageError("--runner: '\(word)': {overwrite?\(choice)} needs exactly one ':' between the text with -w and the text without; \(form)")
            }
            rest = body[body.index(after: close)...]
        }
    }

    /// `{name}` runs of identifier characters, and with `choices` `{name?...}` (whole, so
    /// that `{overwite?True:False}` or `{gpu?a:b}` is refused, not passed on as text);
    /// other braces (JSON, shell) are left alone.
    static func placeholderNames(in word: String, choices: Bool = false) -> [String] {
        var names: [String] = []
        var rest = Substring(word)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = after[..<close]
            let identifier = name.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !identifier.isEmpty, identifier.count == name.count || (choices && name[identifier.endIndex] == "?") {
                names.append(String(name))
            }
            rest = after[after.index(after: close)...]
        }
        return names
    }
}
