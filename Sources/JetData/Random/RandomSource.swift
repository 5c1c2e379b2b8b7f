import Foundation
import Tensors

/// The data layer's seedable generator (xoshiro256**, seeded through splitmix64). The loader
/// derives one per epoch, window and batch from (seed, epoch, index), so results do not depend
/// on which thread does the work or in what order.
///
/// ```swift
/// var r = RandomSource(seed: 42, stream: [3, 7])   // e.g. epoch 3, batch 7
/// let u = r.uniform()
/// ```
public struct RandomSource {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for `seed`, optionally split into an independent stream by the `stream` keys.
    public init(seed: UInt64, stream: [UInt64] = []) {
        var x = seed
        for key in stream { x = RandomSource.mix(x ^ RandomSource.mix(key &+ 0x632B_E59B_D9B4_E019)) }
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            return RandomSource.mix(x)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// splitmix64's finaliser: a bijective 64-bit mix.
    static func mix(_ v: UInt64) -> UInt64 {
        var z = v
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed drawn from a Tensors generator (the default one when nil), so `manual_seed` fixes
    /// data order and masking along with everything else.
    public static func seed(from generator: Generator? = nil) -> UInt64 {
        let t = try? Tensor.randint(0, Int64.max, [1], generator: generator)
        return UInt64(bitPattern: (try? t?.itemInt()) ?? 0x5EED)
    }

    /// The next raw 64 bits.
    @inline(__always) public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform on [0, 1) with 53 random bits.
    @inline(__always) public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Unbiased integer in 0 ..< bound (Lemire's multiply-and-reject); bound must be positive.
    @inline(__always) public mutating func below(_ bound: Int) -> Int {
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Standard normal (Box-Muller; one value per call keeps the stream simple to reason about).
    public mutating func normal() -> Double {
        let u = (Double(next() >> 11) + 1) * 0x1p-53   // (0, 1], safe for log
        let v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// Shuffles `a` in place (Fisher-Yates).
    public mutating func shuffle<T>(_ a: inout [T]) {
        var i = a.count - 1
        while i > 0 {
            a.swapAt(i, below(i + 1))
            i -= 1
        }
    }

    /// A random permutation of 0 ..< n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var a = Array(0..<n)
        shuffle(&a)
        return a
    }
}
