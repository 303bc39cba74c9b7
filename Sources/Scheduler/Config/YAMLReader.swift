/// Reads one YAML document into a `ConfigValue` as PyYAML's `safe_load` does: its parser
/// (`yaml/parser.py`), composer (anchors and aliases) and SafeConstructor (standard tags,
/// merge keys `<<`, implicit int/float/bool/null resolution) in one recursive pass over
/// `YAMLScanner`'s tokens.
///
/// The deliberate differences (docs/YAML-DIFFERENCES.md): keys stay the text written;
/// a key written twice in one mapping is an error naming the line of the first; dates stay
/// text; complex keys (`? `), recursive aliases, `!!binary`/`!!set`/`!!omap`/`!!pairs`,
/// integers beyond 64 bits and nesting deeper than `ConfigParser.maxDepth` are refused;
/// aliases may expand a document to at most `maxExpandedValues` values (or ten times the
/// values written, if more), so a few lines cannot stand for a billion.
struct YAMLReader {
    static let maxExpandedValues = 1_000_000
    static let core = "tag:yaml.org,2002:"

    private var scanner: YAMLScanner
    private let bytes: [UInt8]
    private let source: String

    var keyPaths = KeyPathRecorder()

    private var depth = 0
    private var anchors: [String: Node] = [:]
    /// Anchors whose node is still being read: an alias to one would be recursive.
    private var openAnchors: Set<String> = []
    private var tagHandles: [String: String] = [:]
    /// Values written (each scalar and collection once), for the alias expansion limit.
    private var written = 0

