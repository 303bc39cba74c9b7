import BrainKernels
#if canImport(BrainKernelsAVX2)
import BrainKernelsAVX2
#endif

/// Which build of the inner loops (Sources/BrainKernels) a simulation runs. Both give the
/// same results to about 1e-15 relative in the state and 1e-13 in BOLD's small values (the
/// AVX2 build fuses multiply–adds); each is bit-for-bit reproducible on its own.
public enum InstructionSet: String, Sendable, CaseIterable {
    /// x86-64's SSE2 baseline (or the target's own baseline elsewhere): runs on every CPU.
    case baseline
    /// AVX2 with FMA (x86-64-v3: Intel since Haswell, AMD since Zen). The caller checks
    /// that the CPU has both (runone reads /proc/cpuinfo); on other CPUs it would trap.
    case avx2
}

/// The inner loops of one build of BrainKernels, as function values so that the choice
/// is made once per run and the calls stay inside the chosen module.
struct KernelTable: Sendable {
    let entry: BrainKernels.Kernels.EntryPoints

    static let baseline = KernelTable(entry: BrainKernels.Kernels.entryPoints)
    #if canImport(BrainKernelsAVX2)
    static let avx2 = KernelTable(entry: BrainKernelsAVX2.Kernels.entryPoints)
    #endif

    static func table(for set: InstructionSet) -> KernelTable {
        #if canImport(BrainKernelsAVX2)
        if set == .avx2 { return avx2 }
        #endif
        return baseline
    }

    func wongWang(_ s: UnsafePointer<Double>, _ coupling: UnsafePointer<Double>, _ dx: UnsafeMutablePointer<Double>, _ stride: Int, _ m: ReducedWongWang) {
        entry.wongWang(s, coupling, dx, stride, m.a, m.b, m.d, m.gamma, m.tauS, m.w * m.JN, m.Io, m.JN)
    }

    func balloon(_ balloon: inout BalloonWindkessel, _ z: UnsafePointer<Double>, _ dt: Double) {
        balloon.withArrays { x, f, q, v, count, h in
            entry.balloonStep(x, f, q, v, z, count, dt, h.kappa, h.gamma, h.tau, BalloonWindkessel.rho)
        }
    }
}

/// How TVB's integrators step (`tvb/simulator/integrators.py`).
public enum IntegrationScheme: String, Sendable, CaseIterable {
    /// Stochastic Heun (TVB's HeunStochastic; HeunDeterministic when the noise is 0):
    /// predictor x̃ = x + dt f(x, c) + η, corrector x' = x + dt/2 (f(x, c) + f(x̃, c)) + η,
    /// with the same coupling c and the same noise η in both stages.
    case heun
    /// Euler–Maruyama (TVB's EulerStochastic / EulerDeterministic): x' = x + dt f(x, c) + η.
    case euler
}

/// What one simulation run does, in TVB's units.
public struct SimulationSettings: Equatable, Sendable {
    /// Integration step in ms.
    public var dt = 0.1
    /// Integration steps per output sample (TR / dt).
    public var stepsPerSample = 8000
    /// Output samples (timepoints).
    public var samples = 375
    /// Linear coupling gain: c_i = G Σ_j w_ij x_j(t − τ_ij) (TVB's coupling.Linear, a = G, b = 0).
    public var G = 0.5
    /// Additive noise intensity D (TVB's noise.Additive nsig): η = √(2D) √dt z, z ~ N(0, 1),
    /// for every state variable. 0: deterministic.
    public var noise = 0.0
    public var scheme = IntegrationScheme.heun
    /// Conduction speed in mm/ms; nil: no delays.
    public var speed: Double?
    /// Integrate and sample the Balloon–Windkessel BOLD signal.
    public var bold = true
    /// Integration steps per BOLD step: the Balloon–Windkessel model advances by
    /// `boldSteps`·dt, driven by the mean of the neural variable over those steps. Must
    /// divide `stepsPerSample`. 1 is neurolib's scheme (BOLD at the neural dt).
    public var boldSteps = 1
    public var hemodynamics = BalloonWindkessel.Hemodynamics.neurolib
    /// Which build of the inner loops to run; the caller checks the CPU.
    public var instructionSet = InstructionSet.baseline

    public init() {}

    public var totalSteps: Int { stepsPerSample * samples }
}

