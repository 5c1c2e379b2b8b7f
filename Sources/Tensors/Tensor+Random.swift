import Foundation

/// Random tensors. Draws are sequential in row-major order, so a seed fixes every value.
extension Tensor {
    /// Uniform on [0, 1): `try Tensor.rand([2, 3])`.
    public static func rand(_ shape: [Int], generator: Generator? = nil) throws -> Tensor {
        try checkShape(shape, op: "rand")
        return Tensor(uninitialized: shape, dtype: .f32).uniformRaw(0, 1, generator)
    }

    /// Standard normal: `try Tensor.randn([2, 3])`.
    public static func randn(_ shape: [Int], generator: Generator? = nil) throws -> Tensor {
        try normal(shape, mean: 0, std: 1, generator: generator)
    }

    /// Normal with the given mean and standard deviation: `try Tensor.normal([3], mean: 1, std: 0.1)`.
    public static func normal(_ shape: [Int], mean: Double, std: Double, generator: Generator? = nil) throws -> Tensor {
        try checkShape(shape, op: "normal")
        guard std >= 0 else { throw TensorError("normal: std must be non-negative (got \(std))") }
        return Tensor(uninitialized: shape, dtype: .f32).normalRaw(mean, std, generator)
    }

    /// Uniform integers in `low ..< high` (int64): `try Tensor.randint(0, 10, [5])`.
    public static func randint(_ low: Int64, _ high: Int64, _ shape: [Int], generator: Generator? = nil) throws -> Tensor {
        try checkShape(shape, dtype: .i64, op: "randint")
        guard high > low else { throw TensorError("randint: high (\(high)) must be greater than low (\(low))") }
        let t = Tensor(uninitialized: shape, dtype: .i64)
        let p = t.pointer(Int64.self), n = t.numel
        let range = UInt64(bitPattern: high &- low)
        (generator ?? .defaultGenerator).withLock { d in
            for i in 0..<n { p[i] = low &+ Int64(bitPattern: d.below(range)) }
        }
        return t
    }

    /// A random permutation of 0..<n (int64): `try Tensor.randperm(10)`.
    public static func randperm(_ n: Int, generator: Generator? = nil) throws -> Tensor {
        guard n >= 0 else { throw TensorError("randperm: n must be non-negative (got \(n))") }
        try checkShape([n], dtype: .i64, op: "randperm")
        let t = Tensor(uninitialized: [n], dtype: .i64)
        let p = t.pointer(Int64.self)
        for i in 0..<n { p[i] = Int64(i) }
        (generator ?? .defaultGenerator).withLock { d in
            var i = n - 1
            while i > 0 {
                let j = Int(d.below(UInt64(i + 1)))
                let tmp = p[i]; p[i] = p[j]; p[j] = tmp
                i -= 1
            }
        }
        return t
    }

    /// Fills this tensor in place with uniform values on [low, high) (no autograd; for init).
    /// ```swift
    /// try w.uniform_(-0.1, 0.1)
    /// ```
    @discardableResult
    public func uniform_(_ low: Double = 0, _ high: Double = 1, generator: Generator? = nil) throws -> Tensor {
        try checkInPlace("uniform_")
        try requireF32("uniform_")
        let tmp = Tensor(uninitialized: shape, dtype: .f32).uniformRaw(low, high, generator)
        tmp.copyElements(into: self, shape: shape, srcStrides: tmp.strides)
        storage.bumpVersion()
        return self
    }

    /// Fills this tensor in place with normal values (no autograd; for init).
    /// ```swift
    /// try w.normal_(mean: 0, std: 0.02)
    /// ```
    @discardableResult
    public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws -> Tensor {
        try checkInPlace("normal_")
        try requireF32("normal_")
        let tmp = Tensor(uninitialized: shape, dtype: .f32).normalRaw(mean, std, generator)
        tmp.copyElements(into: self, shape: shape, srcStrides: tmp.strides)
        storage.bumpVersion()
        return self
    }

