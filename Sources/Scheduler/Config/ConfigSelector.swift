import Glibc

/// The configs a run picked: paths (with the root prefix, sorted) and how many files were searched.
public struct ConfigSelection: Equatable, Sendable {
    public let root: String
    public let paths: [String]
    public let searched: Int
}

/// Finds config files under a root and keeps those whose path a regex matches anywhere
/// (Python's `re.search`). Base files (`*-base.yaml`, `*_base.yaml`) are never tasks.
public enum ConfigSelector {
    public static let extensions = ["yaml", "yml", "json"]

    public static func select(root: String, pattern: String) throws(UsageError) -> ConfigSelection {
        let regex = try PathRegex(pattern)
        let root = normalized(root)
        guard FileIO.isDirectory(root) else {
            throw UsageError("config folder '\(root)' not found; run multirun from your project folder or pass --configs DIR")
        }
        let candidates = configFiles(under: root)
        let matched = candidates.filter(regex.matches)
        if matched.isEmpty {
            throw UsageError("no config matches -c '\(pattern)' among \(candidates.count) config files under \(root)/; check the pattern (it is searched in paths like \(candidates.first ?? "\(root)/exp/exp-1.yaml"))")
        }
        // Byte order, not locale order, so the same selection runs in the same order everywhere.
        return ConfigSelection(root: root, paths: matched.sorted(by: bytesPrecede), searched: candidates.count)
    }

    /// memcmp order of the UTF-8 bytes: a generic element-by-element walk of two UTF8Views
    /// cost thousands of instructions per comparison, 100,000 paths times log2 of that.
    static func bytesPrecede(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }

    /// A config file is a task unless its stem ends in -base or _base.
    /// On UTF-8 bytes: it runs for every file under the root.
    public static func isTaskFile(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")) else { return false }
        let suffix = bytes[bytes.index(after: dot)...]
        guard extensions.contains(where: { $0.utf8.elementsEqual(suffix) }) else { return false }
        let stem = bytes[..<dot]
        guard stem.count >= 5 else { return true }
        let ending = stem.suffix(5)
        return !(ending.elementsEqual("-base".utf8) || ending.elementsEqual("_base".utf8))
    }

    /// Every task file below `root`, recursively, as `root/relative/path`. Hidden entries are skipped.
    static func configFiles(under root: String) -> [String] {
        var found: [String] = []
        var pending = [root]
        while let dir = pending.popLast() {
            guard let stream = opendir(dir) else { continue }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name.hasPrefix(".") { continue }
                let path = dir + "/" + name
                var kind = entry.pointee.d_type
                if kind == UInt8(DT_UNKNOWN) || kind == UInt8(DT_LNK) {
                    var info = stat()
                    guard stat(path, &info) == 0 else { continue }
                    kind = (info.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR) : UInt8(DT_REG)
                }
                if kind == UInt8(DT_DIR) {
                    pending.append(path)
                } else if kind == UInt8(DT_REG), isTaskFile(name) {
                    found.append(path)
                }
            }
        }
        return found
    }

    static func normalized(_ root: String) -> String {
        // The usual case, checked on bytes: no trailing slash and no leading ./
        if root.utf8.last != UInt8(ascii: "/") && !root.utf8.starts(with: "./".utf8) { return root }
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        if root.hasPrefix("./") && root.count > 2 { root.removeFirst(2) }
        return root
    }

    /// `results/<dir>/<stem>` for `<root>/<dir>/<stem>.<ext>`: where a config's results live.
    /// Works on UTF-8 indices (every byte it looks for is ASCII): it runs once per config
    /// before the first task starts.
    public static func resultsFolder(for configPath: String, root: String, results: String) -> String {
        let path = configPath.utf8
        var start = path.startIndex
        if path.starts(with: root.utf8),
           let slash = path.index(start, offsetBy: root.utf8.count, limitedBy: path.endIndex),
           slash < path.endIndex, path[slash] == UInt8(ascii: "/") {
            start = path.index(after: slash)
        }
        var end = path.endIndex
        if let dot = path[start...].lastIndex(of: UInt8(ascii: ".")), !path[dot...].contains(UInt8(ascii: "/")) {
            end = dot
        }
        // String(_:) of the Substring copies its bytes; `+` with a Substring appends Characters.
        return normalized(results) + "/" + String(configPath[start..<end])
    }
}
