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
    public static let extensions: Set<String> = ["yaml", "yml", "json"]

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
        return ConfigSelection(root: root, paths: matched.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, searched: candidates.count)
    }

    /// A config file is a task unless its stem ends in -base or _base.
    public static func isTaskFile(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), extensions.contains(String(name[name.index(after: dot)...])) else {
            return false
        }
        let stem = name[..<dot]
        return !(stem.hasSuffix("-base") || stem.hasSuffix("_base"))
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
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        if root.hasPrefix("./") && root.count > 2 { root.removeFirst(2) }
        return root
    }

    /// `results/<dir>/<stem>` for `<root>/<dir>/<stem>.<ext>`: where a config's results live.
    public static func resultsFolder(for configPath: String, root: String, results: String) -> String {
        var relative = Substring(configPath)
        if relative.hasPrefix(root + "/") { relative = relative.dropFirst(root.count + 1) }
        if let dot = relative.lastIndex(of: "."), !relative[dot...].contains("/") {
            relative = relative[..<dot]
        }
        return normalized(results) + "/" + relative
    }
}
