/// A parsed config file and where each of its keys and list items was written, so that a
/// problem found after parsing (an unknown key, a wrong type) still names `file:line:col`.
public struct ConfigDocument: Sendable {
    public let value: ConfigValue
    public let source: String
    let bytes: [UInt8]
    /// `resources.gpus`, `command[2]`: key paths in document order, with byte offsets.
    let positions: [(path: String, offset: Int)]

    /// `file:line:col` of `path` (a key path as `SchemaError` names it), or of its nearest
    /// enclosing key that was written; the file's start when none was.
    public func location(of path: String?) -> String {
        var path = path ?? ""
        while !path.isEmpty {
            if let found = positions.first(where: { $0.path == path }) { return location(offset: found.offset) }
            path = Self.parent(of: path)
        }
        return location(offset: 0)
    }

    /// `a.b[2]` → `a.b`, `a.b` → `a`, `a` → ``.
    static func parent(of path: String) -> String {
        guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return "" }
        return String(path[..<cut])
    }

    func location(offset: Int) -> String {
        let (line, column) = ConfigError.lineAndColumn(of: offset, in: bytes)
        return "\(source):\(line):\(column)"
    }
}
