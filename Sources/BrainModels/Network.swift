import Glibc

/// A structural brain network: N regions, weights and optional tract lengths.
///
/// `weights[i * nodes + j]` is the weight of the connection from region j to region i
/// (row = target), as TVB's coupling uses `Connectivity.weights`: region i receives
/// Σ_j w_ij x_j. Tract lengths are in mm, in the same orientation.
public struct Network: Equatable, Sendable {
    public let nodes: Int
    /// N×N, row-major, row = target region.
    public var weights: [Double]
    /// N×N tract lengths in mm, or nil (no conduction delays possible).
    public var tractLengths: [Double]?

    public init(nodes: Int, weights: [Double], tractLengths: [Double]? = nil) {
        precondition(weights.count == nodes * nodes && (tractLengths?.count ?? weights.count) == weights.count)
        self.nodes = nodes
        self.weights = weights
        self.tractLengths = tractLengths
    }

    /// Conduction delays in integration steps, TVB's `Connectivity.set_idelays`:
    /// round-half-even(length / speed / dt), with `speed` in mm/ms and `dt` in ms.
    /// All zeros without tract lengths.
    public func delaySteps(speed: Double, dt: Double) -> [Int32] {
        guard let lengths = tractLengths else { return [Int32](repeating: 0, count: nodes * nodes) }
        return lengths.map { Int32(($0 / speed / dt).rounded(.toNearestOrEven)) }
    }

    /// The largest delay in steps that `delaySteps` would give, without building the array.
    public func maxDelaySteps(speed: Double, dt: Double) -> Int {
        guard let lengths = tractLengths, let longest = lengths.max() else { return 0 }
        return Int((longest / speed / dt).rounded(.toNearestOrEven))
    }

    /// Radius (mm) of the ball the synthetic regions are placed in: about a human
    /// hemisphere pair's extent, so tract lengths run up to ~140 mm as in TVB's atlases.
    public static let syntheticRadius = 70.0
    /// Length scale (mm) of the exponential fall-off of synthetic weights with distance.
    public static let syntheticLengthScale = 40.0
    /// Standard deviation of the group's log-normal weight spread.
    public static let syntheticGroupSpread = 0.5
    /// Standard deviation of the per-subject log-normal jitter of each weight.
    public static let syntheticSubjectJitter = 0.1

    /// A seeded synthetic network of `nodes` regions, dense and symmetric:
    /// 1. the group template, from (seed, stream "template") alone: region centres drawn
    ///    uniformly in a ball of radius `syntheticRadius` mm; tract length L_ij = the
    ///    Euclidean distance; weight w_ij = exp(−L_ij / `syntheticLengthScale`) · exp(0.5 z_ij)
    ///    with z_ij ~ N(0, 1), z_ij = z_ji;
    /// 2. the subject's jitter, from (seed, subject, stream "jitter"): each w_ij = w_ji is
    ///    multiplied by exp(0.1 ζ_ij), ζ_ij ~ N(0, 1); tract lengths are the group's;
    /// 3. the diagonal is 0 and weights are scaled so that the mean row sum is 1 (so `G`
    ///    means the same at every N), then rounded to the nearest Float (24 significant
    ///    bits, a relative change below 6e-8): the coupling then streams them in half the
    ///    bytes, exactly (`NetworkSimulation.upperSingle`).
    public static func synthetic(nodes n: Int, seed: Int, subject: Int) -> Network {
        var template = RandomStream.derived(seed: seed, subject: 0, name: "template")
        var centres = [Double](repeating: 0, count: 3 * n)
        for i in 0..<n {
            while true {
                let x = 2 * template.uniform() - 1, y = 2 * template.uniform() - 1, z = 2 * template.uniform() - 1
                if x * x + y * y + z * z <= 1 {
                    centres[3 * i] = x * syntheticRadius
                    centres[3 * i + 1] = y * syntheticRadius
                    centres[3 * i + 2] = z * syntheticRadius
                    break
                }
            }
        }
        var jitter = RandomStream.derived(seed: seed, subject: subject, name: "jitter")
        var weights = [Double](repeating: 0, count: n * n)
        var lengths = [Double](repeating: 0, count: n * n)
        var total = 0.0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let dx = centres[3 * i] - centres[3 * j], dy = centres[3 * i + 1] - centres[3 * j + 1], dz = centres[3 * i + 2] - centres[3 * j + 2]
                let length = (dx * dx + dy * dy + dz * dz).squareRoot()
                let w = exp(-length / syntheticLengthScale + syntheticGroupSpread * template.gaussian() + syntheticSubjectJitter * jitter.gaussian())
                weights[i * n + j] = w
                weights[j * n + i] = w
                lengths[i * n + j] = length
                lengths[j * n + i] = length
                total += 2 * w
            }
        }
        if total > 0 {
            let scale = Double(n) / total
            for k in weights.indices { weights[k] = Double(Float(weights[k] * scale)) }
        }
        return Network(nodes: n, weights: weights, tractLengths: lengths)
    }
}
