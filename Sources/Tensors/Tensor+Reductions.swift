import Foundation

/// Reductions over one, several or all dims (sum mean var std prod max min argmax argmin
/// logsumexp norm all any) and cumsum. Kernels see the input as [A, R, C]: R reduced, A and C
/// kept; C == 1 (a row reduction) is vectorised with SIMD accumulators.

@inline(__always) func simdRowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 32 <= n {
        a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        a1 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
        i += 32
    }
    var s = (a0 + a1).sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// dst[c] = sum over r of src[r * stride + c] for c in `columns` (the column sums of a row-major
/// [rows, stride] block, as a broadcast gradient's `sumTo` needs). Blocks of 32 columns stay in
/// SIMD registers for the whole pass over the rows instead of reloading and storing `dst` for
/// every row (32, not 64: the baseline x86-64 target has 16 xmm registers, 64 spills); each
/// column is still summed in row order from 0, so the result is unchanged.
@inline(__always) func simdColumnSums(_ src: UnsafePointer<Float>, rows: Int, stride: Int, columns: Range<Int>,
                                      into dst: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let raw = UnsafeRawPointer(src), out = UnsafeMutableRawPointer(dst)
    var c = columns.lowerBound
    while c + 32 <= columns.upperBound {
        var a0 = V(), a1 = V()
        for r in 0..<rows {
            let at = (r * stride + c) * 4
            a0 += raw.loadUnaligned(fromByteOffset: at, as: V.self)
            a1 += raw.loadUnaligned(fromByteOffset: at + 64, as: V.self)
        }
        out.storeBytes(of: a0, toByteOffset: c * 4, as: V.self)
        out.storeBytes(of: a1, toByteOffset: c * 4 + 64, as: V.self)
        c += 32
    }
    while c + 16 <= columns.upperBound {
        var a = V()
        for r in 0..<rows { a += raw.loadUnaligned(fromByteOffset: (r * stride + c) * 4, as: V.self) }
        out.storeBytes(of: a, toByteOffset: c * 4, as: V.self)
        c += 16
    }
    if c < columns.upperBound {
        let c1 = columns.upperBound
        for j in c..<c1 { dst[j] = 0 }
        for r in 0..<rows {
            let row = src + r * stride
            for j in c..<c1 { dst[j] += row[j] }
        }
    }
}

/// A reduction's input laid out as [A, R, C] plus the kept shapes.
struct ReduceLayout {
    let src: Tensor
    let a: Int, r: Int, c: Int
    let keepShape: [Int]   // input shape with reduced dims set to 1
    let dropShape: [Int]   // input shape with reduced dims removed
}

extension Tensor {
    /// Normalises a dim list; nil or empty means every dim.
    func reductionDims(_ dims: [Int]?, op: String) throws -> [Int] {
        guard let dims, !dims.isEmpty else { return Array(0..<dim) }
        let d = try dims.map { try normalizeDim($0, op: op) }
        if dim == 0 { return [] }   // a 0-d tensor accepts dim 0 or -1, as in PyTorch, and has nothing to reduce
        guard Set(d).count == d.count else {
            throw TensorError("\(op): dim \(dims: dims) repeats a dim")
        }
        return d.sorted()
    }

    /// Lays the input out as [A, R, C] without copying when the reduced dims are consecutive in
    /// a contiguous tensor; otherwise permutes them last and copies.
    func reduceLayout(_ d: [Int]) -> ReduceLayout {
        let set = Set(d)
        let keep = shape.enumerated().map { set.contains($0.offset) ? 1 : $0.element }
        let drop = shape.enumerated().filter { !set.contains($0.offset) }.map { $0.element }
        let r = d.map { shape[$0] }.reduce(1, *)
        if d.isEmpty { return ReduceLayout(src: contiguous(), a: numel, r: 1, c: 1, keepShape: keep, dropShape: drop) }
        if isContiguous && d.last! - d.first! == d.count - 1 {
            let a = shape[..<d.first!].reduce(1, *), c = shape[(d.last! + 1)...].reduce(1, *)
            return ReduceLayout(src: self, a: a, r: r, c: c, keepShape: keep, dropShape: drop)
        }
        let order = (0..<dim).filter { !set.contains($0) } + d
        let p = aliased(order.map { shape[$0] }, order.map { strides[$0] }, offset).contiguousData()
        return ReduceLayout(src: p, a: drop.reduce(1, *), r: r, c: 1, keepShape: keep, dropShape: drop)
    }

