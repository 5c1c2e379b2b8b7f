import Foundation

/// softmax and log_softmax along one dim, fused: one kernel for the forward (max, shifted exp,
/// normalise) and one for the backward, instead of the five ops and their saved temporaries of
/// the composite. The input is seen as [A, R, C] with R the softmax dim: C == 1 (the last dim)
/// runs row by row; otherwise C columns are processed side by side, which vectorises just as
/// well and needs no transposed copy.

/// Which of the two softmax flavours a kernel computes.
enum SoftmaxKind {
    case softmax, logSoftmax
    var name: String { self == .softmax ? "softmax" : "log_softmax" }
}

extension Functional {
    /// Softmax along `dim`: exp(x) / sum(exp(x)), computed stably.
    /// ```swift
    /// let p = try Functional.softmax(scores, dim: -1)
    /// ```
    public static func softmax(_ x: Tensor, dim: Int) throws -> Tensor {
        try softmaxFamily(x, dim: dim, kind: .softmax)
    }

    /// log(softmax(x)) along `dim`, computed without forming the softmax.
    /// ```swift
    /// let logp = try Functional.logSoftmax(logits, dim: 1)
    /// ```
    public static func logSoftmax(_ x: Tensor, dim: Int) throws -> Tensor {
        try softmaxFamily(x, dim: dim, kind: .logSoftmax)
    }

    static func softmaxFamily(_ x: Tensor, dim d: Int, kind: SoftmaxKind) throws -> Tensor {
        try requireFloat(x, op: kind.name, name: "input")
        let axis = try x.normalizeDim(d, op: kind.name)
        let shape = x.shape
        let (a, r, c) = SoftmaxKernel.layout(shape, axis)
        let src = dense(x)
        let out = Tensor(uninitialized: shape, dtype: .f32)
        SoftmaxKernel.forward(src.pointer(Float.self), out.pointer(Float.self), a, r, c, kind)
        guard recording([x]) else { return out }
        let saved = Saved(out, op: kind.name)
        return Tensor.record(kind.name, out, [x]) { g in
            let y = try saved.get()
            let gd = dense(g)
            let gx = Tensor(uninitialized: shape, dtype: .f32)
            SoftmaxKernel.backward(y.pointer(Float.self), gd.pointer(Float.self), gx.pointer(Float.self), a, r, c, kind)
            return [gx]
        }
    }
}

extension Tensor {
    /// Softmax along `dim` (PyTorch's `Tensor.softmax`): `try x.softmax(dim: -1)`.
    public func softmax(dim: Int) throws -> Tensor { try Functional.softmax(self, dim: dim) }

    /// Log-softmax along `dim` (PyTorch's `Tensor.log_softmax`): `try x.logSoftmax(dim: -1)`.
    public func logSoftmax(dim: Int) throws -> Tensor { try Functional.logSoftmax(self, dim: dim) }
}

/// The raw kernels on dense row-major buffers.
enum SoftmaxKernel {
    /// Columns handled together in the strided (C > 1) layout: small enough for the running
    /// max and sum to stay in L1, large enough to amortise the loop overhead.
    static let columnBlock = 256

    /// [A, R, C] sizes of `shape` around `axis` (a 0-d tensor is one row of one element).
    static func layout(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
        if shape.isEmpty { return (1, 1, 1) }
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static func forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                        _ a: Int, _ r: Int, _ c: Int, _ kind: SoftmaxKind) {
        if a == 0 || r == 0 || c == 0 { return }
        if c == 1 {
            Functional.forRows(a, rowCost: r * 4) { lo, hi in
                for i in lo..<hi { forwardRow(x + i * r, y + i * r, r, kind) }
            }
            return
        }
        forColumnBlocks(a, r, c) { ai, c0, w in
            forwardColumns(x + ai * r * c + c0, y + ai * r * c + c0, r, c, w, kind)
        }
    }

    static func backward(_ y: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
                         _ a: Int, _ r: Int, _ c: Int, _ kind: SoftmaxKind) {
        if a == 0 || r == 0 || c == 0 { return }
        if c == 1 {
            Functional.forRows(a, rowCost: r * 3) { lo, hi in
                for i in lo..<hi { backwardRow(y + i * r, g + i * r, gx + i * r, r, kind) }
            }
            return
        }
        forColumnBlocks(a, r, c) { ai, c0, w in
            let o = ai * r * c + c0
            backwardColumns(y + o, g + o, gx + o, r, c, w, kind)
        }
    }

    /// Splits [A, C] into (a, first column, width) blocks and runs them in parallel.
    @inline(__always)
    static func forColumnBlocks(_ a: Int, _ r: Int, _ c: Int, _ body: (Int, Int, Int) -> Void) {
        let blocks = (c + columnBlock - 1) / columnBlock
        Functional.forRows(a * blocks, rowCost: r * Swift.min(c, columnBlock) * 4) { lo, hi in
            for k in lo..<hi {
                let ai = k / blocks, c0 = (k % blocks) * columnBlock
                body(ai, c0, Swift.min(columnBlock, c - c0))
            }
        }
    }

