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

    public init() {}

    public var totalSteps: Int { stepsPerSample * samples }
}

/// A neural mass model on a network, integrated as TVB's simulator does
/// (`tvb/simulator/simulator.py`): at each step the coupling is computed once from the
/// history, c_i = G Σ_j w_ij x_j(t − d_ij dt) with d_ij = round(L_ij / speed / dt), then the
/// integrator advances every region, then the new state enters the history. The neural
/// output is the mean of the model's first state variable over each sample window (TVB's
/// TemporalAverage); BOLD is the Balloon–Windkessel model driven by that variable,
/// integrated at dt and read at the end of each window.
///
/// Memory: the weights (N×N doubles, rows padded to a multiple of 4), with delays the
/// N×N Int32 delay offsets and a ring buffer of (max delay + 1)×N doubles, and O(N)
/// vectors; outputs are handed out one sample at a time.
public struct NetworkSimulation<Model: NeuralMass> {
    public let model: Model
    public let settings: SimulationSettings
    public let nodes: Int
    /// Row stride of the padded weights and vectors (N rounded up to a multiple of 4).
    let stride: Int
    var weights: [Double]
    /// For a symmetric network without delays: the strict upper triangle, row i from
    /// column (i rounded down to a multiple of 4) to the padded end, entries at or left of
    /// the diagonal zero; half the bytes of `weights` to stream per step.
    var upper: [Double]
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
        if symmetric {
            var rows = [Int]()
            var packed = [Double]()
            for i in 0..<n {
                rows.append(packed.count)
                for j in (i & ~3)..<stride { packed.append(j > i && j < n ? network.weights[i * n + j] : 0) }
            }
            upper = packed
            upperRows = rows
            diagonal = (0..<stride).map { $0 < n ? network.weights[$0 * n + $0] : 0 }
            self.weights = []
        } else {
            upper = []
            upperRows = []
            diagonal = []
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
        let sqrtDt = dt.squareRoot()
        let boldDt = dt / 1000
        let averageScale = 1 / Double(s.stepsPerSample)
        var balloon = s.bold ? BalloonWindkessel(nodes: n) : nil
        let width = vars * stride
        var scratch = [Double](repeating: 0, count: 4 * width + 4 * stride)
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
            return state.withUnsafeMutableBufferPointer { stateBuffer in
                let x = stateBuffer.baseAddress!
                let symmetric = !upper.isEmpty
                return weights.withUnsafeBufferPointer { w in
                  upper.withUnsafeBufferPointer { up in
                   diagonal.withUnsafeBufferPointer { diag in
                    upperRows.withUnsafeBufferPointer { rowStarts in
                    delayOffsets.withUnsafeBufferPointer { offsets in
                        history.withUnsafeMutableBufferPointer { hist in
                            var step = 0
                            for _ in 0..<s.samples {
                                for _ in 0..<s.stepsPerSample {
                                    step += 1
                                    if step & 0xFFFF == 0 && stop() { return false }
                                    // Coupling from the state after step − 1 − d_ij.
                                    if useHistory {
                                        Self.delayedCoupling(w.baseAddress!, offsets.baseAddress!, hist.baseAddress!,
                                                             slot: (step - 1) % horizon, out: coupling, n: n, gain: G)
                                    } else if symmetric {
                                        Self.symmetricCoupling(up.baseAddress!, rowStarts.baseAddress!, diag.baseAddress!, x,
                                                               out: coupling, n: n, stride: stride, gain: G)
                                    } else {
                                        Self.denseCoupling(w.baseAddress!, x, out: coupling, n: n, stride: stride, gain: G)
                                    }
                                    model.derivative(x, coupling: coupling, into: f1, n: n, stride: stride)
                                    if sigma > 0 {
                                        for v in 0..<vars {
                                            for i in 0..<n { eta[v * stride + i] = (sqrtDt * random.gaussian()) * sigma }
                                        }
                                    }
                                    switch s.scheme {
                                    case .heun:
                                        for k in 0..<width { inter[k] = x[k] + dt * f1[k] + eta[k] }
                                        model.bound(inter, n: n, stride: stride)
                                        model.derivative(inter, coupling: coupling, into: f2, n: n, stride: stride)
                                        for k in 0..<width { x[k] = x[k] + (f1[k] + f2[k]) * dt / 2.0 + eta[k] }
                                    case .euler:
                                        for k in 0..<width { x[k] = x[k] + f1[k] * dt + eta[k] }
                                    }
                                    model.bound(x, n: n, stride: stride)
                                    for i in n..<stride { x[i] = 0 }
                                    if useHistory {
                                        let slot = step % horizon
                                        for i in 0..<n {
                                            hist[i * 2 * horizon + slot] = x[i]
                                            hist[i * 2 * horizon + slot + horizon] = x[i]
                                        }
                                    }
                                    for i in 0..<n { sum[i] += x[i] }
                                    balloon?.step(x, dt: boldDt)
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

    /// out = gain · W x for symmetric W stored as its upper triangle (`upper`): each stored
    /// w_ij (j > i) is used twice, y_i += w_ij x_j and y_j += w_ij x_i, so the weights are
    /// streamed once at half the bytes of `denseCoupling`. Four rows at a time share the x
    /// and y chunks.
    @inline(__always)
    static func symmetricCoupling(_ upper: UnsafePointer<Double>, _ rows: UnsafePointer<Int>, _ diagonal: UnsafePointer<Double>,
                                  _ x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, n: Int, stride: Int, gain: Double) {
        for i in 0..<stride { out[i] = diagonal[i] * x[i] }
        let xs = UnsafeRawPointer(x)
        let ys = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 4 <= n {
            // Rows i..<i+4 share the span start i (a multiple of 4).
            let start = 8 * i
            let r0 = UnsafeRawPointer(upper + rows[i]) - start
            let r1 = UnsafeRawPointer(upper + rows[i + 1]) - start
            let r2 = UnsafeRawPointer(upper + rows[i + 2]) - start
            let r3 = UnsafeRawPointer(upper + rows[i + 3]) - start
            let x0 = SIMD4<Double>(repeating: x[i]), x1 = SIMD4<Double>(repeating: x[i + 1])
            let x2 = SIMD4<Double>(repeating: x[i + 2]), x3 = SIMD4<Double>(repeating: x[i + 3])
            var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
            var k = start
            while k < 8 * stride {
                let xv = xs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                let w0 = r0.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                let w1 = r1.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                let w2 = r2.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                let w3 = r3.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                a0 += w0 * xv
                a1 += w1 * xv
                a2 += w2 * xv
                a3 += w3 * xv
                let yv = ys.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) + ((w0 * x0 + w1 * x1) + (w2 * x2 + w3 * x3))
                ys.storeBytes(of: yv, toByteOffset: k, as: SIMD4<Double>.self)
                k += 32
            }
            out[i] += a0.sum()
            out[i + 1] += a1.sum()
            out[i + 2] += a2.sum()
            out[i + 3] += a3.sum()
            i += 4
        }
        // The last n mod 4 rows, one at a time.
        while i < n {
            let row = upper + rows[i] - (i & ~3)
            var a = 0.0
            let xi = x[i]
            for k in (i + 1)..<n {
                a += row[k] * x[k]
                out[k] += row[k] * xi
            }
            out[i] += a
            i += 1
        }
        for i in 0..<n { out[i] *= gain }
        for i in n..<stride { out[i] = 0 }
    }

    /// out_i = gain · Σ_j w_ij x_j: the dense matrix–vector product, four rows at a time
    /// with SIMD4 accumulators so each x chunk is loaded once per four rows.
    @inline(__always)
    static func denseCoupling(_ w: UnsafePointer<Double>, _ x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>,
                              n: Int, stride: Int, gain: Double) {
        let raw = UnsafeRawPointer(w)
        let xs = UnsafeRawPointer(x)
        var i = 0
        while i + 4 <= n {
            var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
            let r0 = raw + 8 * i * stride, r1 = r0 + 8 * stride, r2 = r1 + 8 * stride, r3 = r2 + 8 * stride
            var k = 0
            while k < 8 * stride {
                let xv = xs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                a0 += r0.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) * xv
                a1 += r1.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) * xv
                a2 += r2.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) * xv
                a3 += r3.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) * xv
                k += 32
            }
            out[i] = gain * a0.sum()
            out[i + 1] = gain * a1.sum()
            out[i + 2] = gain * a2.sum()
            out[i + 3] = gain * a3.sum()
            i += 4
        }
        while i < n {
            var a = SIMD4<Double>()
            let r = raw + 8 * i * stride
            var k = 0
            while k < 8 * stride {
                a += r.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) * xs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                k += 32
            }
            out[i] = gain * a.sum()
            i += 1
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
