import Glibc

/// The configs a run picked: paths (with the root prefix, sorted) and how many files were searched.
public struct ConfigSelection: Equatable, Sendable {
    public let root: String
    public let paths: [String]
    public let searched: Int
    /// Entries the walk skipped, one line each: a symlink loop, an unreadable folder, a
    /// name that is not UTF-8.
    public var skipped: [String] = []
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
        let (candidates, skipped) = configFiles(under: root)
        let matched = candidates.filter(regex.matches)
        if matched.isEmpty {
            throw UsageError("no config matches -c '\(pattern)' among \(candidates.count) config files under \(root)/; check the pattern (it is searched in paths like \(candidates.first ?? "\(root)/exp/exp-1.yaml"))")
        }
        // Byte order, not locale order, so the same selection runs in the same order everywhere.
        return ConfigSelection(root: root, paths: matched.sorted(by: bytesPrecede), searched: candidates.count, skipped: skipped)
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

    /// A folder as the kernel knows it, so a symlink back up the tree is seen as a loop.
    struct FolderID: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// Every task file below `root`, recursively, as `root/relative/path`, and what was
    /// skipped. Hidden entries are skipped silently. Symlinks are followed, but a folder is
    /// entered once (a loop ends there); a folder that cannot be read, or a name that is not
    /// UTF-8 (it could not be named in a command line or a log), is reported and skipped.
    static func configFiles(under root: String) -> (files: [String], skipped: [String]) {
        var found: [String] = []
        var skipped: [String] = []
        var entered: Set<FolderID> = []
        var pending = [root]
        // Folders reached through a symlink wait until every real folder was searched: a
        // link to a folder of the tree must not take its place (and its configs' names).
        var linked: [String] = []
        while let dir = pending.popLast() ?? linked.popLast() {
            var info = stat()
            guard stat(dir, &info) == 0 else { continue }
            guard entered.insert(FolderID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else {
                skipped.append("\(dir)/: this folder was already searched through another path (a symlink loop, or a second link to it); skipped")
                continue
            }
            guard let stream = opendir(dir) else {
                skipped.append("\(dir)/: cannot be read (\(String(cString: strerror(errno)))); skipped")
                continue
            }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let raw = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                if raw.first == UInt8(ascii: ".") { continue }
                guard let name = String(validating: raw, as: UTF8.self) else {
                    skipped.append("\(dir)/\(String(decoding: raw, as: UTF8.self)): the name is not valid UTF-8; rename it to run it. Skipped")
                    continue
                }
                let path = dir + "/" + name
                var kind = entry.pointee.d_type
                var isLink = kind == UInt8(DT_LNK)
                if kind == UInt8(DT_UNKNOWN) {
                    var own = stat()
                    guard lstat(path, &own) == 0 else { continue }
                    isLink = (own.st_mode & S_IFMT) == S_IFLNK
                }
                if kind == UInt8(DT_UNKNOWN) || isLink {
                    guard stat(path, &info) == 0 else { continue }
                    kind = (info.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR) : UInt8(DT_REG)
                }
                if kind == UInt8(DT_DIR) {
                    if isLink { linked.append(path) } else { pending.append(path) }
                } else if kind == UInt8(DT_REG), isTaskFile(name) {
                    found.append(path)
                }
            }
        }
        return (found, skipped)
    }

    static func normalized(_ root: String) -> String {
        // The usual case, checked on bytes: no trailing slash and no leading ./
        if root.utf8.last != UInt8(ascii: "/") && !root.utf8.starts(with: "./".utf8) { return root }
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        if root.hasPrefix("./") && root.count > 2 { root.removeFirst(2) }
        return root
    }

    /// `<dir>/<stem>.<ext>` for `<root>/<dir>/<stem>.<ext>`: a config's path below the root.
    public static func relativeName(_ configPath: String, root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return configPath.hasPrefix(prefix) ? String(configPath.dropFirst(prefix.count)) : configPath
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
