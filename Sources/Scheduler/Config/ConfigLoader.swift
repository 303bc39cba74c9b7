import Glibc

/// A config as multirun and runone use it: the file, merged over the bases it `extends`.
public struct LoadedConfig: Sendable {
    /// The merged document. Its value has no `extends`; a key's location names the file
    /// its value came from.
    public let document: ConfigDocument
    /// The bases, nearest first, as paths from the working folder (`configs/x/base.yaml`).
    public let bases: [String]
    /// SHA-256 (hex) of the file's bytes; for a config with bases, of the SHA-256 of each
    /// file of the chain in turn (never equal to one file's hash).
    public let sha256: String
    /// `ConfigSchema.contentHash` of the file; for a config with bases, of each file's
    /// content in chain order (`ConfigSchema.contentHash(chain:)`).
    public let contentSHA256: String
}

/// Reads a config and the chain of bases it extends, and merges them: the one loader that
/// runone, multirun's plan and `submit` use, and that completion checks use to see whether
/// a config still has the content its marker names.
///
///     extends: ../lr-base.yaml    # relative to this file's folder; YAML or JSON by extension
///
/// A base may extend another. A cycle, a chain of more than `maxBases` bases, a base that
/// cannot be read or is not a mapping, and an `extends` that is not one path are refused,
/// each with one line, `file:line:col: problem; fix`.
public enum ConfigLoader {
    /// The most bases one config's chain may have.
    public static let maxBases = 32

    /// A file as the kernel knows it: one base written two ways is one file (a cycle
    /// through `./a.yaml` and `../x/a.yaml` is seen).
    public struct FileKey: Hashable, Sendable {
        let device: UInt64
        let inode: UInt64
    }

    /// Why a base could not be read.
    public enum ReadFailure: Error, Sendable {
        case missing
        case notAFile
        case failed(Int32)
    }

    /// Reads a base: its bytes, and which file it is when known.
    public typealias Reader = (String) throws(ReadFailure) -> (bytes: [UInt8], file: FileKey?)