    /// Sum over `dims` (all when nil); bool and int64 sum to int64.
    /// ```swift
    /// let rows = try x.sum(dims: [1])
    /// ```
    public func sum(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        let d = try reductionDims(dims, op: "sum")
        let L = reduceLayout(d)
        let outShape = keepDim ? L.keepShape : L.dropShape
        let out: Tensor
        if dtype == .f32 {
            out = Tensor(uninitialized: outShape, dtype: .f32)
            let s = L.src.pointer(Float.self), o = out.pointer(Float.self)
            let (A, R, C) = (L.a, L.r, L.c)
            if C == 1 {
                parallelFor(A, work: A * R) { lo, hi in for i in lo..<hi { o[i] = simdRowSum(s + i * R, R) } }
            } else if A == 1 && R >= 256 {
                // Sums over the rows of one tall matrix (a bias gradient over a batch): each task
                // streams a block of rows in memory order into its own [C] partial, and the
                // partials are added in a fixed order.
                let tasks = parallelPieces(R, work: Double(R) * Double(C), perThread: 1)
                let partials = UnsafeMutablePointer<Float>.allocate(capacity: tasks * C)
                defer { partials.deallocate() }
                parallelFor(tasks, work: R * C) { lo, hi in
                    for t in lo..<hi {
                        let acc = partials + t * C
                        acc.initialize(repeating: 0, count: C)
                        for r in (t * R / tasks)..<((t + 1) * R / tasks) {
                            let row = s + r * C
                            for c in 0..<C { acc[c] += row[c] }
                        }
                    }
                }
                o.update(from: partials, count: C)
                for t in 1..<tasks { for c in 0..<C { o[c] += partials[t * C + c] } }
            } else {
                // Tasks are blocks of 32 output columns (whole cache lines of each input row), so a
                // narrow C is summed in one row-order pass rather than one strided pass per column.
                let blocks = (C + 31) / 32
                parallelFor(A * blocks, work: A * R * C) { lo, hi in
                    for t in lo..<hi {
                        let ai = t / blocks, c0 = (t % blocks) * 32
                        simdColumnSums(s + ai * R * C, rows: R, stride: C, columns: c0..<Swift.min(C, c0 + 32), into: o + ai * C)
                    }
                }
            }
        } else {
            let src = L.src.to(.i64)
            out = Tensor(uninitialized: outShape, dtype: .i64)
            let s = src.pointer(Int64.self), o = out.pointer(Int64.self)
            for ai in 0..<L.a {
                for c in 0..<L.c {
                    var acc: Int64 = 0
                    for ri in 0..<L.r { acc &+= s[(ai * L.r + ri) * L.c + c] }
                    o[ai * L.c + c] = acc
                }
            }
        }
        let inShape = shape, keepShape = L.keepShape
        return Tensor.record("sum", out, [self]) { g in [try g.reshape(keepShape).expand(inShape)] }
    }

    /// Sum over one dim: `try x.sum(dim: -1)`.
    public func sum(dim d: Int, keepDim: Bool = false) throws -> Tensor { try sum(dims: [d], keepDim: keepDim) }

    /// Mean over `dims` (all when nil), in float32.
    /// ```swift
    /// let m = try x.mean(dims: [0])
    /// ```
    public func mean(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        let d = try reductionDims(dims, op: "mean")
        let n = d.map { shape[$0] }.reduce(1, *)
        return try to(.f32).sum(dims: d, keepDim: keepDim).div(Double(n))
    }

    /// Variance over `dims`; `unbiased` divides by N - 1 (the default, as PyTorch).
    /// ```swift
    /// let v = try x.variance(dims: [1], unbiased: false)
    /// ```
    public func variance(dims: [Int]? = nil, unbiased: Bool = true, keepDim: Bool = false) throws -> Tensor {
        let d = try reductionDims(dims, op: "var")
        let n = d.map { shape[$0] }.reduce(1, *)
        let x = to(.f32)
        let centred = try x.sub(x.mean(dims: d, keepDim: true))
        return try centred.square().sum(dims: d, keepDim: keepDim).div(Double(Swift.max(n - (unbiased ? 1 : 0), 0)))
    }

    /// Standard deviation over `dims` (unbiased by default).
    public func std(dims: [Int]? = nil, unbiased: Bool = true, keepDim: Bool = false) throws -> Tensor {
        try variance(dims: dims, unbiased: unbiased, keepDim: keepDim).sqrt()
    }

