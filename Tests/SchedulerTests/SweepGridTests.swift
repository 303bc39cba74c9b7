import Foundation
import Testing
@testable import Scheduler

/// `multirun sweep`'s pure part: --grid and --subjects parsing, the points, their values
/// and file names, and the YAML writer that must read back as the same types.
struct SweepGridTests {
    static func grid(_ flags: [String], subjects: String? = nil, subjectPath: [String] = ["model_params", "subject"]) throws -> SweepGrid {
        try SweepGrid(axes: flags.map { try SweepGrid.parseAxis($0) }, subjects: subjects.map { try SweepGrid.parseSubjects($0) }, subjectPath: subjectPath)
    }

    static func names(_ grid: SweepGrid, stem: String = "study") -> [String] {
        (0..<grid.count).map { grid.fileName(stem: stem, at: grid.coordinates(of: $0)) }
    }

    @Test func theProductHasOneNamedPointPerCombinationFirstAxisSlowest() throws {
        let grid = try Self.grid(["model_params.name=kuramoto,wong_wang", "model_params.nodes=48,68,76"], subjects: "6-7")
        #expect(grid.count == 12)
        let names = Self.names(grid)
        #expect(Set(names).count == 12)
        #expect(names.prefix(3) == ["study__name-kuramoto__nodes-48__sub-0006.yaml", "study__name-kuramoto__nodes-48__sub-0007.yaml",
                                    "study__name-kuramoto__nodes-68__sub-0006.yaml"])
        #expect(names.last == "study__name-wong_wang__nodes-76__sub-0007.yaml")
        #expect(names.allSatisfy { ConfigSelector.isTaskFile($0) })
    }

    @Test func labelsAreTheShortestTailNoOtherKeyShares() throws {
        let grid = try Self.grid(["model_params.G=0.5", "noise.G=1", "model_params.nodes=4"])
        #expect(grid.axes.map(\.label) == ["model_params.G", "noise.G", "nodes"])
        #expect(Self.names(grid) == ["study__model_params.G-0.5__noise.G-1__nodes-4.yaml"])
    }

    @Test func namesAreFilesystemSafeAndNeverEndInBase() throws {
        let grid = try Self.grid(["tag=a/b c,x%y,base,run_base"])
        #expect(Self.names(grid) == ["study__tag-a%2Fb%20c.yaml", "study__tag-x%25y.yaml", "study__tag-bas%65.yaml", "study__tag-run_bas%65.yaml"])
        #expect(Self.names(grid).allSatisfy { ConfigSelector.isTaskFile($0) })
        #expect(SweepGrid.stem(of: "configs/study-base.yaml") == "study")
        #expect(SweepGrid.stem(of: "configs/lr_base.json") == "lr")
        #expect(SweepGrid.stem(of: "a/exp 1.yaml") == "exp%201")
    }

    @Test func nestedKeysAreSetAndMissingMappingsCreated() throws {
        let base = try ConfigParser.parse("model_params:\n  name: kuramoto\n  nodes: 8\ndescription: d\n", dialect: .yaml, source: "b")
        let grid = try Self.grid(["model_params.G=0.5,1.0", "extra.deep.k=x"], subjects: "3-3")
        let value = try grid.value(of: base, at: grid.coordinates(of: 1), baseName: "b")
        #expect(value["model_params"]?["G"] == .double(1.0))
        #expect(value["model_params"]?["nodes"] == .int(8))
        #expect(value["model_params"]?["subject"] == .int(3))
        #expect(value["extra"]?["deep"]?["k"] == .string("x"))
        #expect(value["description"] == .string("d"))
        // A key path through a non-mapping is refused, naming it.
        let through = try Self.grid(["model_params.name.x=1"])
        #expect(throws: UsageError("sweep: key model_params.name.x goes through model_params.name, which is a string in b, not a mapping; sweep a key that is (or fix the base)")) {
            try through.value(of: base, at: through.coordinates(of: 0), baseName: "b")
        }
    }

    @Test func valuesAreTypedAsYAMLReadsThemAndJSONNumbersAreNumbers() throws {
        let axis = try SweepGrid.parseAxis("k=1e-3,0.5,'007',true,3,kuramoto,null,\"a,b\",1.0e-05,-2")
        #expect(axis.values == [.double(0.001), .double(0.5), .string("007"), .bool(true), .int(3), .string("kuramoto"), .null,
                                .string("a,b"), .double(1e-5), .int(-2)])
    }

    @Test func badGridsAreOneLineEach() {
        #expect(throws: UsageError("--grid 'G': no '='; write KEY=V1,V2,..., e.g. --grid model_params.G=0.5,1.0")) { try SweepGrid.parseAxis("G") }
        #expect(throws: UsageError("--grid 'G=': the value list is empty; give at least one value, e.g. --grid model_params.G=0.5,1.0")) { try SweepGrid.parseAxis("G=") }
        #expect(throws: UsageError("--grid 'a..b=1': the key 'a..b' has an empty part; write keys joined by dots, e.g. --grid model_params.G=0.5,1.0")) { try SweepGrid.parseAxis("a..b=1") }
        #expect(throws: UsageError("--grid 'a\nb=1': the key holds a control character; write keys in plain text, e.g. --grid model_params.G=0.5,1.0")) { try SweepGrid.parseAxis("a\nb=1") }
        #expect(throws: UsageError("--grid 'G=1,,2': value 2 is empty; remove the extra comma, or write '' for empty text")) { try SweepGrid.parseAxis("G=1,,2") }
        #expect(throws: UsageError("--grid 'G=1,1': value 2 ('1') is value 1 again; give each value once")) { try SweepGrid.parseAxis("G=1,1") }
        #expect(throws: UsageError("--grid 'x=010': value '010' has a leading zero, which YAML 1.1 reads as octal and YAML 1.2 as decimal; write the number without it, or quote it (\"'010'\") to keep it as text")) { try SweepGrid.parseAxis("x=010") }
        #expect(throws: UsageError("--grid 'x='a': a ' quote is not closed; close it, or leave the quotes out")) { try SweepGrid.parseAxis("x='a") }
        #expect(throws: UsageError("--grid model_params.G is given twice; give each key once, with all its values: --grid model_params.G=V1,V2")) {
            try Self.grid(["model_params.G=1", "model_params.G=2"])
        }
        #expect(throws: UsageError("sweep: model_params.G lies inside model_params, which is swept as a whole; sweep one or the other")) {
            try Self.grid(["model_params=1", "model_params.G=2"])
        }
        #expect(throws: UsageError("sweep: key model_params.subject is swept twice (model_params.subject and --subjects (model_params.subject)); give each key once, with all its values: --grid KEY=V1,V2")) {
            try Self.grid(["model_params.subject=1"], subjects: "0-1")
        }
        #expect(throws: UsageError("sweep: nothing to sweep; give --grid KEY=V1,V2 (once per key) and/or --subjects A-B")) { try Self.grid([]) }
    }

    @Test func subjectRanges() throws {
        #expect(try SweepGrid.parseSubjects("0-9999") == SweepGrid.Subjects(first: 0, last: 9999))
        #expect(try SweepGrid.parseSubjects("7") == SweepGrid.Subjects(first: 7, last: 7))
        #expect(try SweepGrid.parseSubjects("0-99999").count == SweepGrid.maxPoints)
        #expect(throws: UsageError("--subjects '5-1': the range runs backwards; write the smaller number first, e.g. --subjects 1-5")) { try SweepGrid.parseSubjects("5-1") }
        for text in ["a-b", "-3", "1-", "1-2-3", "", "1e3"] {
            #expect(throws: UsageError("--subjects '\(text)': not a range of subject numbers; write FIRST-LAST with whole numbers from 0 to 999999999, e.g. --subjects 0-9999")) { try SweepGrid.parseSubjects(text) }
        }
        #expect(throws: UsageError("--subjects '0-100000': 100001 subjects, more than the 100000 one sweep makes; split the range over several --out folders")) { try SweepGrid.parseSubjects("0-100000") }
        // Subjects pad to at least 4 digits, more when the range needs them.
        #expect(Self.names(try Self.grid([], subjects: "99998-100001")).first == "study__sub-099998.yaml")
        // The whole grid is capped too.
        #expect(throws: UsageError("sweep: the grid has more than 100000 points (60000 subjects × 2 a); split it over several --out folders")) {
            try Self.grid(["a=1,2"], subjects: "0-59999")
        }
    }

    @Test func relativeConnectivityPathsNameTheSameFilesFromTheOutFolder() throws {
        #expect(SweepGrid.rebased("data/sub-{subject}/", from: "/p/configs", to: "/p/configs/sweep-1") == "../data/sub-{subject}/")
        #expect(SweepGrid.rebased("../data/w.npy", from: "/p/configs", to: "/p/configs/a/b") == "../../../data/w.npy")
        #expect(SweepGrid.rebased("data", from: "/p", to: "/q/r") == "../../p/data")
        #expect(SweepGrid.rebased("configs/x", from: "/p", to: "/p/configs") == "x")
        let base = try ConfigParser.parse("model_params:\n  name: wong_wang\n  connectivity: data/sub-{subject}/\n", dialect: .yaml, source: "b")
        let moved = SweepGrid.rebasingPaths(base, from: "/p/configs", to: "/p/configs/s")
        #expect(moved["model_params"]?["connectivity"] == .string("../data/sub-{subject}/"))
        #expect(moved["model_params"]?["name"] == .string("wong_wang"))
        let absolute = try ConfigParser.parse("model_params: {connectivity: /data/x/}\n", dialect: .yaml, source: "b")
        #expect(SweepGrid.rebasingPaths(absolute, from: "/p/configs", to: "/p/configs/s") == absolute)
    }

    // MARK: - the YAML writer

    @Test func floatsCarryAPointAndASignedExponent() {
        #expect(YAMLWriter.float(0.001) == "0.001")
        #expect(YAMLWriter.float(1e-5) == "1.0e-05")
        #expect(YAMLWriter.float(1e16) == "1.0e+16")
        #expect(YAMLWriter.float(2.5e-7) == "2.5e-07")
        #expect(YAMLWriter.float(1) == "1.0")
        #expect(YAMLWriter.float(-0.5) == "-0.5")
        #expect(YAMLWriter.float(.infinity) == ".inf")
        #expect(YAMLWriter.float(-.infinity) == "-.inf")
        #expect(YAMLWriter.float(.nan) == ".nan")
    }

    static let tricky: ConfigValue = .map([
        ("floats", .list([.double(0.001), .double(1e-5), .double(1e300), .double(.leastNonzeroMagnitude), .double(0.5), .double(-3), .double(.infinity)])),
        ("texts", .list([.string("007"), .string("1e-3"), .string("true"), .string("yes"), .string("null"), .string("~"), .string(""), .string(" lead"),
                         .string("a: b"), .string("a #b"), .string("- x"), .string("it's"), .string("line\nbreak"), .string("tab\there"),
                         .string("2001-12-14"), .string("1:30"), .string("0x1F"), .string("{subject}"), .string("[x]"), .string("é ü"),
                         .string("data/sub-{subject}/"), .string("kuramoto"), .string("*alias"), .string("&anchor"), .string("!tag"), .string("%x"),
                         .string("@x"), .string("`x"), .string("|"), .string(">"), .string("?"), .string(":"), .string("-"), .string("<<")])),
        ("ints", .list([.int(0), .int(-7), .int(Int.max), .int(Int.min)])),
        ("other", .map([("yes", .bool(true)), ("no", .bool(false)), ("nothing", .null), ("empty_list", .list([])), ("empty_map", .map([]))])),
        ("nested", .list([.map([("a", .int(1)), ("b", .list([.int(2), .list([.int(3)])]))]), .list([.string("x"), .map([("c", .null)])])])),
        ("1", .string("key that reads as a number")),
        ("on", .string("key that reads as a boolean")),
    ])

    @Test func theWriterReadsBackAsTheSameValue() throws {
        let text = YAMLWriter.document(Self.tricky)
        let read = try ConfigParser.parse(text, dialect: .yaml, source: "w")
        #expect(read == Self.tricky, "\(text)")
    }

    /// PyYAML's safe_load (what Python tools read configs with) reads the same types and
    /// values: dumped as JSON with type tags, compared with ours.
    @Test func pyYAMLReadsTheWritersOutputAsTheSameTypes() throws {
        let folder = NSTemporaryDirectory() + "sweep-yaml-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/doc.yaml"
        try YAMLWriter.document(Self.tricky).write(toFile: file, atomically: true, encoding: .utf8)
        let script = """
        import sys, yaml, math
        def tag(v):
            if v is None: return "n"
            if isinstance(v, bool): return "b:" + str(v).lower()
            if isinstance(v, int): return "i:" + str(v)
            if isinstance(v, float): return "f:" + ("nan" if math.isnan(v) else repr(v))
            if isinstance(v, str): return "s:" + v.encode("unicode_escape").decode()
            if isinstance(v, list): return "[" + ",".join(tag(x) for x in v) + "]"
            return "{" + ",".join(tag(k) + "=" + tag(x) for k, x in v.items()) + "}"
        print(tag(yaml.safe_load(open(sys.argv[1], encoding="utf-8"))))
        """
        let printed = try #require(try pythonOutput(["-c", script, file]), "python3 with PyYAML is needed (CI installs it)")
        func tag(_ value: ConfigValue) -> String {
            switch value {
            case .null: return "n"
            case .bool(let b): return "b:\(b)"
            case .int(let i): return "i:\(i)"
            case .double(let d):
                if d.isNaN { return "f:nan" }
                if d.isInfinite { return d < 0 ? "f:-inf" : "f:inf" }
                return "f:" + (d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : pythonRepr(d))
            case .string(let s):
                return "s:" + s.unicodeScalars.map { scalar -> String in
                    switch scalar {
                    case "\n": return "\\n"
                    case "\t": return "\\t"
                    case "\\": return "\\\\"
                    default: return scalar.value < 0x80 ? String(scalar) : String(format: scalar.value > 0xFFFF ? "\\U%08x" : (scalar.value > 0xFF ? "\\u%04x" : "\\x%02x"), scalar.value)
                    }
                }.joined()
            case .list(let items): return "[" + items.map(tag).joined(separator: ",") + "]"
            case .map(let entries): return "{" + entries.map { tag(.string($0.key)) + "=" + tag($0.value) }.joined(separator: ",") + "}"
            }
        }
        #expect(printed.trimmingCharacters(in: .newlines) == tag(Self.tricky))
    }

    /// Python's repr of a float: shortest round-trip digits, exponent from 1e16 and below 1e-4.
    func pythonRepr(_ d: Double) -> String {
        let text = "\(d)"  // Swift: shortest digits, exponent form for small and large magnitudes
        guard let e = text.firstIndex(of: "e") else { return text }
        var mantissa = String(text[..<e])
        if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
        var exponent = String(text[text.index(after: e)...])
        let negative = exponent.hasPrefix("-")
        exponent = String(exponent.drop { $0 == "-" || $0 == "+" })
        while exponent.count < 2 { exponent = "0" + exponent }
        return mantissa + "e" + (negative ? "-" : "+") + exponent
    }
}