    // MARK: Last-dim rows

    @inline(__always)
    static func forwardRow(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ kind: SoftmaxKind) {
        let m = FusedMath.max(x, n)
        switch kind {
        case .softmax:
            let s = FusedMath.expSubStore(x, into: y, n, minus: m)
            FusedMath.scale(y, into: y, n, by: Float(1 / s))
        case .logSoftmax:
            // (x - m) - log(s), in that order: x - (m + log s) would round m + log s at m's scale.
            let ls = FusedMath.V(repeating: Float(Foundation.log(FusedMath.expSubSum(x, n, minus: m))))
            let mv = FusedMath.V(repeating: m)
            var i = 0
            while i + 8 <= n { FusedMath.store(FusedMath.load(x + i) - mv - ls, y + i); i += 8 }
            while i < n { y[i] = x[i] - m - ls[0]; i += 1 }
        }
    }

    @inline(__always)
    static func backwardRow(_ y: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                            _ gx: UnsafeMutablePointer<Float>, _ n: Int, _ kind: SoftmaxKind) {
        typealias V = FusedMath.V
        var i = 0
        switch kind {
        case .softmax:
            // gx = y * (g - sum(g * y))
            let dv = V(repeating: Float(FusedMath.dot(g, y, n)))
            while i + 8 <= n {
                FusedMath.store(FusedMath.load(y + i) * (FusedMath.load(g + i) - dv), gx + i)
                i += 8
            }
            while i < n { gx[i] = y[i] * (g[i] - dv[0]); i += 1 }
        case .logSoftmax:
            // gx = g - exp(y) * sum(g)
            let sv = V(repeating: Float(FusedMath.sum(g, n)))
            while i + 8 <= n {
                FusedMath.store(FusedMath.load(g + i) - FusedMath.exp(FusedMath.load(y + i)) * sv, gx + i)
                i += 8
            }
            if i < n {
                let k = n - i
                let e = FusedMath.exp(FusedMath.loadPartial(y + i, k))
                for j in 0..<k { gx[i + j] = g[i + j] - e[j] * sv[0] }
            }
        }
    }

    // MARK: Strided columns (softmax over a non-last dim)

    /// Softmax over `r` rows of stride `c` for `w` adjacent columns starting at `x`.
    static func forwardColumns(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               _ r: Int, _ c: Int, _ w: Int, _ kind: SoftmaxKind) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * w) { buf in
            let m = buf.baseAddress!, s = m + w
            for j in 0..<w { m[j] = x[j]; s[j] = 0 }
            for i in 1..<Swift.max(r, 1) {
                let row = x + i * c
                for j in 0..<w where row[j] > m[j] { m[j] = row[j] }
            }
            for i in 0..<r {
                let row = x + i * c, out = y + i * c
                var j = 0
                while j + 8 <= w {
                    let e = FusedMath.exp(FusedMath.load(row + j) - FusedMath.load(m + j))
                    FusedMath.store(FusedMath.load(s + j) + e, s + j)
                    if kind == .softmax { FusedMath.store(e, out + j) }
                    j += 8
                }
                while j < w {
                    let e = FusedMath.exp(row[j] - m[j])
                    s[j] += e
                    if kind == .softmax { out[j] = e }
                    j += 1
                }
            }
            if kind == .softmax {
                for j in 0..<w { s[j] = 1 / s[j] }
                for i in 0..<r {
                    let out = y + i * c
                    for j in 0..<w { out[j] *= s[j] }
                }
            } else {
                for j in 0..<w { s[j] = logf(s[j]) }
                for i in 0..<r {
                    let row = x + i * c, out = y + i * c
                    for j in 0..<w { out[j] = row[j] - m[j] - s[j] }
                }
            }
        }
    }

    static func backwardColumns(_ y: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
                                _ r: Int, _ c: Int, _ w: Int, _ kind: SoftmaxKind) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: w) { buf in
            let acc = buf.baseAddress!
            for j in 0..<w { acc[j] = 0 }
            for i in 0..<r {
                let yr = y + i * c, gr = g + i * c
                if kind == .softmax {
                    for j in 0..<w { acc[j] += yr[j] * gr[j] }
                } else {
                    for j in 0..<w { acc[j] += gr[j] }
                }
            }
            for i in 0..<r {
                let yr = y + i * c, gr = g + i * c, out = gx + i * c
                if kind == .softmax {
                    for j in 0..<w { out[j] = yr[j] * (gr[j] - acc[j]) }
                } else {
                    var j = 0
                    while j + 8 <= w {
                        let e = FusedMath.exp(FusedMath.load(yr + j))
                        FusedMath.store(FusedMath.load(gr + j) - e * FusedMath.load(acc + j), out + j)
                        j += 8
                    }
                    while j < w { out[j] = gr[j] - FusedMath.exp(yr[j]) * acc[j]; j += 1 }
                }
            }
        }
    }
}
