import Scheduler

/// The readers the fuzz target drives (`InputReaders`), each fed raw bytes, and a seeded
/// mutator that makes inputs from a corpus without libFuzzer (the test suite's fuzz test,
/// and `multirun-fuzz` built without `-sanitize=fuzzer`).
public enum FuzzReader: String, CaseIterable, Sendable {
    case yaml, json, argv, commands, journal, exitRecord = "exit-record", nextID = "next-id", npy

    /// Feeds `bytes` to the reader. Bad input throws and is caught here: only a trap, a
    /// hang or a runaway allocation is a finding.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .yaml: _ = try? InputReaders.config(bytes, path: "fuzz.yaml")
        case .json: _ = try? InputReaders.config(bytes, path: "fuzz.json")
        case .argv:
            // NUL separates the words, as in /proc/PID/cmdline.
            let words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            _ = try? InputReaders.arguments(words)
        case .commands: _ = try? InputReaders.commands(bytes)
        case .journal: _ = try? InputReaders.journal(bytes)
        case .exitRecord: _ = try? InputReaders.exitRecord(bytes)
        case .nextID: _ = try? InputReaders.nextID(bytes)
        case .npy: _ = try? NPYReader.parse(bytes, source: "fuzz.npy")
        }
    }
}

/// Deterministic mutations of seed inputs: byte flips, inserted tokens that reach the
/// readers' edges (NUL, byte order marks, brackets, numbers at the 32- and 64-bit
/// limits), deleted and repeated spans (deep nesting), and splices of two seeds.
public struct SeededMutator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    static let tokens: [[UInt8]] = [
        [0], [0xFF, 0xFE], [0xFE, 0xFF], [0xFF, 0xFE, 0, 0], [0xEF, 0xBB, 0xBF], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80],
        [0x1B], [0x7F], [0xC2, 0x85], [0x0D],
    ] + [
        "[", "]", "{", "}", ":", ": ", "- ", "\n", "\n  ", "\t", "#", "'", "\"", "\\", "\\u", "\\x", "\\U0010FFFF", "\\uD800",
        "&a ", "*a", "!!str ", "|", ">", "? ", "---\n", "...\n", "%YAML 1.1\n", "<<: ", "~", ".inf", ".nan",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "4294967296",
        "2147483648", "-1", "0", "1e308", "-1e308", "1:30", "153722867280912930:8", "0x", "0b", "0_", "2024-01-01",
        "nodes: 100000", "model_params: {name: kuramoto, nodes: 100000, density: 1.0}", "TR: 1e300", "dt: 1e-300",
        "command: [", "params: {", "resources: {gpus: ", "gpu_memory: ", "np: ", "extends: fuzz.yaml\n", "extends: ", "x-a: ", ".a: ",
        "{\"e\":\"", "\"pid\":", "\"signal\":", "\"exit_code\":", "\"attempt\":", "\"t\":", "\"id\":\"", "\"start\":", "\"end\":",
        "-d", "-c", "-gpu", "--timeout", "--grace", "--cpu-slots", "--slots=", "--timeout=1e308", "submit", "status", "cancel",
        "$(", "`", "'\"", "sh -c ", "|| ", "&&", ";", ">", "<", "*", "?",
    ].map { Array($0.utf8) }

    /// One mutated input from `seed` (and `other`, for splices), at most `limit` bytes.
    public mutating func mutate(_ seed: [UInt8], other: [UInt8], limit: Int = 16_384) -> [UInt8] {
        var bytes = seed
        for _ in 0...below(4) {
            let at = below(bytes.count + 1)
            switch below(8) {
            case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] ^= UInt8(1 << below(8))
            case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
            case 2, 3: bytes.insert(contentsOf: Self.tokens[below(Self.tokens.count)], at: at)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, at + 1 + below(16))
                bytes.removeSubrange(min(at, bytes.count - 1)..<end)
            case 5 where !bytes.isEmpty:
                // A span repeated: deep nesting, long lines, many keys.
                let start = min(at, bytes.count - 1)
                let span = Array(bytes[start..<min(bytes.count, start + 1 + below(8))])
                let times = [2, 16, 300, 3000][below(4)]
                bytes.insert(contentsOf: Array([[UInt8]](repeating: span, count: times).joined()), at: start)
            case 6 where !other.isEmpty:
                let cut = below(other.count)
                bytes = Array(bytes[..<at]) + other[cut...]
            default:
                // A number in the input swapped for one at an edge.
                let token = Self.tokens[below(Self.tokens.count)]
                if let digit = bytes.indices.dropFirst(at).first(where: { (48...57).contains(bytes[$0]) }) {
                    var end = digit
                    while end < bytes.count && (48...57).contains(bytes[end]) { end += 1 }
                    bytes.replaceSubrange(digit..<end, with: token)
                }
            }
        }
        return Array(bytes.prefix(limit))
    }
}
