@testable import BrainModels
import Glibc
import Scheduler
import Testing

/// dx/dt = −k x + 1·(constant drive) + c: linear, so its solution is known in closed form.
struct LinearTestModel: NeuralMass {
    var k = 1.0
    var drive = 0.0
    var stateCount: Int { 1 }
    var stateNames: [String] { ["x"] }
    func derivative(_ x: UnsafePointer<Double>, coupling: UnsafePointer<Double>, into dx: UnsafeMutablePointer<Double>, n: Int, stride: Int) {
        for i in 0..<n { dx[i] = -k * x[i] + drive + coupling[i] }
    }
    func bound(_ x: UnsafeMutablePointer<Double>, n: Int, stride: Int) {}
}

/// Runs a simulation and collects every sample (neural, bold) as rows.
func collect<M: NeuralMass>(_ simulation: inout NetworkSimulation<M>) -> (neural: [[Double]], bold: [[Double]]) {
    var neural: [[Double]] = []
    var bold: [[Double]] = []
    _ = simulation.run { row, boldRow in
        neural.append(Array(row))
        if let boldRow { bold.append(Array(boldRow)) }
        return true
    }
    return (neural, bold)
}

/// wong_wang on a synthetic network with S = 0.1 at the start and the subject's noise
/// stream, run to the end: every sample (neural, bold) as rows.
func wongWangSamples(nodes: Int, seed: Int, subject: Int, settings: SimulationSettings) -> (neural: [[Double]], bold: [[Double]]) {
    var simulation = NetworkSimulation(model: ReducedWongWang(), network: Network.synthetic(nodes: nodes, seed: seed, subject: subject),
                                       settings: settings, initial: [Double](repeating: 0.1, count: nodes),
                                       noiseStream: RandomStream.derived(seed: seed, subject: subject, name: "noise"))
    return collect(&simulation)
}

func wongWangRun(subject: Int, seed: Int = 3, nodes: Int = 8, speed: Double? = nil) -> (neural: [[Double]], bold: [[Double]]) {
    var settings = SimulationSettings()
    settings.dt = 0.1
    settings.stepsPerSample = 20
    settings.samples = 30
    settings.noise = 0.001
    settings.speed = speed
    return wongWangSamples(nodes: nodes, seed: seed, subject: subject, settings: settings)
}

@Suite struct BrainModelsTests {
    @Test func sameSubjectReproducesBitForBit() {
        let first = wongWangRun(subject: 7)
        let second = wongWangRun(subject: 7)
        #expect(first.neural.count == 30 && first.bold.count == 30)
        #expect(first.neural.flatMap { $0 }.map(\.bitPattern) == second.neural.flatMap { $0 }.map(\.bitPattern))
        #expect(first.bold.flatMap { $0 }.map(\.bitPattern) == second.bold.flatMap { $0 }.map(\.bitPattern))
        let delayed = wongWangRun(subject: 7, speed: 3)
        #expect(delayed.neural.flatMap { $0 }.map(\.bitPattern) == wongWangRun(subject: 7, speed: 3).neural.flatMap { $0 }.map(\.bitPattern))
    }

