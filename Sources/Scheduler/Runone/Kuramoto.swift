import BrainModels
import Glibc

/// Settings of the built-in `kuramoto` model, with their defaults.
public struct KuramotoParameters: Equatable, Sendable {
    public var nodes = 64
    /// Global coupling K; each node feels K/N times the sum over its neighbours.
    public var coupling = 2.0
    /// Standard deviation of the phase noise per sqrt(second).
    public var noise = 0.1
    /// Integration step in seconds.
    public var dt = 0.001
    /// Number of samples written.
    public var timepoints = 1000
    /// Seconds between samples (the sampling period); a multiple of dt.
    public var TR = 0.05
    public var seed = 0
    /// Probability of an edge between two nodes in the random graph.
    public var density = 0.3
    /// Natural frequencies are drawn from N(frequency_mean, frequency_std), in Hz.
    public var frequencyMean = 10.0
    public var frequencyStd = 1.0
    /// How the coupling is normalised: `mean` (K/N Σ_j A_ij sin(θ_j − θ_i), the default)
    /// or `sine_tvb`, TVB's coupling.Kuramoto as TVB computes it: its post step divides
    /// by the number of coupling variables (1), not by N, so it is K Σ_j A_ij sin(θ_j − θ_i).
    public var couplingForm = CouplingForm.mean

    public enum CouplingForm: String, Equatable, Sendable, CaseIterable {
        case mean
        case sineTVB = "sine_tvb"
    }

    public init() {}

    static let fields: [(key: String, kind: String)] = [
        ("name", "text"), ("nodes", "int"), ("coupling", "number"), ("noise", "number"), ("dt", "number"),
        ("timepoints", "int"), ("TR", "number"), ("seed", "int"), ("density", "number"),
        ("frequency_mean", "number"), ("frequency_std", "number"), ("coupling_form", "text"),
    ]

    public static func from(_ value: ConfigValue, source: String) throws(SchemaError) -> KuramotoParameters {
        func fail(_ key: String, _ message: String) -> SchemaError {
            SchemaError(source: source, key: "model_params.\(key)", message: message)
        }
        guard case .map(let entries) = value else {
            throw SchemaError(source: source, key: "model_params", message: "must be a mapping with name: kuramoto, found \(value.typeName)")
        }
        guard let name = value["name"] else { throw fail("name", "missing; the built-in models are \(RunoneConfig.modelNames.joined(separator: ", "))") }
        guard name == .string("kuramoto") else {
            throw fail("name", "unknown model \(name.scalarText.map { "'\($0)'" } ?? name.typeName); the built-in models are \(RunoneConfig.modelNames.joined(separator: ", "))")
        }
        var p = KuramotoParameters()
        for (key, item) in entries where key != "name" {
            guard let field = fields.first(where: { $0.key == key }) else {
                throw fail(key, "unknown parameter; kuramoto takes \(fields.dropFirst().map(\.key).joined(separator: ", "))")
            }
            if field.kind == "text" {
                guard case .string(let text) = item, let form = CouplingForm(rawValue: text) else {
                    throw fail(key, "must be \(CouplingForm.allCases.map(\.rawValue).joined(separator: " or ")), found \(item.scalarText.map { "'\($0.excerpt)'" } ?? item.typeName)")
                }
                p.couplingForm = form
                continue
            }
            if field.kind == "int" {
                guard case .int(let number) = item else { throw fail(key, "must be a whole number, found \(item.typeName)") }
                switch key {
                case "nodes": p.nodes = number
                case "timepoints": p.timepoints = number
                default: p.seed = number
                }
                continue
            }
            let number: Double
            switch item {
            case .int(let whole): number = Double(whole)
            case .double(let real): number = real
            case .string(let text) where Double(text) != nil:
                throw fail(key, "'\(text)' is text to YAML 1.1 (it needs a '.' and a signed exponent, like 1.0e-3); write it as a number")
            default: throw fail(key, "must be a number, found \(item.typeName)")
            }
            guard number.isFinite else { throw fail(key, "must be finite") }
            switch key {
            case "coupling": p.coupling = number
            case "noise": p.noise = number
            case "dt": p.dt = number
            case "TR": p.TR = number
            case "density": p.density = number
            case "frequency_mean": p.frequencyMean = number
            default: p.frequencyStd = number
            }
        }
        if p.nodes < 1 || p.nodes > 100_000 { throw fail("nodes", "must be between 1 and 100000") }
        if p.timepoints < 1 || p.timepoints > 10_000_000 { throw fail("timepoints", "must be between 1 and 10000000") }
        if p.dt <= 0 { throw fail("dt", "must be positive") }
        if p.TR < p.dt { throw fail("TR", "must be at least dt (\(p.dt))") }
        if p.TR / p.dt > Double(maxStepsPerSample) {
            throw fail("TR", "is more than \(maxStepsPerSample) integration steps of dt (\(p.dt)); raise dt or lower TR")
        }
        if p.noise < 0 { throw fail("noise", "must be 0 or more") }
        if !(0...1).contains(p.density) { throw fail("density", "must be between 0 and 1") }
        if p.frequencyStd < 0 { throw fail("frequency_std", "must be 0 or more") }
        if p.seed < 0 { throw fail("seed", "must be 0 or more") }
        return p
    }

    /// The most integration steps between two samples (TR / dt).
    static let maxStepsPerSample = 100_000_000

