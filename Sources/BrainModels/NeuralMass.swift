import Glibc

/// A neural mass model as TVB defines one: state variables per region, a derivative
/// that takes each region's long-range coupling input, and optional bounds on the state
/// (TVB's `state_variable_boundaries`, applied after every integrator stage).
///
/// State is stored variable-major: variable v of region i at `x[v * stride + i]`.
/// Time is in ms, as in TVB.
public protocol NeuralMass: Sendable {
    /// Number of state variables.
    var stateCount: Int { get }
    /// Names of the state variables, TVB's.
    var stateNames: [String] { get }
    /// dx/dt for `n` regions; `coupling[i]` is region i's input (the coupling function's
    /// output for TVB's coupling variable, which is state variable 0 for every model here).
    func derivative(_ x: UnsafePointer<Double>, coupling: UnsafePointer<Double>, into dx: UnsafeMutablePointer<Double>, n: Int, stride: Int)
    /// Clips the state to the model's boundaries (no-op for unbounded models).
    func bound(_ x: UnsafeMutablePointer<Double>, n: Int, stride: Int)
}

/// The reduced Wong–Wang model (Wong & Wang 2006; Deco et al. 2013, J Neurosci 33:11239,
/// doi:10.1523/JNEUROSCI.1091-13.2013), as TVB's `models.ReducedWongWang`:
///
///     x_i = w J_N S_i + I_o + J_N c_i
///     H(x) = (a x − b) / (1 − exp(−d (a x − b)))
///     dS_i/dt = −S_i / τ_s + (1 − S_i) H(x_i) γ
///
/// with S clipped to [0, 1]. Units as TVB's: a in n/C, b in kHz, d in ms, τ_s in ms.
public struct ReducedWongWang: NeuralMass, Equatable {
    public var a = 0.270
    public var b = 0.108
    public var d = 154.0
    public var gamma = 0.641
    public var tauS = 100.0
    public var w = 0.6
    public var JN = 0.2609
    public var Io = 0.33

    public init() {}

    public var stateCount: Int { 1 }
    public var stateNames: [String] { ["S"] }

    @inline(__always)
    public func derivative(_ x: UnsafePointer<Double>, coupling: UnsafePointer<Double>, into dx: UnsafeMutablePointer<Double>, n: Int, stride: Int) {
        let wJ = w * JN
        for i in 0..<n {
            let s = x[i]
            let input = wJ * s + Io + JN * coupling[i]
            let u = a * input - b
            let h = u / (1 - exp(-d * u))
            dx[i] = -(s / tauS) + (1.0 - s) * h * gamma
        }
    }

    @inline(__always)
    public func bound(_ x: UnsafeMutablePointer<Double>, n: Int, stride: Int) {
        for i in 0..<n {
            let s = x[i]
            x[i] = s < 0 ? 0 : (s > 1 ? 1 : s)
        }
    }
}

/// TVB's `models.Generic2dOscillator` (Sanz-Leon et al. 2015, NeuroImage 111:385,
/// doi:10.1016/j.neuroimage.2015.01.002), with TVB's defaults:
///
///     dV/dt = d τ (α W − f V³ + e V² + g V + γ I + γ c)
///     dW/dt = (d / τ) (a + b V + c V² − β W)
///
/// Unbounded (TVB gives it no state_variable_boundaries).
public struct Generic2dOscillator: NeuralMass, Equatable {
    public var tau = 1.0
    public var I = 0.0
    public var a = -2.0
    public var b = -10.0
    public var c = 0.0
    public var d = 0.02
    public var e = 3.0
    public var f = 1.0
    public var g = 0.0
    public var alpha = 1.0
    public var beta = 1.0
    public var gamma = 1.0

    public init() {}

    public var stateCount: Int { 2 }
    public var stateNames: [String] { ["V", "W"] }

    @inline(__always)
    public func derivative(_ x: UnsafePointer<Double>, coupling: UnsafePointer<Double>, into dx: UnsafeMutablePointer<Double>, n: Int, stride: Int) {
        for i in 0..<n {
            let v = x[i], w = x[stride + i]
            let v2 = v * v
            dx[i] = d * tau * (alpha * w - f * v2 * v + e * v2 + g * v + gamma * I + gamma * coupling[i])
            dx[stride + i] = d * (a + b * v + c * v2 - beta * w) / tau
        }
    }

    @inline(__always)
    public func bound(_ x: UnsafeMutablePointer<Double>, n: Int, stride: Int) {}
}