    @Test func subjectsDifferInNetworkAndNoise() {
        let a = Network.synthetic(nodes: 10, seed: 1, subject: 0)
        let b = Network.synthetic(nodes: 10, seed: 1, subject: 1)
        #expect(a.weights != b.weights)
        // The group template (tract lengths) is shared; only the weights are jittered.
        #expect(a.tractLengths == b.tractLengths)
        #expect(a.weights == Network.synthetic(nodes: 10, seed: 1, subject: 0).weights)
        // Symmetric, zero diagonal, mean row sum 1 (to Float rounding), every weight an exact Float.
        #expect(a.weights.allSatisfy { Double(Float($0)) == $0 })
        for i in 0..<10 {
            #expect(a.weights[i * 10 + i] == 0)
            for j in 0..<10 { #expect(a.weights[i * 10 + j] == a.weights[j * 10 + i]) }
        }
        #expect(abs(a.weights.reduce(0, +) / 10 - 1) < 1e-7)
        let runA = wongWangRun(subject: 0).neural, runB = wongWangRun(subject: 1).neural
        #expect(runA != runB)
        // Noise alone differs per subject: the same stream name under two subjects.
        var x = RandomStream.derived(seed: 0, subject: 0, name: "noise"), y = RandomStream.derived(seed: 0, subject: 1, name: "noise")
        #expect(x.next() != y.next())
    }

    @Test func gaussianHasUnitVariance() {
        var random = RandomStream(seed: 42)
        var sum = 0.0, squares = 0.0
        let count = 200_000
        for _ in 0..<count {
            let z = random.gaussian()
            sum += z
            squares += z * z
        }
        let mean = sum / Double(count)
        #expect(abs(mean) < 0.01)
        #expect(abs(squares / Double(count) - mean * mean - 1) < 0.02)
    }

    /// A 0.1 s pulse into the Balloon–Windkessel model. With Stephan et al. 2007's
    /// constants the response peaks 4–6 s later; with neurolib's (the default) at 3.1 s,
    /// as neurolib's own integration gives (checked against a Python transcription of
    /// neurolib/models/bold/timeIntegration.py: 3.113 s, peak 0.0035487).
    @Test func hemodynamicResponsePeaksAtFourToSixSeconds() {
        func peak(_ hemodynamics: BalloonWindkessel.Hemodynamics) -> (time: Double, value: Double) {
            var balloon = BalloonWindkessel(nodes: 1, hemodynamics: hemodynamics)
            let dt = 0.001
            var peak = (time: 0.0, value: -Double.infinity)
            var out = 0.0
            for step in 1...20_000 {
                var z = step <= 100 ? 1.0 : 0.0
                balloon.step(&z, dt: dt)
                balloon.signal(into: &out)
                if out > peak.value { peak = (Double(step) * dt, out) }
            }
            return peak
        }
        let stephan = peak(.stephan2007)
        #expect((4.0...6.0).contains(stephan.time), "peak at \(stephan.time) s")
        let neurolib = peak(.neurolib)
        #expect(abs(neurolib.time - 3.113) < 0.0015, "peak at \(neurolib.time) s")
        #expect(abs(neurolib.value - 0.0035487221309867673) < 1e-12)
        var out = 0.0
        // At rest and undriven it stays at 0.
        var rest = BalloonWindkessel(nodes: 1)
        var zero = 0.0
        for _ in 0..<1000 { rest.step(&zero, dt: 0.001) }
        rest.signal(into: &out)
        #expect(out == 0)
    }

    /// Two linearly coupled regions, dx/dt = A x with A = [[−k, G], [G, −k]]: the modes
    /// x₁ ± x₂ decay at rates k ∓ G. Uncoupled (G = 0), Heun's error falls 4× when dt
    /// halves (order 2) and Euler's 2× (order 1). Coupled, Heun is first order too: as in
    /// TVB, the coupling is computed once per step and held through both stages.
    @Test func heunIsSecondOrderAndEulerFirstOnALinearNetwork() {
        func error(_ scheme: IntegrationScheme, dt: Double, G: Double = 0) -> Double {
            let k = 1.0, T = 2.0
            var settings = SimulationSettings()
            settings.dt = dt
            settings.stepsPerSample = 1
            settings.samples = Int((T / dt).rounded())
            settings.G = G
            settings.noise = 0
            settings.scheme = scheme
            settings.bold = false
            let network = Network(nodes: 2, weights: [0, 1, 1, 0])
            var simulation = NetworkSimulation(model: LinearTestModel(k: k), network: network, settings: settings,
                                               initial: [1, 0], noiseStream: RandomStream(seed: 0))
            let last = collect(&simulation).neural.last!
            let sum = exp(-(k - G) * T), difference = exp(-(k + G) * T)
            return max(abs(last[0] - (sum + difference) / 2), abs(last[1] - (sum - difference) / 2))
        }
        let heun = error(.heun, dt: 0.01) / error(.heun, dt: 0.005)
        let euler = error(.euler, dt: 0.01) / error(.euler, dt: 0.005)
        #expect((3.6...4.4).contains(heun), "Heun error ratio \(heun)")
        #expect((1.8...2.2).contains(euler), "Euler error ratio \(euler)")
        #expect(error(.heun, dt: 0.001) < 1e-6)
        let coupledHeun = error(.heun, dt: 0.01, G: 0.5) / error(.heun, dt: 0.005, G: 0.5)
        #expect((1.8...2.2).contains(coupledHeun), "coupled Heun error ratio \(coupledHeun)")
    }

    /// TVB's history: the coupling at step s reads the source's state after step s − 1 − d,
    /// with the initial state before step 0. Region 0 ramps (dx/dt = 1); region 1 integrates
    /// what it receives from region 0 through a delay of d steps.
    @Test func delaysReadTheHistoryAsTVBDoes() {
        let dt = 0.1, speed = 2.0, length = 1.0  // 5 steps
        let d = Int((length / speed / dt).rounded())
        var settings = SimulationSettings()
        settings.dt = dt
        settings.stepsPerSample = 1
        settings.samples = 20
        settings.G = 1
        settings.noise = 0
        settings.scheme = .euler
        settings.speed = speed
        settings.bold = false
        let network = Network(nodes: 2, weights: [0, 0, 1, 0], tractLengths: [0, length, length, 0])
        var simulation = NetworkSimulation(model: LinearTestModel(k: 0, drive: 1), network: network, settings: settings,
                                           initial: [0, 0], noiseStream: RandomStream(seed: 0))
        #expect(simulation.horizon == d + 1)
        let rows = collect(&simulation).neural
        var x0 = [0.0], x1 = 0.0
        for s in 1...20 {
            let source = s - 1 - d >= 0 ? x0[s - 1 - d] : 0
            x1 = x1 + (1 + source) * dt
            x0.append(x0[s - 1] + 1 * dt)
            #expect(abs(rows[s - 1][1] - x1) < 1e-12, "step \(s)")
        }
    }

    @Test func delayStepsRoundHalfToEvenAsNumPyRint() {
        let network = Network(nodes: 2, weights: [0, 1, 1, 0], tractLengths: [0, 1.25, 1.75, 0])
        // 1.25 / 1 / 0.5 = 2.5 → 2 (half to even); 3.5 → 4.
        #expect(network.delaySteps(speed: 1, dt: 0.5) == [0, 2, 4, 0])
    }
}

@Suite struct WholeBrainConfigTests {
    func check(_ yaml: String, memory: MemoryBudget? = nil) throws -> RunoneConfig? {
        try ConfigSchema.check(Array(yaml.utf8), path: "configs/x.yaml", runone: true, memory: memory).runone
    }

