/// SHA-256 (FIPS 180-4), for config content hashes in completion markers.
public enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// Lower-case hex digest.
    public static func hex(_ bytes: [UInt8]) -> String {
        let words = hash(bytes).words
        return String(unsafeUninitializedCapacity: 64) { text in
            let digits: StaticString = "0123456789abcdef"
            for (index, word) in words.enumerated() {
                for nibble in 0..<8 {
                    let value = Int(truncatingIfNeeded: word >> UInt32(28 - 4 * nibble)) & 0xf
                    text[index * 8 + nibble] = digits.utf8Start[value]
                }
            }
            return 64
        }
    }

    /// Whole blocks are read in place and only the padded tail is copied, on the stack:
    /// a run hashes every selected config before its first task starts.
    private static func hash(_ bytes: [UInt8]) -> State {
        var state = State()
        bytes.withUnsafeBufferPointer { input in
            let whole = input.count / 64 * 64
            for block in stride(from: 0, to: whole, by: 64) {
                state.compress(UnsafeBufferPointer(rebasing: input[block..<block + 64]))
            }
            // The tail, 0x80, zeros, and the length in bits: one block, or two when the
            // tail leaves no room for the 9 bytes.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { padded in
                let tail = input.count - whole
                let length = tail < 56 ? 64 : 128
                padded.initialize(repeating: 0)
                for index in 0..<tail { padded[index] = input[whole + index] }
                padded[tail] = 0x80
                let bitLength = UInt64(input.count) &* 8
                for index in 0..<8 { padded[length - 1 - index] = UInt8(truncatingIfNeeded: bitLength >> UInt64(8 * index)) }
                for block in stride(from: 0, to: length, by: 64) {
                    state.compress(UnsafeBufferPointer(rebasing: padded[block..<block + 64]))
                }
            }
        }
        return state
    }

    /// The eight working words, kept in stored properties rather than an array so the
    /// compression loop has no bounds checks or reference counting.
    private struct State {
        var h0: UInt32 = 0x6a09e667, h1: UInt32 = 0xbb67ae85, h2: UInt32 = 0x3c6ef372, h3: UInt32 = 0xa54ff53a
        var h4: UInt32 = 0x510e527f, h5: UInt32 = 0x9b05688c, h6: UInt32 = 0x1f83d9ab, h7: UInt32 = 0x5be0cd19

        var words: [UInt32] { [h0, h1, h2, h3, h4, h5, h6, h7] }

        mutating func compress(_ block: UnsafeBufferPointer<UInt8>) {
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for i in 0..<16 {
                    let j = i * 4
                    w[i] = UInt32(block[j]) << 24 | UInt32(block[j + 1]) << 16 | UInt32(block[j + 2]) << 8 | UInt32(block[j + 3])
                }
                for i in 16..<64 {
                    let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                    let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                    w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                }
                SHA256.k.withUnsafeBufferPointer { k in
                    var (a, b, c, d, e, f, g, hh) = (h0, h1, h2, h3, h4, h5, h6, h7)
                    for i in 0..<64 {
                        let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                        let choice = (e & f) ^ (~e & g)
                        let t1 = hh &+ s1 &+ choice &+ k[i] &+ w[i]
                        let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        let t2 = s0 &+ majority
                        (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
                    h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= hh
                }
            }
        }
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