    /// 1 with probability `self[i]` (probabilities in [0, 1]), else 0; float32.
    /// ```swift
    /// let keep = try Tensor.full([8], value: 0.6).bernoulli()
    /// ```
    public func bernoulli(generator: Generator? = nil) throws -> Tensor {
        let p = to(.f32).contiguous().toFloatArray()
        if let bad = p.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw TensorError("bernoulli: probabilities must be in [0, 1] (got \(bad))")
        }
        let out = Tensor(uninitialized: shape, dtype: .f32)
        let o = out.pointer(Float.self)
        (generator ?? .defaultGenerator).withLock { d in
            for i in 0..<p.count { o[i] = d.uniformFloat() < p[i] ? 1 : 0 }
        }
        return out
    }

    /// 1 with probability `p` everywhere in `shape`.
    public static func bernoulli(_ shape: [Int], p: Double, generator: Generator? = nil) throws -> Tensor {
        try checkShape(shape, op: "bernoulli")
        guard p >= 0 && p <= 1 else { throw TensorError("bernoulli: p must be in [0, 1] (got \(p))") }
        return try filled(shape, value: p, dtype: .f32).bernoulli(generator: generator)
    }

    /// Draws `numSamples` class indices (0-based int64) from the non-negative weights in each
    /// row of a [C] or [B, C] tensor.
    /// ```swift
    /// let idx = try probs.multinomial(numSamples: 2, replacement: true)
    /// ```
    public func multinomial(numSamples: Int, replacement: Bool = false, generator: Generator? = nil) throws -> Tensor {
        guard dim == 1 || dim == 2 else {
            throw TensorError("multinomial: weights must be 1-D or 2-D (got shape \(formatShape(shape)))")
        }
        let rows = dim == 1 ? 1 : shape[0], c = shape[dim - 1]
        guard numSamples > 0 else { throw TensorError("multinomial: numSamples must be positive (got \(numSamples))") }
        if !replacement && numSamples > c {
            throw TensorError("multinomial: cannot draw \(numSamples) samples without replacement from \(c) categories")
        }
        let w = toFloatArray()
        if w.contains(where: { !($0 >= 0) || !$0.isFinite }) {
            throw TensorError("multinomial: weights must be finite and non-negative")
        }
        let outShape = dim == 1 ? [numSamples] : [rows, numSamples]
        try Tensor.checkShape(outShape, dtype: .i64, op: "multinomial")
        let out = Tensor(uninitialized: outShape, dtype: .i64)
        let o = out.pointer(Int64.self)
        try (generator ?? .defaultGenerator).withLock { d in
            for r in 0..<rows {
                var row = Array(w[(r * c)..<((r + 1) * c)]).map(Double.init)
                for s in 0..<numSamples {
                    let total = row.reduce(0, +)
                    guard total > 0 else {
                        throw TensorError("multinomial: row \(index: r) has no positive weight left to draw from")
                    }
                    let u = Double(d.next() >> 11) * 0x1p-53 * total
                    var acc = 0.0, pick = c - 1
                    for k in 0..<c {
                        acc += row[k]
                        if u < acc && row[k] > 0 { pick = k; break }
                    }
                    while row[pick] == 0 && pick > 0 { pick -= 1 }
                    o[r * numSamples + s] = Int64(pick)
                    if !replacement { row[pick] = 0 }
                }
            }
        }
        return out
    }

    func requireF32(_ op: String) throws {
        guard dtype == .f32 else { throw TensorError("\(op): expected a float32 tensor, got \(dtype.name)") }
    }

    /// Fills this fresh contiguous f32 tensor with uniform values.
    func uniformRaw(_ low: Double, _ high: Double, _ g: Generator?) -> Tensor {
        let p = pointer(Float.self), n = numel
        let lo = Float(low), span = Float(high - low)
        (g ?? .defaultGenerator).withLock { d in for i in 0..<n { p[i] = lo + span * d.uniformFloat() } }
        return self
    }

    /// Fills this fresh contiguous f32 tensor with normal values (Box-Muller, both outputs used).
    func normalRaw(_ mean: Double, _ std: Double, _ g: Generator?) -> Tensor {
        let p = pointer(Float.self), n = numel
        (g ?? .defaultGenerator).withLock { d in
            var i = 0
            while i < n {
                let r = (-2 * Foundation.log(d.uniformOpenDouble())).squareRoot()
                let theta = 2 * Double.pi * d.uniformOpenDouble()
                p[i] = Float(mean + std * r * Foundation.cos(theta))
                if i + 1 < n { p[i + 1] = Float(mean + std * r * Foundation.sin(theta)) }
                i += 2
            }
        }
        return self
    }
}