    func message(_ yaml: String, memory: MemoryBudget? = nil) -> String {
        do { _ = try check(yaml, memory: memory) } catch { return "\(error)" }
        return "no error"
    }

    @Test func readsTheInterfaceExample() throws {
        let config = try check("""
        model_params:
          name: wong_wang
          nodes: 48
          speed: 3.0
          G: 0.5
          noise: 0.001
          integrator: euler
          dt: 0.1
          TR: 0.8
          timepoints: 20
          bold: false
          seed: 4
          subject: 2
          initial: 0.2
          gamma: 0.7
          J_N: 0.3
        """)
        guard case .wholeBrain(let p)? = config else { Issue.record("not whole-brain: \(String(describing: config))"); return }
        #expect(p.network == .synthetic(nodes: 48))
        #expect(p.speed == 3 && p.G == 0.5 && p.noise == 0.001 && p.scheme == .euler && p.bold == false)
        #expect(p.seed == 4 && p.subject == 2 && p.initial == [0.2] && p.wongWang.gamma == 0.7 && p.wongWang.JN == 0.3)
        #expect(p.stepsPerSample == 8000)
        #expect(p.outputStem(nodes: 48) == "sim_48nodes_20tp_TR0.8_")
        #expect(WholeBrainParameters.trText(2) == "2" && WholeBrainParameters.trText(0.72) == "0.72")
        let oscillator = try check("model_params: {name: generic_2d_oscillator, nodes: 4, tau: 2, beta: 0.5}")
        guard case .wholeBrain(let q)? = oscillator else { Issue.record("not whole-brain"); return }
        #expect(q.oscillator.tau == 2 && q.oscillator.beta == 0.5 && q.stateCount == 2)
    }