    /// The config at `path`, read from disk with its bases.
    public static func load(_ path: String) throws(ConfigProblem) -> LoadedConfig {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw ConfigProblem("cannot read config \(path): \(error)") }
        return try load(bytes: bytes, path: path)
    }

    /// The config whose bytes are `bytes` (the file at `path`), with its bases as `reader`
    /// reads them (files on disk, unless told otherwise).
    public static func load(bytes: [UInt8], path: String, reader: Reader = readBase) throws(ConfigProblem) -> LoadedConfig {
        let own: ConfigDocument
        do {
            own = try ConfigParser.document(bytes: bytes, dialect: ConfigParser.dialect(of: path), source: path)
        } catch {
            throw ConfigProblem("\(error)")
        }
        guard own.value[ConfigDocument.extendsKey] != nil else {
            return LoadedConfig(document: own, bases: [], sha256: SHA256.hex(bytes),
                                contentSHA256: withInputs(ConfigSchema.contentHash(own.value), of: own.value, path: path))
        }
        var chain = [own]
        var hashes = [SHA256.hex(bytes)]
        var files: [FileKey?] = [fileKey(path)]
        var current = own
        while let named = current.value[ConfigDocument.extendsKey] {
            let at = "\(current.location(of: ConfigDocument.extendsKey)): key '\(ConfigDocument.extendsKey)'"
            guard case .string(let relative) = named else {
                throw ConfigProblem("\(at): must be the path of one base config, found \(named.typeName); to build on several, let each base extend the next")
            }
            guard !relative.isEmpty else {
                throw ConfigProblem("\(at): is empty; give the base config's path, relative to this config's folder")
            }
            let base = resolve(relative, from: current.source)
            let trail = (chain.map(\.source) + [base]).map(\.excerpt)
            if chain.contains(where: { $0.source == base }) {
                throw ConfigProblem("\(at): the bases form a cycle: \(trail.joined(separator: " -> ")); remove '\(ConfigDocument.extendsKey)' from one of them")
            }
            guard chain.count <= maxBases else {
                let shown = [trail[0], trail[1], "…", trail[trail.count - 2], trail[trail.count - 1]]
                throw ConfigProblem("\(at): \(own.source.excerpt) extends more than \(maxBases) bases in a chain (\(shown.joined(separator: " -> "))); merge some of them into one")
            }
            let read: (bytes: [UInt8], file: FileKey?)
            do { read = try reader(base) } catch {
                switch error {
                case .missing:
                    throw ConfigProblem("\(at): base config \(base.excerpt) not found; the path is relative to this config's folder (\(folder(of: current.source).excerpt)/): fix it, or create the file")
                case .notAFile:
                    throw ConfigProblem("\(at): base config \(base.excerpt) is not a file; name a .yaml or .json file")
                case .failed(let code):
                    throw ConfigProblem("\(at): cannot read base config \(base.excerpt) (\(String(cString: strerror(code)))); fix its permissions or the path")
                }
            }
            if read.file != nil && files.contains(read.file) {
                throw ConfigProblem("\(at): the bases form a cycle: \(trail.joined(separator: " -> ")); remove '\(ConfigDocument.extendsKey)' from one of them")
            }
            let document: ConfigDocument
            do {
                document = try ConfigParser.document(bytes: read.bytes, dialect: ConfigParser.dialect(of: base), source: base)
            } catch {
                throw ConfigProblem("\(error) (a base of \(current.source.excerpt))")
            }
            guard case .map = document.value else {
                let found = document.value == .null ? "nothing (an empty file)" : document.value.typeName
                throw ConfigProblem("\(document.location(of: nil)): a base config must be a mapping of keys, found \(found) (\(current.source.excerpt) extends it); write its keys, or remove that '\(ConfigDocument.extendsKey)'")
            }
            chain.append(document)
            hashes.append(SHA256.hex(read.bytes))
            files.append(read.file)
            current = document
        }
        let merged = ConfigDocument.merged(chain)
        return LoadedConfig(document: merged, bases: chain.dropFirst().map(\.source),
                            sha256: SHA256.hex(Array(("multirun config chain 1\0" + hashes.joined(separator: "\0")).utf8)),
                            contentSHA256: withInputs(ConfigSchema.contentHash(chain: chain.map(\.value)), of: merged.value, path: path))
    }

    /// `content` (a content hash) with the files the config reads folded in: a whole-brain
    /// model's connectivity files (`model_params.connectivity`, `{subject}` filled), so a
    /// changed connectome is a changed task. Configs that read no files keep `content`.
    static func withInputs(_ content: String, of value: ConfigValue, path: String) -> String {
        guard let model = value["model_params"], case .string(let raw)? = model["connectivity"], !raw.isEmpty else { return content }
        let subject = model["subject"]?.int ?? 0
        var text = Array("multirun content with inputs 1\0\(content)".utf8)
        // The file's name (weights.npy or weights.csv) and bytes: where the folder is
        // reached from is already in the config's content, and must not change the identity.
        for file in ConnectivityFiles.identityFiles(raw, subject: subject, configPath: path) {
            let digest = (try? FileIO.read(file)).map(SHA256.hex) ?? "missing"
            let name = file.split(separator: "/").last.map(String.init) ?? file
            text += Array("\0\(name)\0\(digest)".utf8)
        }
        return SHA256.hex(text)
    }

    /// `relative` (as written in the config at `source`) from the working folder: an
    /// absolute path as it is, else joined to `source`'s folder. Only `./` is tidied away;
    /// `..` stays, as the kernel resolves it through symbolic links.
    public static func resolve(_ relative: String, from source: String) -> String {
        if relative.hasPrefix("/") { return relative }
        var relative = Substring(relative)
        while relative.hasPrefix("./") {
            relative = relative.dropFirst(2).drop { $0 == "/" }
        }
        let folder = folder(of: source)
        if folder.isEmpty { return String(relative) }
        return folder == "/" ? "/" + relative : folder + "/" + relative
    }

    /// The folder of `path`: `configs/x` for `configs/x/a.yaml`, `` for `a.yaml`, `/` for `/a.yaml`.
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func fileKey(_ path: String) -> FileKey? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// A base from disk: a regular file (a FIFO or a device would block the plan, or never
    /// end), opened without blocking, then read whole.
    public static func readBase(_ path: String) throws(ReadFailure) -> (bytes: [UInt8], file: FileKey?) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw errno == ENOENT || errno == ENOTDIR ? .missing : .failed(errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .failed(errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notAFile }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .failed(errno)
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return (bytes, FileKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
    }
}