    /// A node read, with what its parent needs to know of it.
    private struct Node {
        enum Kind { case scalar, sequence, mapping }
        var value: ConfigValue
        var kind: Kind
        /// A scalar's text as written (after quoting and folding), for keys.
        var text = ""
        /// A key that asks for a merge (`<<`).
        var isMerge = false
        /// A plain `=` (YAML 1.1's value key): text as a key, refused as a value.
        var isValueIndicator = false
        var start: Int
        /// Values in the node once aliases are expanded, and its nesting.
        var size = 1
        var height = 0
    }

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
        scanner = YAMLScanner(bytes: bytes, source: source)
    }

    private func error(_ message: String, at offset: Int) -> ConfigError {
        scanner.error(message, at: offset)
    }

    // MARK: - Stream and document

    /// The stream's one document; null when there is none.
    mutating func document() throws(ConfigError) -> ConfigValue {
        var root: Node?
        var sawDocument = false
        if !(try scanner.check(.directive, .documentStart, .streamEnd)) {
            tagHandles = Self.defaultHandles
            sawDocument = true
            root = try node(block: true)
            try endDocument()
        }
        while true {
            while try scanner.check(.documentEnd) { _ = try scanner.next() }
            if try scanner.check(.streamEnd) { break }
            let start = try scanner.peekToken().start
            try directives()
            guard try scanner.check(.documentStart) else {
                throw error("expected '---' after the directives; found \(try scanner.peekToken().described)", at: try scanner.peekToken().start)
            }
            if sawDocument {
                throw error("a second document ('---') is not supported; use one document per config file", at: start)
            }
            sawDocument = true
            _ = try scanner.next()
            if !(try scanner.check(.directive, .documentStart, .documentEnd, .streamEnd)) {
                root = try node(block: true)
            }
            try endDocument()
        }
        guard let root else { return .null }
        let limit = max(Self.maxExpandedValues, 10 * written)
        if root.size > limit {
            throw error("aliases expand this config to more than \(limit) values; write the repeated parts out, or use fewer aliases", at: 0)
        }
        return try usable(root)
    }

    /// A node's value where a value is expected: a plain `<<` or `=` is not one.
    private func usable(_ node: Node) throws(ConfigError) -> ConfigValue {
        if node.isMerge {
            throw error("'<<' merges mappings as a key ('<<: *base'); as a value, quote it", at: node.start)
        }
        if node.isValueIndicator {
            throw error("a plain '=' has a special meaning in YAML 1.1; quote it", at: node.start)
        }
        return node.value
    }

    private mutating func endDocument() throws(ConfigError) {
        let token = try scanner.peekToken()
        switch token.kind {
        case .documentEnd, .documentStart, .directive, .streamEnd: return
        default:
            throw error("unexpected \(token.described) after the document's content; check this line's indentation", at: token.start)
        }
    }

    private static let defaultHandles = ["!": "!", "!!": core]

    private mutating func directives() throws(ConfigError) {
        var sawVersion = false
        tagHandles = [:]
        while try scanner.check(.directive) {
            let token = try scanner.next()
            switch token.name {
            case "YAML":
                if sawVersion { throw error("%YAML appears twice; keep one", at: token.start) }
                sawVersion = true
                if token.major != 1 { throw error("this reader reads YAML 1.x; the %YAML directive names another major version", at: token.start) }
            case "TAG":
                let handle = token.handle ?? "!"
                if tagHandles[handle] != nil { throw error("%TAG defines the handle '\(handle)' twice", at: token.start) }
                tagHandles[handle] = token.text
            default:
                break  // PyYAML ignores unknown directives too.
            }
        }
        for (handle, prefix) in Self.defaultHandles where tagHandles[handle] == nil { tagHandles[handle] = prefix }
    }

    // MARK: - Nodes

    /// One node: an alias, or properties (anchor, tag) and content.
    private mutating func node(block: Bool, indentlessSequence: Bool = false) throws(ConfigError) -> Node {
        let first = try scanner.peekToken()
        if first.kind == .alias {
            _ = try scanner.next()
            if let node = anchors[first.text] { return node }
            if openAnchors.contains(first.text) {
                throw error("alias '*\(first.text.excerpt)' is inside the node it names; a config cannot contain itself", at: first.start)
            }
            throw error("alias '*\(first.text.excerpt)' names no anchor above it; define '&\(first.text.excerpt)' before using it", at: first.start)
        }
        var anchor: YAMLToken?
        var tag: YAMLToken?
        for _ in 0..<2 {
            let token = try scanner.peekToken()
            if token.kind == .anchor && anchor == nil {
                anchor = try scanner.next()
            } else if token.kind == .tag && tag == nil {
                tag = try scanner.next()
            }
        }
        if let anchor {
            if anchors[anchor.text] != nil || openAnchors.contains(anchor.text) {
                throw error("anchor '&\(anchor.text.excerpt)' is defined twice; give each anchor its own name", at: anchor.start)
            }
            openAnchors.insert(anchor.text)
        }
        let fullTag = try tag.map { (token) throws(ConfigError) -> String in try resolveHandle(token) }
        let start = anchor?.start ?? tag?.start ?? first.start
        let token = try scanner.peekToken()
        var node: Node
        switch token.kind {
        case .blockEntry where indentlessSequence:
            node = try sequence(tag: fullTag, start: start) { (reader) throws(ConfigError) in try reader.indentlessSequenceItems() }
        case .scalar:
            _ = try scanner.next()
            node = try scalar(token, tag: fullTag, start: start)
        case .flowSequenceStart:
            node = try sequence(tag: fullTag, start: start) { (reader) throws(ConfigError) in try reader.flowSequenceItems() }
        case .flowMappingStart:
            node = try mapping(tag: fullTag, start: start) { (reader) throws(ConfigError) in try reader.flowMappingPairs() }
        case .blockSequenceStart where block:
            node = try sequence(tag: fullTag, start: start) { (reader) throws(ConfigError) in try reader.blockSequenceItems() }
        case .blockMappingStart where block:
            node = try mapping(tag: fullTag, start: start) { (reader) throws(ConfigError) in try reader.blockMappingPairs() }
        default:
            guard anchor != nil || tag != nil else {
                throw error("expected a value; found \(token.described)", at: token.start)
            }
            var empty = YAMLToken(.scalar, at: start)
            empty.style = .plain
            node = try scalar(empty, tag: fullTag, start: start)
        }
        if let anchor {
            openAnchors.remove(anchor.text)
            anchors[anchor.text] = node
        }
        return node
    }

    /// `!!str` → `tag:yaml.org,2002:str`; `!` alone stays `!` (resolve by value).
    private func resolveHandle(_ token: YAMLToken) throws(ConfigError) -> String {
        guard let handle = token.handle else { return token.text }
        if handle == "!" && token.text.isEmpty { return "!" }
        guard let prefix = tagHandles[handle] else {
            throw error("tag handle '\(handle.excerpt)' is not defined; use '!!' tags, or define it with %TAG", at: token.start)
        }
        return prefix + token.text
    }

    // MARK: Collections

    private mutating func enterCollection(at start: Int) throws(ConfigError) {
        depth += 1
        if depth > ConfigParser.maxDepth {
            throw error("lists and mappings nested more than \(ConfigParser.maxDepth) levels deep; flatten the config", at: start)
        }
    }

    private mutating func sequence(tag: String?, start: Int, items read: (inout YAMLReader) throws(ConfigError) -> [Node]) throws(ConfigError) -> Node {
        if let tag, tag != "!", tag != Self.core + "seq" {
            throw unsupported(tag: tag, on: "a list", at: start)
        }
        try enterCollection(at: start)
        let items = try read(&self)
        depth -= 1
        written += 1
        var values: [ConfigValue] = []
        values.reserveCapacity(items.count)
        for item in items { values.append(try usable(item)) }
        var node = Node(value: .list(values), kind: .sequence, start: start)
        for item in items {
            node.size = node.size.addingSaturated(item.size)
            node.height = max(node.height, item.height + 1)
        }
        try checkHeight(node)
        return node
    }

    private mutating func mapping(tag: String?, start: Int, pairs read: (inout YAMLReader) throws(ConfigError) -> [(key: Node, value: Node)]) throws(ConfigError) -> Node {
        if let tag, tag != "!", tag != Self.core + "map" {
            throw unsupported(tag: tag, on: "a mapping", at: start)
        }
        try enterCollection(at: start)
        let pairs = try read(&self)
        depth -= 1
        written += 1
        var node = try constructMapping(pairs, start: start)
        node.height = max(node.height, 1)
        try checkHeight(node)
        return node
    }

    /// Aliases can nest a document deeper than it is written.
    private func checkHeight(_ node: Node) throws(ConfigError) {
        if node.height > ConfigParser.maxDepth {
            throw error("lists and mappings nested more than \(ConfigParser.maxDepth) levels deep once aliases are expanded; flatten the config", at: node.start)
        }
    }

    private mutating func blockSequenceItems() throws(ConfigError) -> [Node] {
        _ = try scanner.next()  // BLOCK-SEQUENCE-START
        var items: [Node] = []
        while true {
            let token = try scanner.peekToken()
            if token.kind == .blockEntry {
                _ = try scanner.next()
                items.append(try item(index: items.count, at: token.start, empty: .blockEntry, .blockEnd) { (reader) throws(ConfigError) in
                    try reader.node(block: true)
                })
            } else if token.kind == .blockEnd {
                _ = try scanner.next()
                return items
            } else {
                throw error("expected another '- ' item or the end of the list; found \(token.described) (check its indentation)", at: token.start)
            }
        }
    }

    /// `key:` followed by `- ` items at the key's own indentation.
    private mutating func indentlessSequenceItems() throws(ConfigError) -> [Node] {
        var items: [Node] = []
        while try scanner.check(.blockEntry) {
            let token = try scanner.next()
            items.append(try item(index: items.count, at: token.start, empty: .blockEntry, .key, .value, .blockEnd) { (reader) throws(ConfigError) in
                try reader.node(block: true)
            })
        }
        return items
    }

    private mutating func flowSequenceItems() throws(ConfigError) -> [Node] {
        let open = try scanner.next()
        var items: [Node] = []
        while true {
            if try scanner.check(.flowSequenceEnd) { _ = try scanner.next(); return items }
            if !items.isEmpty {
                let token = try scanner.peekToken()
                guard token.kind == .flowEntry else {
                    if token.kind == .streamEnd { throw error("unclosed '[': no ']' before the end of the file", at: open.start) }
                    throw error("expected ',' or ']' in a [...] list; found \(token.described)", at: token.start)
                }
                _ = try scanner.next()
                if try scanner.check(.flowSequenceEnd) { continue }
            }
            let token = try scanner.peekToken()
            if token.kind == .key {
                // `[a: 1]`: a list item that is a mapping of one pair.
                _ = try scanner.next()
                if token.isExplicitKey { throw complexKey(at: token.start) }
                let saved = enter("[\(items.count)]", at: token.start)
                let key = try emptyOr(.value, .flowEntry, .flowSequenceEnd, at: token.start) { (reader) throws(ConfigError) in
                    try reader.node(block: false)
                }
                let value = try pairValue(flowEnds: .flowSequenceEnd)
                leave(saved)
                try enterCollection(at: token.start)
                depth -= 1
                written += 1
                var pair = try constructMapping([(key, value)], start: token.start)
                pair.height = max(pair.height, 1)
                try checkHeight(pair)
                items.append(pair)
            } else {
                if token.kind == .streamEnd { throw error("unclosed '[': no ']' before the end of the file", at: open.start) }
                let saved = enter("[\(items.count)]", at: token.start)
                items.append(try node(block: false))
                leave(saved)
            }
        }
    }

    private mutating func flowMappingPairs() throws(ConfigError) -> [(key: Node, value: Node)] {
        let open = try scanner.next()
        var pairs: [(key: Node, value: Node)] = []
        while true {
            if try scanner.check(.flowMappingEnd) { _ = try scanner.next(); return pairs }
            if !pairs.isEmpty {
                let token = try scanner.peekToken()
                guard token.kind == .flowEntry else {
                    if token.kind == .streamEnd { throw error("unclosed '{': no '}' before the end of the file", at: open.start) }
                    throw error("expected ',' or '}' in a {...} mapping; found \(token.described)", at: token.start)
                }
                _ = try scanner.next()
                if try scanner.check(.flowMappingEnd) { continue }
            }
            let token = try scanner.peekToken()
            if token.kind == .streamEnd { throw error("unclosed '{': no '}' before the end of the file", at: open.start) }
            if token.kind == .key {
                _ = try scanner.next()
                if token.isExplicitKey { throw complexKey(at: token.start) }
                let key = try emptyOr(.value, .flowEntry, .flowMappingEnd, at: token.start) { (reader) throws(ConfigError) in
                    try reader.node(block: false)
                }
                let saved = enter(key.text, at: key.start)
                let value = try pairValue(flowEnds: .flowMappingEnd)
                leave(saved)
                pairs.append((key, value))
            } else {
                // `{a, b}`: keys without values.
                let key = try node(block: false)
                pairs.append((key, emptyScalar(at: key.start)))
            }
        }
    }

    /// A flow pair's value after its key: `: value`, `:` alone, or nothing.
    private mutating func pairValue(flowEnds end: YAMLToken.Kind) throws(ConfigError) -> Node {
        let token = try scanner.peekToken()
        guard token.kind == .value else { return emptyScalar(at: token.start) }
        _ = try scanner.next()
        return try emptyOr(.flowEntry, end, at: token.start) { (reader) throws(ConfigError) in try reader.node(block: false) }
    }

    private mutating func blockMappingPairs() throws(ConfigError) -> [(key: Node, value: Node)] {
        _ = try scanner.next()  // BLOCK-MAPPING-START
        var pairs: [(key: Node, value: Node)] = []
        while true {
            let token = try scanner.peekToken()
            if token.kind == .blockEnd {
                _ = try scanner.next()
                return pairs
            }
            guard token.kind == .key else {
                if token.kind == .blockEntry || token.kind == .blockSequenceStart {
                    throw error("a list item where a key was expected; indent the list under its key", at: token.start)
                }
                throw error("expected 'key: value' at this indentation; found \(token.described)", at: token.start)
            }
            _ = try scanner.next()
            if token.isExplicitKey { throw complexKey(at: token.start) }
            let key = try emptyOr(.key, .value, .blockEnd, at: token.start) { (reader) throws(ConfigError) in
                try reader.node(block: true, indentlessSequence: true)
            }
            let saved = enter(key.text, at: key.start)
            let value: Node
            let next = try scanner.peekToken()
            if next.kind == .value {
                _ = try scanner.next()
                value = try emptyOr(.key, .value, .blockEnd, at: next.start) { (reader) throws(ConfigError) in
                    try reader.node(block: true, indentlessSequence: true)
                }
            } else {
                value = emptyScalar(at: next.start)
            }
            leave(saved)
            pairs.append((key, value))
        }
    }

    /// A list item: empty (null) when the next token is one of `empty`, else `read`.
    private mutating func item(index: Int, at start: Int, empty: YAMLToken.Kind..., read: (inout YAMLReader) throws(ConfigError) -> Node) throws(ConfigError) -> Node {
        let saved = enter("[\(index)]", at: start)
        defer { leave(saved) }
        if empty.contains(try scanner.peekToken().kind) { return emptyScalar(at: start) }
        return try read(&self)
    }

    private mutating func emptyOr(_ ends: YAMLToken.Kind..., at start: Int, read: (inout YAMLReader) throws(ConfigError) -> Node) throws(ConfigError) -> Node {
        if ends.contains(try scanner.peekToken().kind) { return emptyScalar(at: start) }
        return try read(&self)
    }

    private mutating func emptyScalar(at start: Int) -> Node {
        written += 1
        return Node(value: .null, kind: .scalar, start: start)
    }

    private func complexKey(at start: Int) -> ConfigError {
        error("complex keys ('? ') are not supported; write 'key: value' with a plain or quoted key", at: start)
    }

    // MARK: - Construction

    private mutating func scalar(_ token: YAMLToken, tag: String?, start: Int) throws(ConfigError) -> Node {
        written += 1
        var node = Node(value: .null, kind: .scalar, text: token.text, start: start)
        // PyYAML resolves by value a plain scalar without a tag, and any scalar tagged '!'.
        if tag == nil || tag == "!" {
            guard token.style == .plain || tag == "!" else {
                node.value = .string(token.text)
                return node
            }
            switch token.text {
            case "<<": node.isMerge = true
            case "=": node.isValueIndicator = true
            default: node.value = try YAMLScalars.resolve(token.text) { (message) in error(message, at: start) }
            }
            return node
        }
        let text = token.text
        switch tag ?? "" {
        case Self.core + "str":
            node.value = .string(text)
        case Self.core + "null":
            node.value = .null
        case Self.core + "bool":
            guard let value = YAMLScalars.bool(text.lowercased()) else {
                throw error("'\(text.excerpt)' is not a boolean for !!bool; write true/false, yes/no or on/off", at: start)
            }
            node.value = .bool(value)
        case Self.core + "int":
            node.value = .int(try YAMLScalars.taggedInteger(text) { (message) in error(message, at: start) })
        case Self.core + "float":
            guard let value = YAMLScalars.taggedDouble(text) else {
                throw error("'\(text.excerpt)' is not a number for !!float", at: start)
            }
            node.value = .double(value)
        case Self.core + "timestamp":
            // The constructor's pattern also takes a date with one-digit month or day.
            let utf8 = Array(text.utf8)
            guard YAMLScalars.isTimestamp(utf8) || YAMLScalars.isShortDate(utf8), YAMLScalars.isValidTimestamp(utf8) else {
                throw error("'\(text.excerpt)' is not a date for !!timestamp; write YYYY-MM-DD or an ISO 8601 time", at: start)
            }
            node.value = .string(text)
        case Self.core + "merge":
            node.isMerge = true
        default:
            throw unsupported(tag: tag ?? "", on: "a scalar", at: start)
        }
        return node
    }

    private func unsupported(tag: String, on what: String, at start: Int) -> ConfigError {
        let short = tag.hasPrefix(Self.core) ? "!!" + tag.dropFirst(Self.core.count) : tag
        switch tag {
        case Self.core + "seq", Self.core + "map", Self.core + "str", Self.core + "int", Self.core + "float",
             Self.core + "bool", Self.core + "null", Self.core + "timestamp", Self.core + "merge":
            return error("tag '\(short)' does not fit \(what); remove the tag or change the value", at: start)
        case Self.core + "binary", Self.core + "set", Self.core + "omap", Self.core + "pairs":
            return error("tag '\(short)' is not supported in configs; write a plain list, mapping or string", at: start)
        default:
            return error("tag '\(short.excerpt)' is not supported: configs are read safely, as yaml.safe_load does, with the standard tags only (!!str, !!int, !!float, !!bool, !!null, !!seq, !!map); remove the tag", at: start)
        }
    }

    /// A mapping from its pairs as written: merges (`<<`) first in PyYAML's order, then
    /// the mapping's own keys, which win; a key written twice is an error.
    private mutating func constructMapping(_ pairs: [(key: Node, value: Node)], start: Int) throws(ConfigError) -> Node {
        var own: [(key: String, value: ConfigValue)] = []
        own.reserveCapacity(pairs.count)
        var firstOffset: [String: Int] = [:]
        var ownStarts: [Int] = []
        var merged: [(key: String, value: ConfigValue)] = []
        var node = Node(value: .null, kind: .mapping, start: start)
        for (key, value) in pairs {
            node.size = node.size.addingSaturated(value.size)
            // Merged entries sit in this mapping, not below it: a merge adds no level.
            let below = key.isMerge ? (value.kind == .sequence ? value.height - 1 : value.height) : value.height + 1
            node.height = max(node.height, below)
            if key.isMerge {
                merged += try mergeSources(value, at: key.start)
                continue
            }
            guard key.kind == .scalar else {
                throw error("a list or mapping as a key is not supported; use a plain or quoted key", at: key.start)
            }
            // Most mappings are small, where a scan beats hashing every key.
            var first: Int?
            if pairs.count <= 16 {
                first = ownStarts.indices.first { own[$0].key == key.text }.map { ownStarts[$0] }
            } else {
                first = firstOffset.updateValue(key.start, forKey: key.text)
            }
            if let first {
                let (line, _) = ConfigError.lineAndColumn(of: first, in: bytes)
                throw error("duplicate key '\(key.text.excerpt)' (first set on line \(line)); keep one", at: key.start)
            }
            own.append((key.text, try usable(value)))
            ownStarts.append(key.start)
        }
        if merged.isEmpty {
            node.value = .map(own)
            return node
        }
        // Python's dict: a key keeps the place where it first appeared and the value it
        // was given last.
        var entries: [(key: String, value: ConfigValue)] = []
        var position: [String: Int] = [:]
        for entry in merged + own {
            if let at = position[entry.key] {
                entries[at].value = entry.value
            } else {
                position[entry.key] = entries.count
                entries.append(entry)
            }
        }
        node.value = .map(entries)
        return node
    }

    /// What `<<: value` merges: a mapping's entries, or a list of mappings' entries with
    /// earlier mappings winning (they come later).
    private func mergeSources(_ value: Node, at start: Int) throws(ConfigError) -> [(key: String, value: ConfigValue)] {
        switch value.value {
        case .map(let entries) where value.kind == .mapping:
            return entries
        case .list(let items) where value.kind == .sequence:
            var merged: [(key: String, value: ConfigValue)] = []
            for item in items.reversed() {
                guard case .map(let entries) = item else {
                    throw error("'<<' merges mappings; this list holds \(item.typeName)", at: value.start)
                }
                merged += entries
            }
            return merged
        default:
            throw error("'<<' merges a mapping or a list of mappings (as in '<<: *base'); found \(value.value.typeName)", at: start)
        }
    }

    // MARK: - Positions

    private mutating func enter(_ component: String, at offset: Int) -> String { keyPaths.enter(component, at: offset) }
    private mutating func leave(_ saved: String) { keyPaths.leave(saved) }
}

extension Int {
    /// `self + other`, stopping at `Int.max / 2` instead of trapping.
    func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow || sum > Int.max / 2 ? Int.max / 2 : sum
    }
}