    @Test func unknownKeySuggestsTheNearest() {
        #expect(message("model_params: {name: wong_wang, nodes: 4, gama: 0.6}").contains("key 'model_params.gama': unknown parameter; did you mean 'gamma'?"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, integrater: heun}").contains("did you mean 'integrator'?"))
        #expect(message("model_params: {name: wong_wong, nodes: 4}").contains("kuramoto, wong_wang, generic_2d_oscillator"))
    }

    @Test func wrongTypesAndUnitsAreNamed() {
        #expect(message("model_params: {name: wong_wang, nodes: ten}").contains("key 'model_params.nodes': must be a whole number, found a string"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, G: [1]}").contains("key 'model_params.G': must be a number, found a list")
            || message("model_params: {name: wong_wang, nodes: 4, G: [1]}").contains("key 'model_params.G': must be a number"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, noise: 1e-3}").contains("is text to YAML 1.1"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, TR: 8000}").contains("TR is in seconds") || message("model_params: {name: wong_wang, nodes: 4, TR: 8000}").contains("is in seconds"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, TR: 0.8, dt: 1000}").contains("dt is in ms and TR in seconds"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, TR: 0.8, dt: 0.3}").contains("must be a whole number of steps of dt"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, integrator: rk4}").contains("must be heun or euler"))
        #expect(message("model_params: {name: wong_wang}").contains("give 'connectivity:'"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, connectivity: data/}").contains("not both"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, speed: 0}").contains("must be positive (mm/ms"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, speed: 1.0e-300}").contains("delays too long to hold"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, initial: [0.1, 0.2]}").contains("2 values for 4 regions"))
        #expect(message("model_params: {name: kuramoto, coupling_form: tvb}").contains("must be mean or sine_tvb"))
    }

    /// `bold_dt` picks the Balloon–Windkessel step (a whole number of dt steps that divides
    /// TR; by default the most up to 1 ms), `hemodynamics` its constants.
    @Test func boldStepAndHemodynamicsAreConfigKeys() throws {
        func parameters(_ yaml: String) throws -> WholeBrainParameters? {
            if case .wholeBrain(let p)? = try check(yaml) { return p }
            return nil
        }
        let defaults = try #require(try parameters("model_params: {name: wong_wang, nodes: 4}"))
        #expect(defaults.settings.boldSteps == 10 && defaults.settings.hemodynamics == .neurolib)
        let stephan = try #require(try parameters("model_params: {name: wong_wang, nodes: 4, hemodynamics: stephan2007, bold_dt: 0.1}"))
        #expect(stephan.settings.boldSteps == 1 && stephan.settings.hemodynamics == .stephan2007)
        #expect(try parameters("model_params: {name: wong_wang, nodes: 4, bold_dt: 4.0}")?.settings.boldSteps == 40)
        // dt 0.3 ms and TR 0.9 s: the most steps up to 1 ms that divide 3000 is 3 (0.9 ms).
        #expect(try parameters("model_params: {name: wong_wang, nodes: 4, dt: 0.3, TR: 0.9}")?.settings.boldSteps == 3)
        // dt longer than 1 ms: BOLD at dt.
        #expect(try parameters("model_params: {name: wong_wang, nodes: 4, dt: 2.0, TR: 1.0}")?.settings.boldSteps == 1)
        #expect(message("model_params: {name: wong_wang, nodes: 4, bold_dt: 0.25}").contains("key 'model_params.bold_dt': 0.25 ms must be a positive whole number of steps of dt (0.1 ms)"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, bold_dt: -1.0}").contains("must be a positive whole number of steps"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, TR: 0.8, bold_dt: 0.7}").contains("0.7 ms must divide TR (0.8 s) into whole steps"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, TR: 0.8, bold_dt: 1600.0}").contains("1600.0 ms is longer than TR (0.8 s)"))
        // bold_dt as metadata.json records it: the config's figure, or steps × dt rounded.
        #expect(try parameters("model_params: {name: wong_wang, nodes: 4, dt: 0.3, TR: 0.9}")?.boldDtMilliseconds == 0.9)
        #expect(try parameters("model_params: {name: wong_wang, nodes: 4, TR: 0.9, bold_dt: 0.3}")?.boldDtMilliseconds == 0.3)
        // dt equal to TR, whatever its rounding: 0.07 ms = 7e-05 s.
        for dt in [0.07, 0.14, 0.28, 0.56, 0.035, 0.89, 0.1] {
            #expect(message("model_params: {name: wong_wang, nodes: 2, dt: \(dt), TR: \(dt / 1000)}") == "no error", "dt \(dt)")
        }
        #expect(message("model_params: {name: wong_wang, nodes: 4, speed: '3'}").contains("'3' is quoted, so it is text; write the number without quotes"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, bold_dt: '1.0'}").contains("'1.0' is quoted"))
        #expect(message("model_params: {name: wong_wang, nodes: 4, hemodynamics: friston}").contains("must be neurolib or stephan2007, found 'friston'"))
    }

    /// A spreadsheet's UTF-8 byte order mark is skipped; an empty field says what it is.
    @Test func weightFilesWithAByteOrderMarkOrAnEmptyField() throws {
        let folder = "/tmp/multirun-bom-\(getpid())"
        mkdir(folder, 0o700)
        defer {
            unlink(folder + "/bom.csv")
            unlink(folder + "/comma.csv")
            rmdir(folder)
        }
        try FileIO.writeAtomically(folder + "/bom.csv", [0xEF, 0xBB, 0xBF] + Array("0,1\n1,0\n".utf8))
        #expect(try ConnectivityFiles.matrix(folder + "/bom.csv").values == [0, 1, 1, 0])
        try FileIO.writeAtomically(folder + "/comma.csv", Array("0,1,\n1,0,\n".utf8))
        do {
            _ = try ConnectivityFiles.matrix(folder + "/comma.csv")
            Issue.record("a trailing comma was accepted")
        } catch {
            #expect("\(error)".contains("line 1 has an empty field (a doubled or trailing comma?)"), "\(error)")
        }
    }

    @Test func memoryRefusalGivesTheFigure() {
        let budget = MemoryBudget(bytes: 1 << 30, source: "test limit")
        let text = message("model_params: {name: wong_wang, nodes: 20000, timepoints: 10}", memory: budget)
        #expect(text.contains("key 'model_params': wong_wang on 20000 regions and 10 timepoints needs about 10.5 GiB of memory at its peak, more than the 1.0 GiB this machine allows a task (test limit)"), "\(text)")
        // 360 regions, 300 s, BOLD, with delays: well under 200 MB.
        var p = WholeBrainParameters()
        p.network = .synthetic(nodes: 360)
        p.speed = 3
        #expect(p.peakBytes < 200_000_000)
        #expect(message("model_params: {name: wong_wang, nodes: 360, speed: 3}", memory: MemoryBudget(bytes: 200_000_000, source: "t")) == "no error")
    }
}

