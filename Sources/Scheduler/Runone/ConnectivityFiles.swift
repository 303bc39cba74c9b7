import BrainModels
import Glibc

/// The files a whole-brain config's `connectivity:` names, and reading them into a
/// `Network`. A folder holds `weights.{npy,csv,txt}` and optionally
/// `tract_lengths.{npy,csv,txt}` (the names in TVB's connectivity archives); a file is a
/// weights matrix alone. `{subject}` in the path is filled from `subject:`; a relative path
/// is relative to the config file's folder.
public enum ConnectivityFiles {
    public static let extensions = ["npy", "csv", "txt"]

    /// `raw` with `{subject}` filled, resolved against the config at `configPath`.
    public static func path(_ raw: String, subject: Int, configPath: String) -> String {
        var filled = ""
        var rest = Substring(raw)
        while let range = rest.firstRange(of: "{subject}") {
            filled += rest[..<range.lowerBound]
            filled += String(subject)
            rest = rest[range.upperBound...]
        }
        filled += rest
        while filled.count > 1, filled.hasSuffix("/") { filled.removeLast() }
        return ConfigLoader.resolve(filled, from: configPath)
    }

    /// The weights file and the tract-lengths file (if any) at `path`. Throws when there is
    /// no weights file, or two (weights.npy and weights.csv: which one is meant?).
    public static func files(at path: String) throws(SchemaError) -> (weights: String, lengths: String?) {
        func fail(_ message: String) -> SchemaError { SchemaError(source: path, key: nil, message: message) }
        guard FileIO.isDirectory(path) else {
            guard FileIO.exists(path) else { throw fail("connectivity not found; give a folder with weights.npy/.csv/.txt or a weights file (relative to the config's folder)") }
            return (path, nil)
        }
        func one(_ stem: String) throws(SchemaError) -> String? {
            let found = extensions.map { "\(path)/\(stem).\($0)" }.filter(FileIO.exists)
            guard found.count <= 1 else { throw fail("holds \(found.map { $0.split(separator: "/").last.map(String.init) ?? $0 }.joined(separator: " and ")); keep one \(stem) file") }
            return found.first
        }
        guard let weights = try one("weights") else { throw fail("has no weights.npy, weights.csv or weights.txt (TVB's connectivity names)") }
        return (weights, try one("tract_lengths"))
    }

    /// The files to hash into a config's identity: those `files(at:)` names, or `path`
    /// itself when they cannot be found (so its later appearance changes the identity).
    public static func identityFiles(_ raw: String, subject: Int, configPath: String) -> [String] {
        let resolved = path(raw, subject: subject, configPath: configPath)
        guard let found = try? files(at: resolved) else { return [resolved] }
        return [found.weights] + (found.lengths.map { [$0] } ?? [])
    }

    /// Reads one matrix: .npy (`NPYReader`), .csv (commas) or .txt (whitespace), rows on
    /// lines, `#` starting a comment line. Must be N×N with finite entries.
    public static func matrix(_ path: String, expected: Int? = nil) throws(SchemaError) -> (nodes: Int, values: [Double]) {
        func fail(_ message: String) -> SchemaError { SchemaError(source: path, key: nil, message: message) }
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw fail("cannot read: \(error)") }
        var values: [Double]
        var rows: Int
        var columns: Int
        if path.hasSuffix(".npy") {
            let array = try NPYReader.parse(bytes, source: path)
            guard array.shape.count == 2 else { throw fail("has shape \(array.shape); a connectivity matrix is N×N") }
            rows = array.shape[0]
            columns = array.shape[1]
            values = array.values
        } else {
            let comma = path.hasSuffix(".csv")
            values = []
            rows = 0
            columns = -1
            var lineNumber = 0
            // A UTF-8 byte order mark (spreadsheets write one) is not part of the first value.
            let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]
            for line in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
                lineNumber += 1
                let text = String(decoding: line, as: UTF8.self)
                let trimmed = text.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let fields = comma
                    ? trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
                    : trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(Substring.init)
                if columns < 0 { columns = fields.count }
                guard fields.count == columns else { throw fail("line \(lineNumber) has \(fields.count) values, the first row \(columns); every row needs N values") }
                for field in fields {
                    guard let number = Double(field) else {
                        if field.isEmpty { throw fail("line \(lineNumber) has an empty field (a doubled or trailing comma?); every field must be a number") }
                        throw fail("line \(lineNumber): '\(String(field).excerpt)' is not a number")
                    }
                    values.append(number)
                }
                rows += 1
                guard values.count <= NPYReader.maxElements else { throw fail("holds more than \(NPYReader.maxElements) values") }
            }
        }
        guard rows == columns, rows >= 2 else { throw fail("is \(rows)×\(max(columns, 0)); a connectivity matrix is N×N with N ≥ 2") }
        guard rows <= WholeBrainParameters.maxNodes else { throw fail("has \(rows) regions, more than \(WholeBrainParameters.maxNodes)") }
        if let expected, rows != expected { throw fail("is \(rows)×\(rows) but the weights are \(expected)×\(expected)") }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw fail("entry (\(bad / rows), \(bad % rows)) is \(values[bad]); weights and lengths must be finite")
        }
        return (rows, values)
    }

    /// The network at `path` (a folder or a weights file). Tract lengths must be ≥ 0.
    public static func network(at path: String) throws(SchemaError) -> Network {
        let found = try files(at: path)
        let weights = try matrix(found.weights)
        var lengths: [Double]?
        if let lengthsPath = found.lengths {
            let read = try matrix(lengthsPath, expected: weights.nodes)
            if let negative = read.values.firstIndex(where: { $0 < 0 }) {
                throw SchemaError(source: lengthsPath, key: nil, message: "entry (\(negative / weights.nodes), \(negative % weights.nodes)) is negative; tract lengths are in mm, ≥ 0")
            }
            lengths = read.values
        }
        return Network(nodes: weights.nodes, weights: weights.values, tractLengths: lengths)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return text
    }
}
