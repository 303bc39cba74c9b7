import Glibc

/// The inner loops of the whole-brain simulation, compiled twice from this one file:
/// as `BrainKernels` for the x86-64 baseline (SSE2), which every CPU runs, and — through the
/// symbolic link in Sources/BrainKernelsAVX2 — as `BrainKernelsAVX2`, with
/// `-target-cpu haswell` and the `FMA` condition, for CPUs with AVX2 and FMA.
/// `BrainModels.KernelTable` picks one at run time; Swift has no per-function target
/// attributes, so a second module is how one binary carries both.
///
/// Every function works on pointers the caller sized: vectors padded to `stride`, a
/// multiple of 4, with zeros past `n`. The two builds do the same operations in the same
/// order, except that the FMA build fuses the multiply–adds of the coupling and of `exp`
/// (one rounding instead of two), so their results agree to about 1e-15 relative (1e-13 in
/// BOLD's small values), not bit for bit. The entry points are `@inline(never)` so that
/// callers in other modules call this module's code instead of inlining a baseline copy.
public enum Kernels {
    /// Every entry point as a function value. Tuples of function types are structural, so
    /// both builds' `entryPoints` have the same type and `BrainModels.KernelTable` takes
    /// either; calls through them stay in the build they came from.
    public typealias EntryPoints = (
        symmetricDouble: @Sendable (UnsafePointer<Double>, UnsafePointer<Int>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int, Int, Double) -> Void,
        symmetricSingle: @Sendable (UnsafePointer<Float>, UnsafePointer<Int>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int, Int, Double) -> Void,
        dense: @Sendable (UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int, Int, Double) -> Void,
        wongWang: @Sendable (UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int, Double, Double, Double, Double, Double, Double, Double, Double) -> Void,
        balloonStep: @Sendable (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Double>, Int, Double, Double, Double, Double, Double) -> Void,
        heunPredictor: @Sendable (UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int, Double, Double, Double) -> Void,
        heunCorrector: @Sendable (UnsafeMutablePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, Int, Double, Double, Double) -> Void
    )

    /// This build's entry points, in the order of `EntryPoints`.
    public static let entryPoints: EntryPoints = (
        symmetricDouble: { symmetricCoupling(upper: $0, rowStarts: $1, diagonal: $2, x: $3, out: $4, n: $5, stride: $6, gain: $7) },
        symmetricSingle: { symmetricCoupling(upper: $0, rowStarts: $1, diagonal: $2, x: $3, out: $4, n: $5, stride: $6, gain: $7) },
        dense: { denseCoupling(weights: $0, x: $1, out: $2, n: $3, stride: $4, gain: $5) },
        wongWang: { wongWang(s: $0, coupling: $1, into: $2, stride: $3, a: $4, b: $5, d: $6, gamma: $7, tauS: $8, wJ: $9, Io: $10, JN: $11) },
        balloonStep: { balloonStep(x: $0, f: $1, q: $2, v: $3, z: $4, count: $5, dt: $6, kappa: $7, gamma: $8, tau: $9, rho: $10) },
        heunPredictor: { heunPredictor(x: $0, f: $1, eta: $2, into: $3, count: $4, dt: $5, lower: $6, upper: $7) },
        heunCorrector: { heunCorrector(x: $0, f1: $1, f2: $2, eta: $3, count: $4, dt: $5, lower: $6, upper: $7) }
    )

    /// acc + a·b: fused on FMA CPUs, a multiply and an add otherwise (without FMA
    /// hardware `addingProduct` would call libm's software fma).
    @inline(__always)
    static func multiplyAdd(_ acc: SIMD4<Double>, _ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        #if FMA
        return acc.addingProduct(a, b)
        #else
        return acc + a * b
        #endif
    }

