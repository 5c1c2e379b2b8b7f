import Foundation
import Tensors

/// The data layer's seedable streams over Tensors' `Xoshiro256` (xoshiro256**). The loader
/// derives one per epoch, window and batch from (seed, epoch, index), so results do not depend
/// on which thread does the work or in what order.
///
/// ```swift
/// var r = RandomSource(seed: 42, stream: [3, 7])   // e.g. epoch 3, batch 7
/// let u = r.uniform()
/// ```
public struct RandomSource {
    /// The engine: Tensors' xoshiro256**, so the data layer and the tensor ops share one.
    private var engine: Xoshiro256

    /// A generator for `seed`, optionally split into an independent stream by the `stream` keys.
    public init(seed: UInt64, stream: [UInt64] = []) {
        var x = seed
        for key in stream { x = Xoshiro256.mix(x ^ Xoshiro256.mix(key &+ 0x632B_E59B_D9B4_E019)) }
        engine = Xoshiro256(seed: x)
    }

    /// A seed drawn from a Tensors generator (the default one when nil), so `manual_seed` fixes
    /// data order and masking along with everything else.
    public static func seed(from generator: Generator? = nil) -> UInt64 {
        let t = try? Tensor.randint(0, Int64.max, [1], generator: generator)
        return UInt64(bitPattern: (try? t?.itemInt()) ?? 0x5EED)
    }

    /// The next raw 64 bits.
    @inline(__always) public mutating func next() -> UInt64 { engine.next() }

    /// Uniform on [0, 1) with 53 random bits.
    @inline(__always) public mutating func uniform() -> Double { engine.uniformDouble() }

    /// Unbiased integer in 0 ..< bound (Lemire's multiply-and-reject); bound must be positive.
    @inline(__always) public mutating func below(_ bound: Int) -> Int { Int(engine.below(UInt64(bound))) }

    /// Standard normal (Box-Muller; one value per call keeps the stream simple to reason about).
    public mutating func normal() -> Double {
        let u = engine.uniformOpenDouble()   // (0, 1], safe for log
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
