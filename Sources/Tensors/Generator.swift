import Foundation

/// A seedable random generator (xoshiro256**, seeded through splitmix64). Its `state` can be
/// saved and restored so a resumed run draws exactly the numbers the original would have.
/// Thread-safe: each draw of a whole tensor holds the generator's lock.
///
/// ```swift
/// let g = Generator(seed: 42)
/// let saved = g.state
/// let a = try Tensor.rand([3], generator: g)
/// g.setState(saved)                       // the next rand([3]) equals a
/// ```
public final class Generator {
    private var s: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private let lock = NSLock()

    /// The generator `manualSeed` reseeds and ops use when given none.
    nonisolated(unsafe) public static let defaultGenerator = Generator(seed: 0x5EED)

    /// A generator seeded with `seed`.
    public init(seed: UInt64) { manualSeed(seed) }

    /// Reseeds this generator.
    public func manualSeed(_ seed: UInt64) {
        lock.lock(); defer { lock.unlock() }
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The full internal state (four words).
    public var state: [UInt64] {
        lock.lock(); defer { lock.unlock() }
        return [s.0, s.1, s.2, s.3]
    }

    /// Restores a state captured with `state`.
    public func setState(_ st: [UInt64]) throws {
        guard st.count == 4, st.contains(where: { $0 != 0 }) else {
            throw TensorError("generator: a state is four words, not all zero (got \(st.count) words)")
        }
        lock.lock(); defer { lock.unlock() }
        s = (st[0], st[1], st[2], st[3])
    }

    /// Runs `body` holding the lock, with a draw function for raw 64-bit values.
    func withLock<R>(_ body: (inout Draw) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        var d = Draw(s: s)
        defer { s = d.s }
        return try body(&d)
    }

    /// The xoshiro256** stepping function over a local copy of the state.
    struct Draw {
        var s: (UInt64, UInt64, UInt64, UInt64)

        @inline(__always) mutating func next() -> UInt64 {
            let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
            let t = s.1 << 17
            s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
            s.2 ^= t
            s.3 = (s.3 << 45) | (s.3 >> 19)
            return result
        }

        /// Uniform in [0, 1) with 24 random bits (every float in the grid equally likely).
        @inline(__always) mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

        /// Uniform in (0, 1] with 53 bits, safe for log.
        @inline(__always) mutating func uniformOpenDouble() -> Double { (Double(next() >> 11) + 1) * 0x1p-53 }

        /// Unbiased integer in 0..<bound (Lemire's multiply-and-reject).
        @inline(__always) mutating func below(_ bound: UInt64) -> UInt64 {
            var m = next().multipliedFullWidth(by: bound)
            if m.low < bound {
                let threshold = (0 &- bound) % bound
                while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
            }
            return m.high
        }
    }
}

/// Reseeds the default generator: the whole run becomes reproducible.
/// ```swift
/// manualSeed(1234)
/// ```
public func manualSeed(_ seed: UInt64) { Generator.defaultGenerator.manualSeed(seed) }
