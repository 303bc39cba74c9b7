import BrainModels
import Glibc

extension RunoneCommand {
    /// Runs a whole-brain model: builds or reads the network, checks the memory it needs,
    /// integrates, and writes `sim_{nodes}nodes_{tp}tp_TR{tr}_neural.npy` and `…_bold.npy`
    /// (float64, shape (timepoints, nodes), rows = time) as the samples come.
    /// `instructionSet`: the kernels' build, checked before anything was written.
    static func runWholeBrain(_ p: WholeBrainParameters, configPath: String, output: String, instructionSet: InstructionSet,
                              run: inout RunMetadata) -> TaskExit {
        let errors = Console.standardError
        var settings = p.settings
        settings.instructionSet = instructionSet
        let network: Network
        var inputs: [String] = []
        switch p.network {
        case .synthetic(let nodes):
            network = Network.synthetic(nodes: nodes, seed: p.seed, subject: p.subject)
        case .connectivity(let raw):
            let path = ConnectivityFiles.path(raw, subject: p.subject, configPath: configPath)
            do {
                network = try ConnectivityFiles.network(at: path)
                inputs = ConnectivityFiles.identityFiles(raw, subject: p.subject, configPath: configPath)
            } catch {
                errors.line("runone: \(configPath): key 'model_params.connectivity': \(error)")
                return TaskExit(exitCode: 2)
            }
        }
        if p.speed != nil, network.tractLengths == nil {
            errors.line("runone: \(configPath): key 'model_params.speed': delays need tract lengths, and the connectivity has no tract_lengths.npy/.csv/.txt; add one, or remove 'speed'")
            return TaskExit(exitCode: 2)
        }
        if let speed = p.speed, let longest = network.tractLengths?.max() {
            // Delays index the history with Int32 offsets (node · 2H): refuse what would not fit.
            let steps = longest / speed / p.dt
            guard steps.isFinite, steps < Double(Int32.max) / Double(2 * network.nodes + 2) - 2 else {
                errors.line("runone: \(configPath): key 'model_params.speed': the longest tract (\(longest) mm) at \(speed) mm/ms is a delay of \(steps) steps of dt, too long to hold; raise speed or dt")
                return TaskExit(exitCode: 2)
            }
        }
        let horizon = p.speed.map { network.maxDelaySteps(speed: $0, dt: p.dt) + 1 } ?? 1
        if let budget = HostMemory.budget() {
            do { try budget.check(estimate: p.peakBytes(nodes: network.nodes, horizon: horizon), what: p.estimateDescription + " (\(network.nodes) regions)") } catch {
                errors.line("runone: \(configPath): key 'model_params': \(error.message)")
                return TaskExit(exitCode: 2)
            }
        }
        let initial: [Double]
        do { initial = try p.initialState(nodes: network.nodes, stateCount: p.stateCount) } catch {
            errors.line("runone: \(configPath): key '\(error.key ?? "model_params")': \(error.message)")
            return TaskExit(exitCode: 2)
        }
        let stem = output + "/" + p.outputStem(nodes: network.nodes)
        let neural: NPYWriter
        let bold: NPYWriter?
        do {
            neural = try NPYWriter(path: stem + "neural.npy", shape: [p.timepoints, network.nodes])
            bold = p.bold ? try NPYWriter(path: stem + "bold.npy", shape: [p.timepoints, network.nodes]) : nil
        } catch {
            errors.line("runone: \(error)")
            return TaskExit(exitCode: 1)
        }
        let noise = RandomStream.derived(seed: p.seed, subject: p.subject, name: "noise")
        var stopSignal: Int32?
        // A run whose state left the finite numbers (too large a dt, noise or G) stops at
        // the first such sample instead of writing NaN and calling it a success.
        var divergence: (sample: Int, region: Int, signal: String)?
        var samples = 0
        func sample(_ row: UnsafeBufferPointer<Double>, _ boldRow: UnsafeBufferPointer<Double>?) -> Bool {
            if let region = row.firstIndex(where: { !$0.isFinite }) {
                divergence = (samples, region, "the neural signal")
                return false
            }
            if let boldRow, let region = boldRow.firstIndex(where: { !$0.isFinite }) {
                divergence = (samples, region, "BOLD")
                return false
            }
            samples += 1
            neural.append(row)
            if let boldRow { bold?.append(boldRow) }
            stopSignal = pendingStopSignal()
            return stopSignal == nil
        }
        // A TR of many steps still stops within 65,536 steps of a TERM.
        func stop() -> Bool {
            stopSignal = pendingStopSignal()
            return stopSignal != nil
        }
        let finished: Bool
        switch p.name {
        case .wongWang:
            var simulation = NetworkSimulation(model: p.wongWang, network: network, settings: settings, initial: initial, noiseStream: noise)
            finished = simulation.run(stop: stop, sample: sample)
        case .generic2dOscillator:
            var simulation = NetworkSimulation(model: p.oscillator, network: network, settings: settings, initial: initial, noiseStream: noise)
            finished = simulation.run(stop: stop, sample: sample)
        }
        guard finished else {
            neural.abandon()
            bold?.abandon()
            if let divergence {
                let time = JSON.number(Double(divergence.sample + 1) * p.TR)
                errors.line("runone: \(configPath): the simulation diverged: \(divergence.signal) of region \(divergence.region) is not finite in the sample ending at \(time) s; lower dt, noise or G (or the initial state)")
                return TaskExit(exitCode: 1)
            }
            return TaskExit(signal: stopSignal ?? SIGTERM)
        }
        do {
            try neural.finish()
            try bold?.finish()
        } catch {
            errors.line("runone: \(error)")
            return TaskExit(exitCode: 1)
        }
        run.extra = [
            ("model", .string(p.name.rawValue)),
            ("nodes", .int(Int64(network.nodes))),
            ("steps", .int(Int64(p.settings.totalSteps))),
            ("max_delay_steps", .int(Int64(horizon - 1))),
            ("bold_dt_ms", p.bold ? .double(p.boldDtMilliseconds) : .null),
            ("hemodynamics", p.bold ? .string(p.hemodynamics.rawValue) : .null),
            ("instruction_set", .string(settings.instructionSet.rawValue)),
            ("connectivity_files", .array(inputs.map { .string($0) })),
            ("outputs", .array([.string(p.outputStem(nodes: network.nodes) + "neural.npy")] + (p.bold ? [.string(p.outputStem(nodes: network.nodes) + "bold.npy")] : []))),
        ]
        return TaskExit(exitCode: 0)
    }
}