    /// Integration steps between two samples.
    public var stepsPerSample: Int { max(1, Int((TR / dt).rounded())) }
}

extension KuramotoParameters: MemoryEstimating {
    /// Peak bytes: while the graph is built, each of its E = density·N(N−1)/2 edges is
    /// held twice as Int32 in per-node lists and again in the CSR array, either of which
    /// may hold up to twice its size while it grows (24 bytes per edge in all, measured
    /// at 15–20); then per node a few Double vectors; per sample one line of the order
    /// parameter's CSV; and the runtime itself.
    public var peakBytes: Int {
        let n = Double(nodes)
        let edges = density * n * (n - 1) / 2
        let bytes = 24 * edges + 160 * n + 48 * Double(timepoints) + 16 * 1_048_576
        return bytes < Double(Int.max) ? Int(bytes) : Int.max
    }

    public var estimateDescription: String {
        "kuramoto with \(nodes) nodes at density \(density) and \(timepoints) timepoints"
    }
}

/// N coupled phase oscillators on a seeded Erdős–Rényi graph, integrated with
/// Euler–Maruyama:  dθ_i = (ω_i + K/N Σ_j A_ij sin(θ_j − θ_i)) dt + σ dW_i.
/// The coupling sum uses sin(θ_j − θ_i) = sin θ_j cos θ_i − cos θ_j sin θ_i, so each step
/// costs 2N trigonometric calls plus one pass over the edges.
public struct KuramotoModel {
    public let parameters: KuramotoParameters
    /// Neighbours of node i: neighbours[offsets[i]..<offsets[i+1]] (CSR).
    let offsets: [Int]
    let neighbours: [Int32]
    var omega: [Double]
    var theta: [Double]
    var random: Xoshiro256

    public init(_ parameters: KuramotoParameters) {
        self.parameters = parameters
        var random = Xoshiro256(seed: UInt64(parameters.seed))
        let n = parameters.nodes
        var adjacency = [[Int32]](repeating: [], count: n)
        for i in 0..<n {
            for j in (i + 1)..<n where random.uniform() < parameters.density {
                adjacency[i].append(Int32(j))
                adjacency[j].append(Int32(i))
            }
        }
        var offsets = [0]
        var neighbours: [Int32] = []
        for list in adjacency {
            neighbours += list.sorted()
            offsets.append(neighbours.count)
        }
        self.offsets = offsets
        self.neighbours = neighbours
        omega = (0..<n).map { _ in 2 * Double.pi * (parameters.frequencyMean + parameters.frequencyStd * random.gaussian()) }
        theta = (0..<n).map { _ in 2 * Double.pi * random.uniform() }
        self.random = random
    }

    public var edgeCount: Int { neighbours.count / 2 }

    /// Runs the model and hands each sample to `sample`: sin θ of every node and the
    /// order parameter r = |mean e^{iθ}|. When `sample` returns false the run stops early
    /// and this returns false.
    public mutating func run(sample: (_ neural: UnsafeBufferPointer<Double>, _ order: Double) -> Bool) -> Bool {
        let p = parameters
        let n = p.nodes
        let k = p.couplingForm == .sineTVB ? p.coupling : p.coupling / Double(n)
        let dt = p.dt
        let noiseScale = p.noise * dt.squareRoot()
        let steps = p.stepsPerSample
        var sines = [Double](repeating: 0, count: n)
        var cosines = [Double](repeating: 0, count: n)
        var drift = [Double](repeating: 0, count: n)
        var row = [Double](repeating: 0, count: n)
        for _ in 0..<p.timepoints {
            for _ in 0..<steps {
                for i in 0..<n {
                    sines[i] = sin(theta[i])
                    cosines[i] = cos(theta[i])
                }
                offsets.withUnsafeBufferPointer { off in
                    neighbours.withUnsafeBufferPointer { nb in
                        for i in 0..<n {
                            var sumSin = 0.0
                            var sumCos = 0.0
                            for e in off[i]..<off[i + 1] {
                                let j = Int(nb[e])
                                sumSin += sines[j]
                                sumCos += cosines[j]
                            }
                            drift[i] = omega[i] + k * (sumSin * cosines[i] - sumCos * sines[i])
                        }
                    }
                }
                for i in 0..<n {
                    theta[i] += drift[i] * dt + noiseScale * random.gaussian()
                }
            }
            var re = 0.0
            var im = 0.0
            for i in 0..<n {
                let s = sin(theta[i])
                row[i] = s
                re += cos(theta[i])
                im += s
            }
            let order = (re * re + im * im).squareRoot() / Double(n)
            let keepGoing = row.withUnsafeBufferPointer { sample($0, order) }
            if !keepGoing { return false }
        }
        return true
    }
}

/// Kuramoto's random numbers: BrainModels' xoshiro256** (seeded through SplitMix64, so the
/// same seed gives the same run everywhere), with its own Box–Muller normals, which its
/// outputs have always been made of.
struct Xoshiro256 {
    private var stream: RandomStream
    private var spare: Double?

    init(seed: UInt64) { stream = RandomStream(seed: seed) }

    mutating func next() -> UInt64 { stream.next() }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal, by Box–Muller (pairs).
    mutating func gaussian() -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        let u1 = 1 - uniform()
        let u2 = uniform()
        let radius = (-2 * log(u1)).squareRoot()
        spare = radius * sin(2 * .pi * u2)
        return radius * cos(2 * .pi * u2)
    }
}
