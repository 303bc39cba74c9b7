import Foundation
import Testing
@testable import Scheduler

/// `-c` patterns against Python's `re.search`: seeded generated patterns (inline flags,
/// scoped flags, verbose mode, lazy quantifiers, intervals, classes and their escapes,
/// anchors, named groups, backreferences, comments, non-ASCII literals, and some invalid or
/// unsupported ones) over generated paths (ASCII, and some with newlines and non-ASCII
/// characters). For every pattern:
/// - Python refuses it: ours refuses it;
/// - ours accepts it: the same match or no match on every path (ASCII paths against plain
///   `re.search`, the others against `re.search(..., re.ASCII)`, as documented);
/// - ours refuses what Python accepts: only with a "not supported" line (the documented list).
struct PathRegexDifferentialTests {
    static let script = """
    import json, re, sys
    data = json.load(open(sys.argv[1], encoding='utf-8'))
    out = []
    for p in data['patterns']:
        try:
            plain = re.compile(p)
            ascii_ = re.compile(p, re.ASCII)
        except Exception:
            out.append('E'); continue
        out.append(''.join('1' if (plain if s.isascii() else ascii_).search(s) else '0' for s in data['paths']))
    print('\\n'.join(out))
    """

    struct Generator {
        var random: SeededRandom
        var groups = 0
        var verbose = false

        mutating func chance(_ percent: Int) -> Bool { random.below(100) < percent }

        mutating func literal() -> String {
            random.pick(["e", "x", "p", "E", "X", "1", "2", "0", "-", "_", "/", "a", "y", "m", "l", "\\.", "\\-", "\\/", ".", "é", "\\n", " ", "\\x41", "\\u00e9", "K", "s", "\\t"])
        }

        mutating func charClass() -> String {
            random.pick(["[a-e]", "[^/]", "[\\d_]", "[^\\W\\d]", "[]a]", "[a-]", "[^-x]", "[0-9a-fA-F]", "[.]", "[^.]", "[\\s/]", "[\\S]", "[E-X]", "[^e]", "[xé]", "[^\\n]", "[\\w.-]", "[Z-a]", "[-^]", "[^^]", "[[]", "[\\]]", "[\\\\]", "[a\\-z]", "[\\x41-\\x45]", "[é-ü]", "[^é]"])
        }

        mutating func atom(_ depth: Int) -> String {
            switch random.below(depth > 3 ? 9 : 13) {
            case 0, 1, 2: return literal() + (chance(50) ? literal() : "")
            case 3: return charClass()
            case 4: return random.pick(["\\d", "\\w", "\\s", "\\D", "\\W", "\\S", "."])
            case 5: return random.pick(["^", "$", "\\A", "\\Z", "\\b", "\\B"])
            case 6: return random.pick(["exp", "EXP-1", "yaml", "configs/", "\\.yaml$", "-1"])
            case 7: return groups > 0 && chance(30) ? "\\\(1 + random.below(groups))" : random.pick(["x", "(?#c)", "1"])
            case 8: return random.pick(["{", "}", "{1", "a{,}", "x{}"])
            default:
                let inner = regex(depth + 1)
                switch random.below(7) {
                case 0: return "(?:\(inner))"
                case 1: groups += 1; return "(?P<g\(groups)>\(inner))"
                case 2: return "(?\(random.pick(["i", "s", "x", "-i", "i-s", "a"])):\(inner))"
                default: groups += 1; return "(\(inner))"
                }
            }
        }

        mutating func quantifier() -> String {
            let q = random.pick(["*", "+", "?", "{2}", "{1,3}", "{,2}", "{2,}", "{0}", "{1,3}", "*"]) + (chance(3) ? "{3,2}" : "")
            return q + (chance(25) ? "?" : "")
        }

        mutating func sequence(_ depth: Int) -> String {
            var s = ""
            for _ in 0..<(1 + random.below(depth > 2 ? 2 : 4)) {
                let item = atom(depth)
                s += item
                let anchor = ["^", "$", "\\A", "\\Z", "\\b", "\\B"].contains(item)
                // Python backtracks: an unbounded repeat of a group could run for hours.
                if chance(anchor ? 3 : 30) { s += item.hasPrefix("(") ? random.pick(["?", "{0}", "{,2}", "??"]) : quantifier() }
                if verbose && chance(20) { s += random.pick([" ", "  # note\n", "\t"]) }
            }
            return s
        }

        mutating func regex(_ depth: Int) -> String {
            var s = sequence(depth)
            if chance(20) { s += "|" + sequence(depth) }
            return s
        }

