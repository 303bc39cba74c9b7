/// A parsed config file and where each of its keys and list items was written, so that a
/// problem found after parsing (an unknown key, a wrong type) still names `file:line:col`.
///
/// A document merged from a chain of files (`extends`, `ConfigLoader`) keeps the files it
/// was merged from and, for each key whose value a base gave, which base: a problem with a
/// key that came from a base names the base's `file:line:col`.
public struct ConfigDocument: Sendable {
    public let value: ConfigValue
    public let source: String
    let bytes: [UInt8]
    /// `resources.gpus`, `command[2]`: key paths in document order, with byte offsets.
    let positions: [(path: String, offset: Int)]
    /// For a merged document: the bases' own documents as parsed, nearest first. Empty for
    /// a single file.
    let bases: [ConfigDocument]
    /// For a merged document: key paths whose value came from another file than their
    /// parent's did (0: this file, n: `bases[n - 1]`); a path not listed came from where
    /// its parent did, and a top-level key not listed from this file.
    let origins: [String: Int]

    /// A single file's document, as `ConfigParser.document` reads it.
    init(value: ConfigValue, source: String, bytes: [UInt8], positions: [(path: String, offset: Int)]) {
        self.init(value: value, source: source, bytes: bytes, positions: positions, bases: [], origins: [:])
    }

    private init(value: ConfigValue, source: String, bytes: [UInt8], positions: [(path: String, offset: Int)],
                 bases: [ConfigDocument], origins: [String: Int]) {
        self.value = value
        self.source = source
        self.bytes = bytes
        self.positions = positions
        self.bases = bases
        self.origins = origins
    }

    /// `file:line:col` of `path` (a key path as `SchemaError` names it), or of its nearest
    /// enclosing key that was written; this file's start when none was. In a merged
    /// document, in the file the key's value came from.
    public func location(of path: String?) -> String { place(of: path).location }

    /// `location(of:)`, and whether it is in a base rather than in this file.
    func place(of path: String?) -> (location: String, inBase: Bool) {
        var path = path ?? ""
        while !path.isEmpty {
            let origin = origin(of: path)
            let file = layer(origin)
            if let found = file.positions.first(where: { $0.path == path }) { return (file.location(offset: found.offset), origin != 0) }
            path = Self.parent(of: path)
        }
        return (location(offset: 0), false)
    }

    /// 0 for this file, n for `bases[n - 1]`.
    func origin(of path: String) -> Int {
        guard !origins.isEmpty else { return 0 }
        var path = path
        while !path.isEmpty {
            if let origin = origins[path] { return origin }
            path = Self.parent(of: path)
        }
        return 0
    }

    private func layer(_ index: Int) -> ConfigDocument { index == 0 || index > bases.count ? self : bases[index - 1] }

    /// `a.b[2]` → `a.b`, `a.b` → `a`, `a` → ``.
    static func parent(of path: String) -> String {
        guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return "" }
        return String(path[..<cut])
    }

    /// `component` (a key, or `[i]`) under `path`, spelled as the parser records it.
    static func child(_ component: String, of path: String) -> String {
        path.isEmpty || component.hasPrefix("[") ? path + component : path + "." + component
    }

    func location(offset: Int) -> String {
        let (line, column) = ConfigError.lineAndColumn(of: offset, in: bytes)
        return "\(source):\(line):\(column)"
    }

    // MARK: - Merging

    /// The key that names a config's base; it is consumed by the merge.
    public static let extendsKey = "extends"

    /// `chain` (a config first, then its base, the base's base, ...; each a mapping, as
    /// parsed) merged into one document: mappings merge key by key, recursively; where two
    /// files give a key, the nearer file's value wins, and anything but two mappings (lists,
    /// scalars, a mapping against a scalar) is taken whole from the nearer file. Each
    /// file's top-level `extends` is left out. Keys keep the order of the furthest file
    /// that has them; keys a nearer file adds follow. Locations of a key name the file its
    /// value came from.
    public static func merged(_ chain: [ConfigDocument]) -> ConfigDocument {
        guard let own = chain.first else { preconditionFailure("merged: an empty chain") }
        let layers = chain.enumerated().map { index, document -> (layer: Int, entries: [(key: String, value: ConfigValue)]) in
            guard case .map(let entries) = document.value else { return (index, []) }
            return (index, entries.filter { $0.key != extendsKey })
        }
        var origins: [String: Int] = [:]
        let value = mergeMaps(layers, path: "", inherited: 0, origins: &origins)
        return ConfigDocument(value: value, source: own.source, bytes: own.bytes, positions: own.positions,
                              bases: Array(chain.dropFirst()), origins: origins)
    }

    /// `layers`: the mappings found at `path`, nearest file first, all taking part.
    private static func mergeMaps(_ layers: [(layer: Int, entries: [(key: String, value: ConfigValue)])], path: String,
                                  inherited: Int, origins: inout [String: Int]) -> ConfigValue {
        // One file gives this whole mapping: it is taken as written.
        if layers.count == 1 { return .map(layers[0].entries) }
        // Keys in the order of the furthest file, then each nearer file's new keys.
        var order: [String] = []
        var seen: Set<String> = []
        var indexes: [[String: Int]] = Array(repeating: [:], count: layers.count)
        for position in layers.indices.reversed() {
            for (index, entry) in layers[position].entries.enumerated() {
                indexes[position][entry.key] = index
                if seen.insert(entry.key).inserted { order.append(entry.key) }
            }
        }
        var result: [(key: String, value: ConfigValue)] = []
        result.reserveCapacity(order.count)
        for key in order {
            // The files that give this key, nearest first.
            var present: [(layer: Int, value: ConfigValue)] = []
            for position in layers.indices {
                if let index = indexes[position][key] { present.append((layers[position].layer, layers[position].entries[index].value)) }
            }
            let childPath = child(key, of: path)
            let nearest = present[0]
            if nearest.layer != inherited { origins[childPath] = nearest.layer }
            guard case .map = nearest.value else {
                result.append((key, nearest.value))
                continue
            }
            // A mapping merges with the mappings under it, down to the first file whose
            // value is not one (which it replaces, with everything further).
            var mappings: [(layer: Int, entries: [(key: String, value: ConfigValue)])] = []
            for item in present {
                guard case .map(let entries) = item.value else { break }
                mappings.append((item.layer, entries))
            }
            result.append((key, mergeMaps(mappings, path: childPath, inherited: nearest.layer, origins: &origins)))
        }
        return .map(result)
    }
}