    /// e^x for four lanes, within 2 ulp of glibc's `exp` (tested over ±708): Cody–Waite
    /// reduction x = n ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split as fdlibm's ln2HI + ln2LO,
    /// so n ln2HI is exact), the Taylor polynomial of degree 13 (truncation below 1e-17
    /// relative), and 2ⁿ built in the exponent bits. Lanes beyond ±708, where
    /// 2ⁿ would leave the normal range, and NaN take glibc's `exp`.
    @inline(__always)
    public static func exp4(_ x: SIMD4<Double>) -> SIMD4<Double> {
        if any(x .> 708) || any(x .< -708) {
            return SIMD4(exp(x[0]), exp(x[1]), exp(x[2]), exp(x[3]))
        }
        // Adding 1.5·2⁵² rounds x·log₂e to an integer n held in the low bits of t.
        let shifter = SIMD4<Double>(repeating: 0x1.8p52)
        let t = multiplyAdd(shifter, x, SIMD4(repeating: 1.4426950408889634))
        let n = t - shifter
        var r = multiplyAdd(x, n, SIMD4(repeating: -6.93147180369123816490e-01))
        r = multiplyAdd(r, n, SIMD4(repeating: -1.90821492927058770002e-10))
        // Estrin's scheme: pairs, then powers r², r⁴, r⁸, so the chain is 4 multiply–adds
        // deep instead of Horner's 13 (the loops that call this are latency-bound).
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let one = SIMD4<Double>(repeating: 1)
        let q0 = multiplyAdd(one, r, one)
        let q1 = multiplyAdd(SIMD4(repeating: 0.5), r, SIMD4(repeating: 0.16666666666666666))
        let q2 = multiplyAdd(SIMD4(repeating: 0.041666666666666664), r, SIMD4(repeating: 0.008333333333333333))
        let q3 = multiplyAdd(SIMD4(repeating: 0.001388888888888889), r, SIMD4(repeating: 0.0001984126984126984))
        let q4 = multiplyAdd(SIMD4(repeating: 2.48015873015873e-05), r, SIMD4(repeating: 2.7557319223985893e-06))
        let q5 = multiplyAdd(SIMD4(repeating: 2.755731922398589e-07), r, SIMD4(repeating: 2.505210838544172e-08))
        let q6 = multiplyAdd(SIMD4(repeating: 2.08767569878681e-09), r, SIMD4(repeating: 1.6059043836821613e-10))
        let s0 = multiplyAdd(q0, q1, r2), s1 = multiplyAdd(q2, q3, r2), s2 = multiplyAdd(q4, q5, r2)
        let t0 = multiplyAdd(s0, s1, r4), t1 = multiplyAdd(s2, q6, r4)
        let p = multiplyAdd(t0, t1, r8)
        // 2ⁿ: the biased exponent n + 1023 shifted into place (the shifter's own bits
        // fall off the top).
        let bits = unsafeBitCast(t, to: SIMD4<UInt64>.self)
        let scale = unsafeBitCast((bits &+ 1023) &<< 52, to: SIMD4<Double>.self)
        return p * scale
    }

    /// How a coupling kernel reads four weights: stored as Double, or as Float when every
    /// weight is exactly a Float (half the bytes, widened exactly on load).
    protocol WeightElement {
        static func load4(_ base: UnsafePointer<Self>, _ index: Int) -> SIMD4<Double>
        static func load(_ base: UnsafePointer<Self>, _ index: Int) -> Double
    }

    /// out = gain · W x for a symmetric W stored as its strict upper triangle `upper`
    /// (row i from column i rounded down to a multiple of 4 to `stride`, zeros at or left
    /// of the diagonal; row i's span starts at `rowStarts[i]`) and its `diagonal`: each
    /// stored w_ij is used twice, y_i += w_ij x_j and y_j += w_ij x_i, so the weights are
    /// read once per step. Four rows at a time share the x and y chunks.
    /// 2N² flops over N(N+1)/2 weights.
    @inline(never)
    public static func symmetricCoupling(upper: UnsafePointer<Double>, rowStarts: UnsafePointer<Int>, diagonal: UnsafePointer<Double>,
                                         x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, n: Int, stride: Int, gain: Double) {
        symmetric(upper, rowStarts, diagonal, x, out, n, stride, gain)
    }

