/// A parsed config document: YAML's and JSON's data model without tags or anchors.
public enum ConfigValue: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigValue])
    /// Keys in document order.
    case map([(key: String, value: ConfigValue)])

    public subscript(key: String) -> ConfigValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    public var int: Int? { if case .int(let value) = self { return value }; return nil }
    public var string: String? { if case .string(let value) = self { return value }; return nil }
    /// The items of a list; empty for anything else.
    public var items: [ConfigValue] { if case .list(let items) = self { return items }; return [] }

    /// What the type is called in error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .list: return "a list"
        case .map: return "a mapping"
        }
    }

    public var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .int(let value): return .int(Int64(value))
        case .double(let value): return .double(value)
        case .string(let value): return .string(value)
        case .list(let items): return .array(items.map(\.json))
        case .map(let entries): return .object(entries.map { ($0.key, $0.value.json) })
        }
    }
}

extension ConfigValue: Equatable {
    /// Structural equality; NaN equals NaN so documents compare as data.
    public static func == (lhs: ConfigValue, rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.map(let a), .map(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// A config that cannot be read, with where: `file:line:col: message`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let source: String
    public let line: Int
    public let column: Int
    public let message: String

    public init(source: String, line: Int, column: Int, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(source):\(line):\(column): \(message)" }

    /// The 1-based line and column of byte `offset` of `bytes`; columns count characters,
    /// not UTF-8 bytes.
    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let at = min(offset, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<at where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return (line, bytes[lineStart..<at].filter { $0 & 0xC0 != 0x80 }.count + 1)
    }
}
