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
        s = Xoshiro256(seed: seed).s
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
    func withLock<R>(_ body: (inout Xoshiro256) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        var d = Xoshiro256(state: s)
        defer { s = d.s }
        return try body(&d)
    }
}

/// The project's one random number engine: xoshiro256** (Blackman and Vigna), seeded through
/// splitmix64. `Generator` wraps it with a lock and a saved state for the tensor ops; the data
/// layer's `RandomSource` derives independent streams from it. A value type: copy it to fork.
///
/// ```swift
/// var r = Xoshiro256(seed: 42)
/// let bits = r.next(), u = r.uniformDouble(), k = r.below(10)
/// ```
public struct Xoshiro256 {
    var s: (UInt64, UInt64, UInt64, UInt64)

    /// The engine seeded with `seed` through four splitmix64 steps.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            return Xoshiro256.mix(x)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    init(state: (UInt64, UInt64, UInt64, UInt64)) { s = state }

    /// splitmix64's finaliser: a bijective 64-bit mix (also used to derive stream seeds).
    @inline(__always) public static func mix(_ v: UInt64) -> UInt64 {
        var z = v
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
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

    /// Uniform in [0, 1) with 24 random bits (every float in the grid equally likely).
    @inline(__always) public mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always) public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in (0, 1] with 53 bits, safe for log.
    @inline(__always) public mutating func uniformOpenDouble() -> Double { (Double(next() >> 11) + 1) * 0x1p-53 }

    /// Unbiased integer in 0..<bound (Lemire's multiply-and-reject); bound must be positive.
    @inline(__always) public mutating func below(_ bound: UInt64) -> UInt64 {
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }
}

/// Reseeds the default generator: the whole run becomes reproducible.
/// ```swift
/// manualSeed(1234)
/// ```
public func manualSeed(_ seed: UInt64) { Generator.defaultGenerator.manualSeed(seed) }