        /// One pattern; now and then a flag prefix, or a construct POSIX lacks or Python refuses.
        mutating func pattern() -> String {
            groups = 0
            let flags = chance(35) ? random.pick(["(?i)", "(?s)", "(?m)", "(?x)", "(?ims)", "(?i)(?x)", "(?a)", "(?sx)"]) : ""
            verbose = flags.contains("x")
            var body = regex(0)
            if chance(8) {
                body += random.pick(["(?=x)", "(?!e)", "(?<=/)", "(?<!a)", "a*+", "(?>a)", "(?(1)a|b)", "*", "a**", "(", ")", "[z-a]", "\\q", "(?i)", "(?m:x)", "\\N{LATIN SMALL LETTER E}", "(?P<0>x)", "(?L)"])
            }
            return flags + body
        }
    }

    static func paths(_ random: inout SeededRandom) -> [String] {
        var paths = ["configs/exp-1/exp-1-2.yaml", "configs/EXP-1.yaml", "configs/a b/x_y.json", "configs/e\nx.yaml", "configs/é/Éxp.yaml", "configs/ex p/K.yml"]
        let pieces = ["exp", "EXP", "Exp", "-", "1", "2", "0", "_", "/", "a", "x", "y", "e", ".", " ", "m", "l", "yaml", "A", "E", "s", "K", "\t"]
        let rare = ["\n", "é", "É", "日", "\u{212A}", "ſ"]
        for k in 0..<80 {
            var s = "configs/"
            for _ in 0..<(1 + random.below(10)) { s += random.pick(pieces) }
            if k % 4 == 3 { s += random.pick(rare) + random.pick(pieces) }
            s += random.pick([".yaml", ".json", ".yml", "", "/x.yaml"])
            paths.append(s)
        }
        return paths
    }

    @Test func generatedPatternsMatchAsPythonReSearchDoes() throws {
        var random = SeededRandom(seed: 16)
        let paths = Self.paths(&random)
        var generator = Generator(random: random)
        var patterns: [String] = []
        for _ in 0..<1200 { patterns.append(generator.pattern()) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pathregex-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("input.json")
        try JSONSerialization.data(withJSONObject: ["patterns": patterns, "paths": paths]).write(to: input)
        let output = try #require(try pythonOutput(["-c", Self.script, input.path]), "python3 is needed")
        let answers = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(answers.count >= patterns.count)

        var accepted = 0, refusedAlike = 0, unsupported: [String: Int] = [:]
        for (pattern, answer) in zip(patterns, answers) {
            let regex: PathRegex
            do {
                regex = try PathRegex(pattern)
            } catch {
                if answer == "E" { refusedAlike += 1; continue }
                // Python runs it: ours may refuse only as not supported.
                #expect(error.message.contains("is not supported in config patterns"), "\(pattern.debugDescription): \(error.message)")
                let what = error.message.components(separatedBy: "': ").last!.components(separatedBy: " is not supported").first!
                unsupported[what, default: 0] += 1
                continue
            }
            #expect(answer != "E", "Python refuses \(pattern.debugDescription); ours accepts it")
            guard answer != "E" else { continue }
            accepted += 1
            let ours = String(paths.map { regex.matches($0) ? "1" : "0" })
            if ours != answer {
                let differing = paths.indices.filter { Array(ours)[$0] != Array(answer)[$0] }.map { paths[$0].debugDescription }
                Issue.record("\(pattern.debugDescription) → \((try? PathRegex.translate(pattern)).map { String(decoding: $0.ere, as: UTF8.self) } ?? "?") differs from Python on \(differing.prefix(3))")
            }
        }
        // Enough of each kind that the comparison means something.
        #expect(accepted > 500, "\(accepted) accepted, \(refusedAlike) refused by both, \(unsupported)")
        #expect(refusedAlike > 30)
        #expect(unsupported.keys.allSatisfy { Self.documentedUnsupported.contains($0) }, "\(unsupported)")
    }

    /// The constructs the README lists as not supported.
    static let documentedUnsupported: Set<String> = [
        "a lookaround ('(?=', '(?!', '(?<=', '(?<!')",
        "an atomic group '(?>...)'",
        "a possessive quantifier ('*+', '++', '?+', '{m,n}+')",
        "a conditional group '(?(...)...)'",
        "a scoped multiline flag '(?m:...)'",
        "a backreference under (?i)",
        "a backreference to a group POSIX numbers past 9",
        PathRegex.crossBranchBackreference,
        "a character range past ASCII in '[...]'",
        "a negated class '[^...]' that names non-ASCII characters",
        "a named character '\\N{...}'",
    ]
}