    /// `symmetricCoupling` over weights stored as Float (each exactly the Double it
    /// stands for): the same sums in the same order, so the same result bit for bit.
    @inline(never)
    public static func symmetricCoupling(upper: UnsafePointer<Float>, rowStarts: UnsafePointer<Int>, diagonal: UnsafePointer<Double>,
                                         x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, n: Int, stride: Int, gain: Double) {
        symmetric(upper, rowStarts, diagonal, x, out, n, stride, gain)
    }

    @inline(__always)
    static func symmetric<W: WeightElement>(_ upper: UnsafePointer<W>, _ rows: UnsafePointer<Int>, _ diagonal: UnsafePointer<Double>,
                                            _ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>,
                                            _ n: Int, _ stride: Int, _ gain: Double) {
        for i in 0..<stride { out[i] = diagonal[i] * x[i] }
        let xs = UnsafeRawPointer(x)
        let ys = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 4 <= n {
            // Rows i..<i+4 share the span start i (a multiple of 4); r_k[j] is w_(i+k)j.
            let r0 = upper + rows[i] - i, r1 = upper + rows[i + 1] - i
            let r2 = upper + rows[i + 2] - i, r3 = upper + rows[i + 3] - i
            let x0 = SIMD4<Double>(repeating: x[i]), x1 = SIMD4<Double>(repeating: x[i + 1])
            let x2 = SIMD4<Double>(repeating: x[i + 2]), x3 = SIMD4<Double>(repeating: x[i + 3])
            var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
            var k = i
            while k < stride {
                let xv = xs.loadUnaligned(fromByteOffset: 8 * k, as: SIMD4<Double>.self)
                let w0 = W.load4(r0, k), w1 = W.load4(r1, k), w2 = W.load4(r2, k), w3 = W.load4(r3, k)
                a0 = multiplyAdd(a0, w0, xv)
                a1 = multiplyAdd(a1, w1, xv)
                a2 = multiplyAdd(a2, w2, xv)
                a3 = multiplyAdd(a3, w3, xv)
                var yv = ys.loadUnaligned(fromByteOffset: 8 * k, as: SIMD4<Double>.self)
                yv = multiplyAdd(yv, w0, x0)
                yv = multiplyAdd(yv, w1, x1)
                yv = multiplyAdd(yv, w2, x2)
                yv = multiplyAdd(yv, w3, x3)
                ys.storeBytes(of: yv, toByteOffset: 8 * k, as: SIMD4<Double>.self)
                k += 4
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
                let w = W.load(row, k)
                a += w * x[k]
                out[k] += w * xi
            }
            out[i] += a
            i += 1
        }
        for i in 0..<n { out[i] *= gain }
        for i in n..<stride { out[i] = 0 }
    }

