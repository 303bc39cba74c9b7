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

    public static func write(_ config: ConfigIdentity, record: TaskRecord, runID: String) throws(SystemError) {
        let body = JSON.object([
            ("config", .string(config.path)),
            ("config_sha256", .string(config.sha256)),
            ("exit_code", .optional(record.exit.exitCode)),
            ("start", .optional(record.startWall.map(Clock.iso8601))),
            ("end", .optional(record.endWall.map(Clock.iso8601))),
            ("duration_s", record.duration.map { .double($0) } ?? .null),
            ("run_id", .string(runID)),
            ("command", .string(record.command)),
        ])
        try FileIO.makeDirectories(config.resultsFolder)
        try FileIO.writeAtomically(path(in: config.resultsFolder), body.bytes(pretty: true, newline: true))
    }
}
