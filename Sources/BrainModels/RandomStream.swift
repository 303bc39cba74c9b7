import Glibc

/// xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64, with standard normal
/// deviates by Marsaglia's polar method. Every stream of a run is derived from
/// (seed, subject, stream name) by `RandomStream.derived`, so one subject reproduces bit
/// for bit and two subjects never share a stream.
public struct RandomStream: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spare = 0.0
    private var hasSpare = false

    /// Seeds the four words with SplitMix64 from `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// The stream named `name` of subject `subject` under base seed `seed`: the three are
    /// mixed through SplitMix64 finalisers (FNV-1a for the name), so nearby seeds and
    /// subjects give unrelated streams.
    public static func derived(seed: Int, subject: Int, name: String) -> RandomStream {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        func mix(_ value: UInt64) -> UInt64 {
            var z = value &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let key = mix(mix(mix(UInt64(bitPattern: Int64(seed))) ^ UInt64(bitPattern: Int64(subject))) ^ hash)
        return RandomStream(seed: key)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal N(0, 1), Marsaglia's polar method (one log and one square root per
    /// pair, no trigonometry).
    @inline(__always)
    public mutating func gaussian() -> Double {
        if hasSpare {
            hasSpare = false
            return spare
        }
        while true {
            let u = Double(Int64(bitPattern: next()) >> 10) * 0x1.0p-53  // in [-1, 1)
            let v = Double(Int64(bitPattern: next()) >> 10) * 0x1.0p-53
            let s = u * u + v * v
            if s < 1 && s > 0 {
                let factor = (-2 * log(s) / s).squareRoot()
                spare = v * factor
                hasSpare = true
                return u * factor
            }
        }
    }

    /// Fills `out` with standard normal deviates.
    public mutating func fillGaussian(_ out: UnsafeMutablePointer<Double>, count: Int) {
        for k in 0..<count { out[k] = gaussian() }
    }
}
