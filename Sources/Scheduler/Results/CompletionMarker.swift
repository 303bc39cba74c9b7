import Glibc

/// The file multirun writes into a config's results folder when its task exits 0. It
/// certifies one task identity (`ConfigIdentity`): config path, content hash and runner.
/// A later run, runone and the daemon skip the task only while all three match.
///
/// Markers written before identities were recorded (no `identity` field) count as made by
/// the default runner, for the file's bytes they name.
public enum CompletionMarker {
    public static let fileName = "multirun-done.json"

    public enum Check: Equatable, Sendable {
        case absent
        case completed
        /// It completed, but as something else: why it runs again.
        case changed(String)
    }

    public static func path(in folder: String) -> String { folder + "/" + fileName }

    /// Called as an attempt starts: from now on the folder's results are that attempt's.
    public static func invalidate(_ folder: String) { unlink(path(in: folder)) }

    /// `bases`: the bases the config extends, only to say so when its content changed.
    public static func check(_ config: ConfigIdentity, defaultRunner: String, bases: [String] = []) -> Check {
        let contentChanged = bases.isEmpty ? "its content changed since it completed"
            : "its content changed since it completed (its own, or that of \(bases.count == 1 ? "its base" : "a base it extends"): \(bases.map(\.excerpt).joined(separator: ", ")))"
        guard let bytes = try? FileIO.read(path(in: config.resultsFolder)) else { return .absent }
        guard let value = try? ConfigParser.parse(bytes: bytes, dialect: .json, source: fileName) else {
            return .changed("its completion marker is damaged")
        }
        guard case .string(let identity)? = value["identity"] else {
            // An older marker: the raw file hash, and the default runner.
            guard value["config_sha256"] == .string(config.sha256) else { return .changed(contentChanged) }
            guard config.runner == defaultRunner else {
                return .changed("it completed with another runner (before: \(defaultRunner); now: \(config.runner))")
            }
            return .completed
        }
        if identity == config.digest { return .completed }
        if let name = value["config_name"]?.string, name != config.name {
            return .changed("its results folder holds a run of \(value["config"]?.string ?? name)")
        }
        if let content = value["content_sha256"]?.string, content != config.contentSHA256 {
            return .changed(contentChanged)
        }
        if let runner = value["runner"]?.string, runner != config.runner {
            return .changed("it completed with another runner (before: \(runner); now: \(config.runner))")
        }
        return .changed("its completion marker names another task")
    }

    /// Whether the marker in `config`'s results folder certifies exactly this identity.
    public static func certifies(_ config: ConfigIdentity) -> Bool {
        guard let bytes = try? FileIO.read(path(in: config.resultsFolder)),
              let value = try? ConfigParser.parse(bytes: bytes, dialect: .json, source: fileName) else { return false }
        return value["identity"]?.string == config.digest
    }

    /// Whether the config at `file` still has the content `config` names. It, or a base
    /// it extends, may have been edited while its task waited or ran; then its results may
    /// be of either version, and no marker may vouch for them. The bytes are compared first
    /// (no parse in the usual case: a config with bases never matches, as its `sha256` is
    /// the chain's), then the content hash of the config read with its bases (an edited
    /// comment is no change).
    public static func stillDescribes(_ config: ConfigIdentity, file: String) -> Bool {
        guard let bytes = try? FileIO.read(file) else { return false }
        if SHA256.hex(bytes) == config.sha256 { return true }
        guard let loaded = try? ConfigLoader.load(bytes: bytes, path: file) else { return false }
        return loaded.contentSHA256 == config.contentSHA256
    }

    /// Streamed straight to bytes: it is written after every config task that succeeds.
    public static func write(_ config: ConfigIdentity, record: TaskRecord, runID: String) throws(SystemError) {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.key("config"); writer.string(config.path)
        writer.key("config_name"); writer.string(config.name)
        writer.key("config_sha256"); writer.string(config.sha256)
        writer.key("content_sha256"); writer.string(config.contentSHA256)
        writer.key("runner"); writer.string(config.runner)
        writer.key("identity"); writer.string(config.digest)
        writer.key("exit_code"); writer.int(record.exit.exitCode.map(Int64.init))
        writer.key("start"); writer.timestamp(record.startWall)
        writer.key("end"); writer.timestamp(record.endWall)
        writer.key("duration_s"); writer.double(record.duration)
        writer.key("run_id"); writer.string(runID)
        writer.key("command"); writer.string(record.command)
        writer.endObject()
        writer.bytes.append(UInt8(ascii: "\n"))
        try FileIO.makeDirectories(config.resultsFolder)
        try FileIO.writeAtomically(path(in: config.resultsFolder), writer.bytes)
    }
}