@Suite struct NPYReaderTests {
    func file(_ header: String, version: UInt8 = 1, data: [UInt8]) -> [UInt8] {
        var text = header
        let prefix = version == 1 ? 10 : 12
        text += String(repeating: " ", count: (64 - (prefix + text.utf8.count + 1) % 64) % 64) + "\n"
        let length = text.utf8.count
        let lengthBytes: [UInt8] = version == 1 ? [UInt8(length & 0xff), UInt8(length >> 8)] : [UInt8(length & 0xff), UInt8(length >> 8), 0, 0]
        return [0x93] + Array("NUMPY".utf8) + [version, 0] + lengthBytes + Array(text.utf8) + data
    }

    func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    @Test func roundTripsWhatNPYWriterWrites() throws {
        let folder = String(cString: mkdtemp(strdup("/tmp/npy-XXXXXX")))
        defer { _ = unlink(folder + "/a.npy"); rmdir(folder) }
        let writer = try NPYWriter(path: folder + "/a.npy", shape: [3, 2])
        let values = [1.5, -2, 0.1, 1e-300, .pi, -0.0]
        for row in 0..<3 { values[(2 * row)..<(2 * row + 2)].withUnsafeBufferPointer { writer.append($0) } }
        try writer.finish()
        let read = try NPYReader.parse(try FileIO.read(folder + "/a.npy"), source: "a.npy")
        #expect(read.shape == [3, 2])
        #expect(read.values.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func readsOtherDtypesOrdersAndVersions() throws {
        let f4 = try NPYReader.parse(file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data: bytes([Float(1), 2, 3, 4.5])), source: "f4")
        #expect(f4.values == [1, 2, 3, 4.5])
        let i8 = try NPYReader.parse(file("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", version: 2, data: bytes([Int64(-5), 0, 7])), source: "i8")
        #expect(i8.shape == [3] && i8.values == [-5, 0, 7])
        let i2 = try NPYReader.parse(file("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", version: 3, data: bytes([Int16(-300), 12])), source: "i2")
        #expect(i2.values == [-300, 12])
        // Fortran order: [[1, 2], [3, 4]] is stored 1 3 2 4.
        let fortran = try NPYReader.parse(file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", data: bytes([1.0, 3, 2, 4])), source: "F")
        #expect(fortran.values == [1, 2, 3, 4])
        let big = try NPYReader.parse(file("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", data: bytes([Double(2.5).bitPattern.bigEndian])), source: ">f8")
        #expect(big.values == [2.5])
    }