/// A neural mass model on a network, integrated as TVB's simulator does
/// (`tvb/simulator/simulator.py`): at each step the coupling is computed once from the
/// history, c_i = G Σ_j w_ij x_j(t − d_ij dt) with d_ij = round(L_ij / speed / dt), then the
/// integrator advances every region, then the new state enters the history. The neural
/// output is the mean of the model's first state variable over each sample window (TVB's
/// TemporalAverage); BOLD is the Balloon–Windkessel model driven by that variable's mean
/// over each `boldSteps` steps, integrated at `boldSteps`·dt and read at the end of each
/// window. The inner loops run in the BrainKernels build `settings.instructionSet` names.
///
/// Memory: the weights (at most N×N doubles, rows padded to a multiple of 4; a symmetric
/// network keeps half, as Float when exact), with delays the N×N Int32 delay offsets and a
/// ring buffer of (max delay + 1)×N doubles, and O(N) vectors; outputs are handed out one
/// sample at a time.
public struct NetworkSimulation<Model: NeuralMass> {
    public let model: Model
    public let settings: SimulationSettings
    public let nodes: Int
    /// Row stride of the padded weights and vectors (N rounded up to a multiple of 4).
    let stride: Int
    var weights: [Double]
    /// For a symmetric network without delays: the strict upper triangle, row i from
    /// column (i rounded down to a multiple of 4) to the padded end, entries at or left of
    /// the diagonal zero; half the bytes of `weights` to stream per step. Stored as Float
    /// (`upperSingle`) when every weight is exactly a Float — half the bytes again, and the
    /// same sums, since each is widened exactly — and as Double (`upper`) otherwise.
    var upper: [Double]
    var upperSingle: [Float]
    /// w_ii, with `upper`.
    var diagonal: [Double]
    /// Offset of row i's span in `upper`.
    var upperRows: [Int]
    /// With delays: per (source j, target i), column-major, the offset j·2H + H − d_ij into
    /// `history`; read at (step − 1) mod H plus it. `weights` is then column-major too.
    var delayOffsets: [Int32]
    /// History slots (max delay + 1); 1 without delays.
    public let horizon: Int
    var history: [Double]
    var state: [Double]
    var noiseStream: RandomStream

    /// `initial`: the state, variable-major (`stateCount × nodes`); `noiseStream`: the
    /// subject's noise stream. With `settings.speed`, the network must have tract lengths.
    public init(model: Model, network: Network, settings: SimulationSettings, initial: [Double], noiseStream: RandomStream) {
        precondition(initial.count == model.stateCount * network.nodes)
        self.model = model
        self.settings = settings
        let n = network.nodes
        nodes = n
        let stride = (n + 3) & ~3
        self.stride = stride
        var weights = [Double](repeating: 0, count: n * stride)
        for i in 0..<n {
            for j in 0..<n { weights[i * stride + j] = network.weights[i * n + j] }
        }
        var horizon = 1
        var offsets: [Int32] = []
        var transposed: [Double] = []
        if let speed = settings.speed, network.tractLengths != nil {
            let steps = network.delaySteps(speed: speed, dt: settings.dt)
            horizon = Int(steps.max() ?? 0) + 1
            if horizon > 1 {
                // Column-major (source j outer): j's history, 2H doubles, stays in L1 while
                // its targets are summed.
                offsets = [Int32](repeating: 0, count: n * n)
                transposed = [Double](repeating: 0, count: n * n)
                for j in 0..<n {
                    for i in 0..<n {
                        offsets[j * n + i] = Int32(j * 2 * horizon + horizon - Int(steps[i * n + j]))
                        transposed[j * n + i] = network.weights[i * n + j]
                    }
                }
            } else {
                horizon = 1
            }
        }
        delayOffsets = offsets
        self.horizon = horizon
        if horizon > 1 { weights = transposed }
        var symmetric = horizon == 1
        for i in 0..<n where symmetric {
            for j in (i + 1)..<n where network.weights[i * n + j] != network.weights[j * n + i] {
                symmetric = false
                break
            }
        }
        upper = []
        upperSingle = []
        upperRows = []
        diagonal = []
        if symmetric {
            var rows = [Int]()
            var packed = [Double]()
            for i in 0..<n {
                rows.append(packed.count)
                for j in (i & ~3)..<stride { packed.append(j > i && j < n ? network.weights[i * n + j] : 0) }
            }
            if packed.allSatisfy({ Double(Float($0)) == $0 }) {
                upperSingle = packed.map { Float($0) }
            } else {
                upper = packed
            }
            upperRows = rows
            diagonal = (0..<stride).map { $0 < n ? network.weights[$0 * n + $0] : 0 }
            self.weights = []
        } else {
            self.weights = weights
        }
        var state = [Double](repeating: 0, count: model.stateCount * stride)
        for v in 0..<model.stateCount {
            for i in 0..<n { state[v * stride + i] = initial[v * n + i] }
        }
        state.withUnsafeMutableBufferPointer { model.bound($0.baseAddress!, n: n, stride: stride) }
        self.state = state
        // History, node-major, each node's ring of H slots stored twice (2H doubles) so
        // a read never wraps. TVB fills the whole history with the initial state.
        history = horizon > 1 ? (0..<n).flatMap { i in [Double](repeating: state[i], count: 2 * horizon) } : []
        self.noiseStream = noiseStream
    }

