/// The file multirun writes into a config's results folder when its task exits 0. A later
/// run skips the config while the marker's hash matches the config's content.
public enum CompletionMarker {
    public static let fileName = "multirun-done.json"

    public enum Check: Equatable, Sendable {
        case absent
        case completed
        case configChanged
    }

    public static func path(in folder: String) -> String { folder + "/" + fileName }

    public static func check(_ config: ConfigIdentity) -> Check {
        guard let bytes = try? FileIO.read(path(in: config.resultsFolder)) else { return .absent }
        guard let value = try? ConfigParser.parse(String(decoding: bytes, as: UTF8.self), dialect: .json, source: fileName),
              case .string(let hash)? = value["config_sha256"]
        else { return .absent }
        return hash == config.sha256 ? .completed : .configChanged
    }

    /// Streamed straight to bytes: it is written after every config task that succeeds.
    public static func write(_ config: ConfigIdentity, record: TaskRecord, runID: String) throws(SystemError) {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.key("config"); writer.string(config.path)
        writer.key("config_sha256"); writer.string(config.sha256)
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