    @Test(arguments: [
        ("PK\u{3}\u{4}", "does not start with"),
        ("version4", "format version 4.0"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "is not a plain number type"),
        ("{'descr': '<b1', 'fortran_order': False, 'shape': (1,), }", "is not read"),
        ("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", "is not a plain number type"),
        ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", "not a string"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", "needs 24 bytes of data, the file has 8"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999,), }", "holds more than"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999,), }", "not a tuple of whole numbers"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (4000000, 4000000), }", "more than"),
        ("{'descr': '<f8', 'fortran_order': False, }", "exactly 'descr'"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1, }", "not a string, True/False or a tuple"),
        ("{'descr': '<f8', 'fortran_order': Flase, 'shape': (1,), }", "not a string, True/False or a tuple"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,) ", "not closed"),
        ("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", "repeats 'descr'"),
    ])
    func refusesHostileHeaders(header: String, expected: String) {
        var input: [UInt8]
        switch header {
        case "PK\u{3}\u{4}": input = Array(header.utf8) + [UInt8](repeating: 0, count: 20)
        case "version4": input = [0x93] + Array("NUMPY".utf8) + [4, 0, 0, 0]
        default: input = file(header, data: bytes([1.0]))
        }
        do {
            _ = try NPYReader.parse(input, source: "w.npy")
            Issue.record("accepted \(header)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect("\(error)".hasPrefix("w.npy: not a .npy file"))
        }
        // Every prefix of a good file is refused, never a trap.
        let good = file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data: bytes([1.0, 2.0]))
        for cut in 0..<good.count { #expect(throws: SchemaError.self) { try NPYReader.parse(Array(good[0..<cut]), source: "cut") } }
        // A header length past the end.
        var long = good
        long[8] = 0xff
        long[9] = 0xff
        #expect(throws: SchemaError.self) { try NPYReader.parse(long, source: "long") }
    }
}

@Suite struct KuramotoCouplingFormTests {
    /// TVB's sine coupling (coupling.Kuramoto divides by the number of coupling variables,
    /// 1, not by N) with gain K is the default form with gain K·N.
    @Test func sineTVBIsTheMeanFormWithoutTheOneOverN() throws {
        func rows(_ yaml: String) throws -> [[Double]] {
            guard case .model(let p)? = try ConfigSchema.check(Array(yaml.utf8), path: "k.yaml", runone: true).runone else { return [] }
            var model = KuramotoModel(p)
            var out: [[Double]] = []
            _ = model.run { row, _ in out.append(Array(row)); return true }
            return out
        }
        let tvb = try rows("model_params: {name: kuramoto, nodes: 8, timepoints: 20, coupling: 2.0, coupling_form: sine_tvb, noise: 0}")
        let mean = try rows("model_params: {name: kuramoto, nodes: 8, timepoints: 20, coupling: 16.0, noise: 0}")
        let weaker = try rows("model_params: {name: kuramoto, nodes: 8, timepoints: 20, coupling: 2.0, noise: 0}")
        #expect(tvb.count == 20)
        #expect(tvb == mean)
        #expect(tvb != weaker)
    }
}