    /// Bytes the arrays of a run hold (weights, delay offsets, history, vectors), for the
    /// memory estimate before it starts.
    public static func arrayBytes(nodes n: Int, stateCount: Int, horizon: Int) -> Int {
        let stride = (n + 3) & ~3
        // With delays: Int32 offsets and column-major weights, and the doubled history.
        let delays = horizon > 1 ? 12 * n * n + 16 * horizon * n : 0
        return 8 * n * stride + delays + 8 * stride * (6 * stateCount + 12)
    }

    /// Runs all steps and hands each sample to `sample`: the window-mean of the first
    /// state variable and, with BOLD, the BOLD signal (nil otherwise), one value per
    /// region. Returns false when `sample` asked to stop, or `stop` (asked every 65,536
    /// steps, for long sample windows) said to.
    public mutating func run(stop: () -> Bool = { false },
                             sample: (_ neural: UnsafeBufferPointer<Double>, _ bold: UnsafeBufferPointer<Double>?) -> Bool) -> Bool {
        let n = nodes, stride = stride, vars = model.stateCount
        let s = settings
        let dt = s.dt
        let sigma = s.noise > 0 ? (2 * s.noise).squareRoot() : 0
        let noiseScale = dt.squareRoot() * sigma
        let boldSteps = max(1, s.boldSteps)
        let boldDt = Double(boldSteps) * dt / 1000
        let boldScale = 1 / Double(boldSteps)
        let averageScale = 1 / Double(s.stepsPerSample)
        var balloon = s.bold ? BalloonWindkessel(nodes: n, hemodynamics: s.hemodynamics) : nil
        let kernels = KernelTable.table(for: s.instructionSet)
        let wongWang = model as? ReducedWongWang
        // Heun's stages clip in the kernels: Wong–Wang's S to [0, 1] (its `bound`); other
        // models keep their own `bound`, after unclipped stages.
        let (clipLower, clipUpper) = wongWang != nil ? (0.0, 1.0) : (-Double.infinity, Double.infinity)
        let width = vars * stride
        var scratch = [Double](repeating: 0, count: 4 * width + 5 * stride)
        let model = model
        let horizon = horizon
        let useHistory = horizon > 1
        let G = s.G
        var random = noiseStream
        defer { noiseStream = random }
        return scratch.withUnsafeMutableBufferPointer { scratchBuffer in
            let base = scratchBuffer.baseAddress!
            let f1 = base, f2 = base + width, inter = base + 2 * width, eta = base + 3 * width
            let coupling = base + 4 * width, sum = coupling + stride, neuralOut = sum + stride, boldOut = neuralOut + stride
            let boldSum = boldOut + stride
            return state.withUnsafeMutableBufferPointer { stateBuffer in
                let x = stateBuffer.baseAddress!
                func derivative(_ state: UnsafePointer<Double>, into dx: UnsafeMutablePointer<Double>) {
                    if let wongWang {
                        kernels.wongWang(state, coupling, dx, stride, wongWang)
                    } else {
                        model.derivative(state, coupling: coupling, into: dx, n: n, stride: stride)
                    }
                }
                return weights.withUnsafeBufferPointer { w in
                  upper.withUnsafeBufferPointer { up in
                   upperSingle.withUnsafeBufferPointer { upSingle in
                    diagonal.withUnsafeBufferPointer { diag in
                    upperRows.withUnsafeBufferPointer { rowStarts in
                    delayOffsets.withUnsafeBufferPointer { offsets in
                        history.withUnsafeMutableBufferPointer { hist in
                            var step = 0
                            for _ in 0..<s.samples {
                                for inWindow in 1...s.stepsPerSample {
                                    step += 1
                                    if step & 0xFFFF == 0 && stop() { return false }
                                    // Coupling from the state after step − 1 − d_ij.
                                    if useHistory {
                                        Self.delayedCoupling(w.baseAddress!, offsets.baseAddress!, hist.baseAddress!,
                                                             slot: (step - 1) % horizon, out: coupling, n: n, gain: G)
                                    } else if !upSingle.isEmpty {
                                        kernels.entry.symmetricSingle(upSingle.baseAddress!, rowStarts.baseAddress!, diag.baseAddress!, x, coupling, n, stride, G)
                                    } else if !up.isEmpty {
                                        kernels.entry.symmetricDouble(up.baseAddress!, rowStarts.baseAddress!, diag.baseAddress!, x, coupling, n, stride, G)
                                    } else {
                                        kernels.entry.dense(w.baseAddress!, x, coupling, n, stride, G)
                                    }
                                    derivative(x, into: f1)
                                    if sigma > 0 {
                                        for v in 0..<vars { random.fillGaussian(eta + v * stride, count: n, scale: noiseScale) }
                                    }
                                    switch s.scheme {
                                    case .heun:
                                        kernels.entry.heunPredictor(x, f1, eta, inter, width, dt, clipLower, clipUpper)
                                        if wongWang == nil { model.bound(inter, n: n, stride: stride) }
                                        derivative(inter, into: f2)
                                        kernels.entry.heunCorrector(x, f1, f2, eta, width, dt, clipLower, clipUpper)
                                    case .euler:
                                        for k in 0..<width { x[k] = x[k] + f1[k] * dt + eta[k] }
                                    }
                                    if wongWang == nil || s.scheme == .euler { model.bound(x, n: n, stride: stride) }
                                    for i in n..<stride { x[i] = 0 }
                                    if useHistory {
                                        let slot = step % horizon
                                        for i in 0..<n {
                                            hist[i * 2 * horizon + slot] = x[i]
                                            hist[i * 2 * horizon + slot + horizon] = x[i]
                                        }
                                    }
                                    for i in 0..<n { sum[i] += x[i] }
                                    if balloon != nil {
                                        if boldSteps == 1 {
                                            kernels.balloon(&balloon!, x, boldDt)
                                        } else {
                                            for i in 0..<n { boldSum[i] += x[i] }
                                            if inWindow % boldSteps == 0 {
                                                for i in 0..<n {
                                                    boldSum[i] *= boldScale
                                                }
                                                kernels.balloon(&balloon!, boldSum, boldDt)
                                                for i in 0..<n { boldSum[i] = 0 }
                                            }
                                        }
                                    }
                                }
                                for i in 0..<n {
                                    neuralOut[i] = sum[i] * averageScale
                                    sum[i] = 0
                                }
                                var boldBuffer: UnsafeBufferPointer<Double>?
                                if let balloon {
                                    balloon.signal(into: boldOut)
                                    boldBuffer = UnsafeBufferPointer(start: boldOut, count: n)
                                }
                                if !sample(UnsafeBufferPointer(start: neuralOut, count: n), boldBuffer) { return false }
                            }
                            return true
                        }
                    }
                    }
                    }
                   }
                  }
                }
            }
        }
    }

    /// out_i = gain · Σ_j w_ij x_j(after step − 1 − d_ij): the delayed coupling, a gather
    /// from the history (memory-bound), source by source so each source's history stays in
    /// L1; sums run over j in order, as the dense product's do.
    @inline(__always)
    static func delayedCoupling(_ wT: UnsafePointer<Double>, _ offsets: UnsafePointer<Int32>, _ h: UnsafePointer<Double>,
                                slot: Int, out: UnsafeMutablePointer<Double>, n: Int, gain: Double) {
        for i in 0..<n { out[i] = 0 }
        let hs = h + slot
        for j in 0..<n {
            let column = wT + j * n
            let off = offsets + j * n
            for i in 0..<n { out[i] += column[i] * hs[Int(off[i])] }
        }
        for i in 0..<n { out[i] *= gain }
    }
}