    /// out_i = gain · Σ_j w_ij x_j for a general (non-symmetric) W, row-major with rows
    /// padded to `stride`: four rows at a time so each x chunk is loaded once per four rows.
    @inline(never)
    public static func denseCoupling(weights: UnsafePointer<Double>, x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>,
                                     n: Int, stride: Int, gain: Double) {
        let raw = UnsafeRawPointer(weights)
        let xs = UnsafeRawPointer(x)
        var i = 0
        while i < n {
            let rowsHere = min(4, n - i)
            var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
            // Rows past n alias row i: computed and dropped, so the loop has one shape.
            let r0 = raw + 8 * i * stride
            let r1 = rowsHere > 1 ? r0 + 8 * stride : r0, r2 = rowsHere > 2 ? r0 + 16 * stride : r0
            let r3 = rowsHere > 3 ? r0 + 24 * stride : r0
            var k = 0
            while k < 8 * stride {
                let xv = xs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                a0 = multiplyAdd(a0, r0.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self), xv)
                a1 = multiplyAdd(a1, r1.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self), xv)
                a2 = multiplyAdd(a2, r2.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self), xv)
                a3 = multiplyAdd(a3, r3.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self), xv)
                k += 32
            }
            out[i] = gain * a0.sum()
            if rowsHere > 1 { out[i + 1] = gain * a1.sum() }
            if rowsHere > 2 { out[i + 2] = gain * a2.sum() }
            if rowsHere > 3 { out[i + 3] = gain * a3.sum() }
            i += 4
        }
        for i in n..<stride { out[i] = 0 }
    }

    /// The reduced Wong–Wang derivative (see `BrainModels.ReducedWongWang`) over `stride`
    /// regions (a multiple of 4), four at a time:
    /// dS/dt = −S/τ_s + (1 − S) γ H(x), H(x) = (a x − b) / (1 − e^(−d (a x − b))),
    /// x = w J_N S + I_o + J_N c; `wJ` is w·J_N.
    @inline(never)
    public static func wongWang(s: UnsafePointer<Double>, coupling: UnsafePointer<Double>, into dx: UnsafeMutablePointer<Double>,
                                stride: Int, a: Double, b: Double, d: Double, gamma: Double, tauS: Double, wJ: Double, Io: Double, JN: Double) {
        let sp = UnsafeRawPointer(s), cp = UnsafeRawPointer(coupling), out = UnsafeMutableRawPointer(dx)
        let av = SIMD4(repeating: a), bv = SIMD4(repeating: b), dv = SIMD4(repeating: -d), gv = SIMD4(repeating: gamma)
        let decay = SIMD4(repeating: -1 / tauS), wv = SIMD4(repeating: wJ), iv = SIMD4(repeating: Io), jv = SIMD4(repeating: JN)
        let one = SIMD4<Double>(repeating: 1)
        // Two passes, each a short dependency chain per vector so that more vectors are in
        // flight (one pass is latency-bound): e^(−d u) into dx, then the derivative from it.
        var k = 0
        while k < 8 * stride {
            let sv = sp.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let c = cp.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let u = av * (wv * sv + iv + jv * c) - bv
            out.storeBytes(of: exp4(dv * u), toByteOffset: k, as: SIMD4<Double>.self)
            k += 32
        }
        k = 0
        while k < 8 * stride {
            let sv = sp.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let c = cp.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let u = av * (wv * sv + iv + jv * c) - bv
            let h = u / (one - out.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self))
            out.storeBytes(of: sv * decay + (one - sv) * h * gv, toByteOffset: k, as: SIMD4<Double>.self)
            k += 32
        }
    }

    /// Heun's predictor over `count` values (a multiple of 4), clipped to
    /// [lower, upper] (±∞: unbounded): out = x + dt·f + η, as
    /// `BrainModels.NetworkSimulation` writes it.
    @inline(never)
    public static func heunPredictor(x: UnsafePointer<Double>, f: UnsafePointer<Double>, eta: UnsafePointer<Double>,
                                     into out: UnsafeMutablePointer<Double>, count: Int, dt: Double, lower: Double, upper: Double) {
        let xs = UnsafeRawPointer(x), fs = UnsafeRawPointer(f), es = UnsafeRawPointer(eta), os = UnsafeMutableRawPointer(out)
        let dtv = SIMD4(repeating: dt)
        var k = 0
        while k < 8 * count {
            let value = xs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) + dtv * fs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
                + es.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            os.storeBytes(of: clip(value, lower, upper), toByteOffset: k, as: SIMD4<Double>.self)
            k += 32
        }
    }

    /// Heun's corrector in place over `count` values (a multiple of 4), clipped:
    /// x = x + (f₁ + f₂)·dt / 2 + η.
    @inline(never)
    public static func heunCorrector(x: UnsafeMutablePointer<Double>, f1: UnsafePointer<Double>, f2: UnsafePointer<Double>,
                                     eta: UnsafePointer<Double>, count: Int, dt: Double, lower: Double, upper: Double) {
        let xs = UnsafeMutableRawPointer(x), f1s = UnsafeRawPointer(f1), f2s = UnsafeRawPointer(f2), es = UnsafeRawPointer(eta)
        let dtv = SIMD4(repeating: dt), two = SIMD4<Double>(repeating: 2)
        var k = 0
        while k < 8 * count {
            let slope = f1s.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) + f2s.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let value = xs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self) + slope * dtv / two + es.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            xs.storeBytes(of: clip(value, lower, upper), toByteOffset: k, as: SIMD4<Double>.self)
            k += 32
        }
    }

    /// value clipped to [lower, upper] as TVB's boundaries clip: NaN stays NaN.
    @inline(__always)
    static func clip(_ value: SIMD4<Double>, _ lower: Double, _ upper: Double) -> SIMD4<Double> {
        var result = value
        result.replace(with: lower, where: value .< lower)
        result.replace(with: upper, where: value .> upper)
        return result
    }

    /// One Euler step of the Balloon–Windkessel model (see `BrainModels.BalloonWindkessel`)
    /// over `count` regions (a multiple of 4), `dt` in seconds, driven by `z`; the
    /// hemodynamic constants as there. V^(1/α) = V³ · √√√V for α = 0.32.
    @inline(never)
    public static func balloonStep(x: UnsafeMutablePointer<Double>, f: UnsafeMutablePointer<Double>, q: UnsafeMutablePointer<Double>,
                                   v: UnsafeMutablePointer<Double>, z: UnsafePointer<Double>, count: Int, dt: Double,
                                   kappa: Double, gamma: Double, tau: Double, rho: Double) {
        let logOneMinusRho = SIMD4(repeating: log(1 - rho))
        let dtv = SIMD4(repeating: dt), dtOverTau = SIMD4(repeating: dt / tau)
        let kv = SIMD4(repeating: kappa), gv = SIMD4(repeating: gamma), rv = SIMD4(repeating: rho)
        let one = SIMD4<Double>(repeating: 1), floor = SIMD4<Double>(repeating: 1e-120)
        let xs = UnsafeMutableRawPointer(x), fs = UnsafeMutableRawPointer(f), qs = UnsafeMutableRawPointer(q)
        let vs = UnsafeMutableRawPointer(v), zs = UnsafeRawPointer(z)
        var k = 0
        while k < 8 * count {
            let fj = fs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let vj = vs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let qj = qs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let xj = xs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let zj = zs.loadUnaligned(fromByteOffset: k, as: SIMD4<Double>.self)
            let xNew = xj + dtv * (zj - kv * xj - gv * (fj - one))
            let vPower = vj * vj * vj * vj.squareRoot().squareRoot().squareRoot()
            let qNew = qj + dtOverTau * (fj / rv * (one - exp4(logOneMinusRho / fj)) - qj * (vPower / vj))
            xs.storeBytes(of: xNew, toByteOffset: k, as: SIMD4<Double>.self)
            qs.storeBytes(of: qNew, toByteOffset: k, as: SIMD4<Double>.self)
            vs.storeBytes(of: vj + dtOverTau * (fj - vPower), toByteOffset: k, as: SIMD4<Double>.self)
            // F kept ≥ 1e-120 as neurolib keeps it; a NaN stays NaN (pointwiseMax would
            // replace it with the floor and hide a diverged run behind a plausible BOLD).
            var fNew = fj + dtv * xNew
            fNew.replace(with: floor, where: fNew .< floor)
            fs.storeBytes(of: fNew, toByteOffset: k, as: SIMD4<Double>.self)
            k += 32
        }
    }
}

extension Double: Kernels.WeightElement {
    @inline(__always)
    static func load4(_ base: UnsafePointer<Double>, _ index: Int) -> SIMD4<Double> {
        UnsafeRawPointer(base + index).loadUnaligned(as: SIMD4<Double>.self)
    }
    @inline(__always)
    static func load(_ base: UnsafePointer<Double>, _ index: Int) -> Double { base[index] }
}

extension Float: Kernels.WeightElement {
    @inline(__always)
    static func load4(_ base: UnsafePointer<Float>, _ index: Int) -> SIMD4<Double> {
        SIMD4<Double>(UnsafeRawPointer(base + index).loadUnaligned(as: SIMD4<Float>.self))
    }
    @inline(__always)
    static func load(_ base: UnsafePointer<Float>, _ index: Int) -> Double { Double(base[index]) }
}
