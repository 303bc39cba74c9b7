/// What a config asks runone to do, checked against the schema. Two forms:
///
///     command: [python, train.py, --lr, "{lr}"]   # argv list, or a string for /bin/sh -c
///     params: {lr: 0.1}                           # fills {name}; exported as MULTIRUN_PARAM_LR
///
///     model_params: {name: kuramoto, nodes: 64, ...}
public enum RunoneConfig: Equatable, Sendable {
    case command(CommandSpec)
    case model(KuramotoParameters)
    /// `wong_wang` or `generic_2d_oscillator` on a brain network.
    case wholeBrain(WholeBrainParameters)

    /// The built-in model's memory estimate, if this runs one.
    public var memoryEstimate: (any MemoryEstimating)? {
        switch self {
        case .model(let p): return p
        case .wholeBrain(let p): return p
        case .command: return nil
        }
    }

    /// The built-in models' names (`model_params.name`).
    public static let modelNames = ["kuramoto"] + WholeBrainParameters.ModelName.allCases.map(\.rawValue)

    public struct CommandSpec: Equatable, Sendable {
        public enum Form: Equatable, Sendable {
            case argv([String])
            case shell(String)
        }

        public var form: Form
        public var params: [(name: String, value: ConfigValue)]

        public static func == (lhs: CommandSpec, rhs: CommandSpec) -> Bool {
            lhs.form == rhs.form && lhs.params.map(\.name) == rhs.params.map(\.name)
                && zip(lhs.params, rhs.params).allSatisfy { $0.value == $1.value }
        }
    }

    /// runone's own keys, then multirun's (`resources`), which runone accepts and ignores:
    /// one schema for both (`ConfigSchema`). Keys starting with `x-` or `.` are accepted and
    /// ignored too (`ConfigSchema.isIgnoredKey`).
    static let topLevelKeys = ["command", "params", "model_params", "description", "resources", "priority", "after"]

    public static func from(_ value: ConfigValue, source: String) throws(SchemaError) -> RunoneConfig {
        guard case .map(let entries) = value else {
            throw SchemaError(source: source, key: nil, message: "the config must be a mapping with 'command:' or 'model_params:', found \(value.typeName)")
        }
        for entry in entries where !topLevelKeys.contains(entry.key) && !ConfigSchema.isIgnoredKey(entry.key) {
            // `extends` never gets here (the loader consumes it), but a misspelling of it may.
            let hint = ConfigSchema.suggestion(for: entry.key, among: topLevelKeys + [ConfigDocument.extendsKey]).map { "did you mean '\($0)'? " } ?? ""
            throw SchemaError(source: source, key: entry.key,
                              message: "unknown key; \(hint)a config has \(topLevelKeys.joined(separator: ", ")) (or pass --runner for a runner of your own)")
        }
        if let resources = value["resources"] { _ = try TaskResources.parse(resources, path: source) }
        _ = try ConfigSchema.scheduling(value, path: source)
        if let description = value["description"] {
            switch description {
            case .string, .null: break
            default: throw SchemaError(source: source, key: "description", message: "must be text, found \(description.typeName)")
            }
        }
        switch (value["command"], value["model_params"]) {
        case (.some, .some):
            throw SchemaError(source: source, key: "model_params", message: "give either 'command:' or 'model_params:', not both")
        case (nil, nil):
            throw SchemaError(source: source, key: nil, message: "nothing to run: add 'command:' (with 'params:') or 'model_params:' (name: kuramoto)")
        case (let command?, nil):
            return .command(try commandSpec(command, params: value["params"], source: source))
        case (nil, let model?):
            if value["params"] != nil {
                throw SchemaError(source: source, key: "params", message: "'params:' goes with 'command:'; model settings go inside 'model_params:'")
            }
            if case .string(let name)? = model["name"], let whole = WholeBrainParameters.ModelName(rawValue: name) {
                return .wholeBrain(try WholeBrainParameters.from(model, name: whole, source: source))
            }
            return .model(try KuramotoParameters.from(model, source: source))
        }
    }

    /// Letters, digits and `_` (of any script); ASCII is decided byte by byte, as a
    /// Unicode property lookup per character cost a third of reading a 40,000-key config.
    static func isParameterName(_ name: String) -> Bool {
        name.utf8.allSatisfy { $0 < 0x80 && ($0 == UInt8(ascii: "_") || ($0 | 0x20 >= UInt8(ascii: "a") && $0 | 0x20 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))) }
            || name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    static func commandSpec(_ command: ConfigValue, params: ConfigValue?, source: String) throws(SchemaError) -> CommandSpec {
        var list: [(name: String, value: ConfigValue)] = []
        switch params {
        case nil, .null?: break
        case .map(let entries)?:
            for entry in entries {
                guard !entry.key.isEmpty, Self.isParameterName(entry.key) else {
                    throw SchemaError(source: source, key: "params.\(entry.key)", message: "parameter names use letters, digits and _ only")
                }
                list.append((entry.key, entry.value))
            }
        case let other?:
            throw SchemaError(source: source, key: "params", message: "must be a mapping of name: value, found \(other.typeName)")
        }
        let known = ["config", "output"] + list.map(\.name)
        func knownList() -> String {
            known.prefix(12).map { "{\($0.excerpt)}" }.joined(separator: " ") + (known.count > 12 ? " and \(known.count - 12) more" : "")
        }
        func checkPlaceholders(_ text: String, key: String) throws(SchemaError) {
            for name in RunnerTemplate.placeholderNames(in: text) where !known.contains(name) {
                throw SchemaError(source: source, key: key,
                                  message: "placeholder {\(name.excerpt)} has no value; add '\(name.excerpt):' under params (known: \(knownList()))")
            }
        }
        switch command {
        case .string(let line) where !line.isEmpty:
            // Filled as runone will fill it: unknown placeholders and the quoting rules'
            // errors come now, before anything starts, not when the task runs.
            var values = ["config": "", "output": ""]
            for param in list { values[param.name] = CommandTemplate.text(of: param.value) }
            do { _ = try ShellLineTemplate.fill(line, values) } catch {
                throw SchemaError(source: source, key: "command", message: error.message)
            }
            return CommandSpec(form: .shell(line), params: list)
        case .list(let items) where !items.isEmpty:
            var argv: [String] = []
            for (index, item) in items.enumerated() {
                guard let text = item.scalarText else {
                    throw SchemaError(source: source, key: "command[\(index)]", message: "must be text or a number, found \(item.typeName)")
                }
                try checkPlaceholders(text, key: "command[\(index)]")
                argv.append(text)
            }
            return CommandSpec(form: .argv(argv), params: list)
        default:
            throw SchemaError(source: source, key: "command", message: "must be a non-empty list of arguments or a command line string, found \(command.typeName)")
        }
    }
}

/// A config that parses but does not fit the schema; names the key.
public struct SchemaError: Error, Equatable, Sendable, CustomStringConvertible {
    public let source: String
    public let key: String?
    public let message: String

    public var description: String {
        if let key { return "\(source): key '\(key)': \(message)" }
        return "\(source): \(message)"
    }
}

extension ConfigValue {
    /// Scalars as a command-line argument: ints as digits, floats like Python's repr,
    /// booleans as true/false. Collections and null have no argument form.
    public var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .int(let value): return String(value)
        case .double(let value) where !value.isFinite: return value.isNaN ? "nan" : value < 0 ? "-inf" : "inf"  // Python's repr
        case .double(let value): return JSON.number(value)
        case .bool(let value): return value ? "true" : "false"
        case .null, .list, .map: return nil
        }
    }
}