    /// log(sum(exp(x))) over `dims`, computed stably (shifted by the detached max).
    /// ```swift
    /// let lse = try logits.logsumexp(dims: [-1])
    /// ```
    public func logsumexp(dims: [Int], keepDim: Bool = false) throws -> Tensor {
        let d = try reductionDims(dims, op: "logsumexp")
        let x = to(.f32)
        var m = try withNoGrad { try x.amax(dims: d, keepDim: true) }
        // Rows that are all -inf would give inf - inf = NaN; shift them by 0 instead.
        m = try Tensor.where(m.isfinite(), m, 0)
        let s = try x.sub(m).exp().sum(dims: d, keepDim: true).log().add(m)
        return keepDim ? s : try s.reshape(d.isEmpty ? [] : shape.enumerated().filter { !d.contains($0.offset) }.map { $0.element })
    }

    /// p-norm over `dims` (all when nil); p may be .infinity.
    /// ```swift
    /// let n = try g.norm()   // Frobenius / 2-norm
    /// ```
    public func norm(p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        let x = to(.f32)
        if p == .infinity { return try x.abs().amax(dims: dims, keepDim: keepDim) }
        if p == 2 { return try x.square().sum(dims: dims, keepDim: keepDim).sqrt() }
        if p == 1 { return try x.abs().sum(dims: dims, keepDim: keepDim) }
        guard p > 0 else { throw TensorError("norm: p must be positive (got \(p))") }
        return try x.abs().pow(p).sum(dims: dims, keepDim: keepDim).pow(1 / p)
    }

    /// Product over one dim or all (nil). The gradient uses prod / x, so inputs should be nonzero.
    /// ```swift
    /// let p = try x.prod(dim: 1)
    /// ```
    public func prod(dim d: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        let dd = try reductionDims(d.map { [$0] }, op: "prod")
        let L = reduceLayout(dd)
        let isInt = dtype != .f32
        let src = L.src.to(isInt ? .i64 : .f32)
        let out = Tensor(uninitialized: keepDim ? L.keepShape : L.dropShape, dtype: isInt ? .i64 : .f32)
        for ai in 0..<L.a {
            for c in 0..<L.c {
                if isInt {
                    var acc: Int64 = 1
                    for ri in 0..<L.r { acc &*= src.pointer(Int64.self)[(ai * L.r + ri) * L.c + c] }
                    out.pointer(Int64.self)[ai * L.c + c] = acc
                } else {
                    var acc: Float = 1
                    for ri in 0..<L.r { acc *= src.pointer(Float.self)[(ai * L.r + ri) * L.c + c] }
                    out.pointer(Float.self)[ai * L.c + c] = acc
                }
            }
        }
        let x = Saved(self, op: "prod"), y = Saved(out, op: "prod"), keepShape = L.keepShape
        return Tensor.record("prod", out, [self]) { g in
            let xv = try x.get(), yv = try y.get().reshape(keepShape)
            return [try g.reshape(keepShape).mul(yv).div(xv)]
        }
    }

    /// Cumulative sum along `dim`.
    /// ```swift
    /// let c = try x.cumsum(0)
    /// ```
    public func cumsum(_ d: Int) throws -> Tensor {
        let a = try normalizeDim(d, op: "cumsum")
        return try cumsumImpl(a, reverse: false)
    }

    func cumsumImpl(_ a: Int, reverse: Bool) throws -> Tensor {
        if dim == 0 { return try clone() }
        let isInt = dtype != .f32
        let src = to(isInt ? .i64 : .f32).contiguous()
        let out = Tensor(uninitialized: shape, dtype: src.dtype)
        let A = shape[..<a].reduce(1, *), R = shape[a], C = shape[(a + 1)...].reduce(1, *)
        @inline(__always) func scan<T: AdditiveArithmetic>(_: T.Type) {
            let s = src.pointer(T.self), o = out.pointer(T.self)
            for ai in 0..<A {
                for c in 0..<C {
                    var acc = T.zero
                    for k in 0..<R {
                        let ri = reverse ? R - 1 - k : k
                        let i = (ai * R + ri) * C + c
                        acc += s[i]
                        o[i] = acc
                    }
                }
            }
        }
        if isInt { scan(Int64.self) } else { scan(Float.self) }
        return Tensor.record("cumsum", out, [self]) { g in [try g.cumsumImpl(a, reverse: !reverse)] }
    }

    /// Whether every element is nonzero, over `dims` (all when nil); bool result.
    public func all(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        let n = try reductionDims(dims, op: "all").map { shape[$0] }.reduce(1, *)
        return try to(.bool).to(.i64).sum(dims: dims, keepDim: keepDim).eq(Double(n))
    }

    /// Whether any element is nonzero, over `dims` (all when nil); bool result.
    public func any(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        try to(.bool).to(.i64).sum(dims: dims, keepDim: keepDim).gt(0)
    }
}
