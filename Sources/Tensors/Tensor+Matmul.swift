import Foundation

/// Matrix products through the product layer (Products.swift, in the thread's precision): matmul
/// (torch.matmul semantics: 1-D, 2-D, batched with broadcast batch dims), bmm, outer, dot.
/// Transposed views go to the layer as transposes without a copy; other layouts are copied to
/// contiguous first.

extension Tensor {
    /// How sgemm can read the last two dims of this tensor: (transposed, leading dim), or nil
    /// when neither dim has unit stride.
    private func gemmLayout() -> (Bool, Int32)? {
        let rows = shape[dim - 2], cols = shape[dim - 1]
        let sr = strides[dim - 2], sc = strides[dim - 1]
        if cols == 1 || sc == 1 {
            let ld = rows == 1 ? Swift.max(cols, 1) : sr
            if ld >= Swift.max(1, cols) { return (false, Int32(ld)) }
        }
        if rows == 1 || sr == 1 {
            let ld = cols == 1 ? Swift.max(rows, 1) : sc
            if ld >= Swift.max(1, rows) { return (true, Int32(ld)) }
        }
        return nil
    }

    /// [batch..., m, k] x [batch..., k, n] with identical batch shapes (expanded views allowed).
    static func batchedGemm(_ a0: Tensor, _ b0: Tensor) throws -> Tensor {
        let nb = a0.dim - 2
        let batch = Array(a0.shape[..<nb])
        let m = a0.shape[nb], k = a0.shape[nb + 1], n = b0.shape[nb + 1]
        try checkFitsInMemory(batch + [m, n], dtype: .f32, op: "matmul")
        let out = Tensor(uninitialized: batch + [m, n], dtype: .f32)
        let B = batch.reduce(1, *)
        if m == 0 || n == 0 || B == 0 { return out }
        if k == 0 { out.fillRaw(0); return out }
        let a = a0.gemmLayout() == nil ? a0.contiguousData() : a0
        let b = b0.gemmLayout() == nil ? b0.contiguousData() : b0
        let (ta, lda) = a.gemmLayout()!, (tb, ldb) = b.gemmLayout()!
        let pa = a.pointer(Float.self), pb = b.pointer(Float.self), po = out.pointer(Float.self)
        func item(_ bi: Int) {
            var rem = bi, oa = 0, ob = 0
            for d in stride(from: nb - 1, through: 0, by: -1) {
                let i = rem % batch[d]
                rem /= batch[d]
                oa += i * a.strides[d]
                ob += i * b.strides[d]
            }
            Products.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa + oa, lda: Int(lda),
                          b: pb + ob, ldb: Int(ldb), beta: 0, c: po + bi * m * n, ldc: n)
        }
        // Many small products (attention-like batches): one whole product per worker; a large
        // one is split inside Products.gemm instead.
        let each = Double(m) * Double(n) * Double(k)
        if each < Double(Products.splitThreshold) && parallelPieces(B, work: each * Double(B), threshold: Double(Products.splitThreshold)) > 1 {
            parallelRegion(iterations: B, item)
        } else {
            for bi in 0..<B { item(bi) }
        }
        return out
    }

    /// Differentiable batched product of same-batch operands.
    static func bmmCore(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try batchedGemm(a, b)
        guard GradMode.isEnabled && (a.requiresGrad || b.requiresGrad) else { return out }
        let sa = Saved(a, op: "matmul"), sb = Saved(b, op: "matmul")
        let wantA = a.requiresGrad, wantB = b.requiresGrad
        // The backward's products run in the forward's precision, wherever backward() is called.
        let precision = Precision.current
        return record("matmul", out, [a, b]) { g in
            let av = try sa.get(), bv = try sb.get()
            let ga = wantA ? try Precision.with(precision) { try batchedGemm(g, try bv.transpose(-1, -2)) } : nil
            let gb = wantB ? try Precision.with(precision) { try batchedGemm(try av.transpose(-1, -2), g) } : nil
            // Expanded (broadcast) batch dims are summed back by expand's own backward.
            return [ga, gb]
        }
    }

    /// Matrix product with torch.matmul semantics: 1-D operands are promoted to a row/column
    /// and the added dim removed; batch dims broadcast.
    /// ```swift
    /// let y = try x.matmul(w)          // [B, N, D] x [D, E] -> [B, N, E]
    /// ```
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard dtype == .f32 && other.dtype == .f32 else {
            throw TensorError("matmul: expected float32 tensors, got \(dtype.name) and \(other.dtype.name)")
        }
        guard dim >= 1 && other.dim >= 1 else {
            throw TensorError("matmul: both arguments need at least 1 dim (got \(dim)-D and \(other.dim)-D)")
        }
        let a = dim == 1 ? try unsqueeze(0) : self
        let b = other.dim == 1 ? try other.unsqueeze(-1) : other
        let k1 = a.shape[a.dim - 1], k2 = b.shape[b.dim - 2]
        guard k1 == k2 else {
            throw TensorError("matmul: a is \(formatShape(shape, .matrix)), b is \(formatShape(other.shape, .matrix)) (inner sizes \(k1) and \(k2) differ)")
        }
        let ba = Array(a.shape.dropLast(2)), bb = Array(b.shape.dropLast(2))
        let batch: [Int]
        do { batch = try broadcastShapes(ba, bb, op: "matmul") } catch {
            throw TensorError("matmul: batch dims \(formatShape(ba)) and \(formatShape(bb)) cannot broadcast (a is \(formatShape(shape)), b is \(formatShape(other.shape)))")
        }
        let m = a.shape[a.dim - 2], n = b.shape[b.dim - 1]
        let ae = try a.expand(batch + [m, k1]), be = try b.expand(batch + [k1, n])
        var out = try Tensor.bmmCore(ae, be)
        if dim == 1 { out = try out.squeeze(out.dim - 2) }
        if other.dim == 1 { out = try out.squeeze(out.dim - 1) }
        return out
    }

    /// Batched product of two 3-D tensors with equal batch size: `try a.bmm(b)`.
    public func bmm(_ other: Tensor) throws -> Tensor {
        guard dim == 3 && other.dim == 3 else {
            throw TensorError("bmm: expected 3-D tensors, got \(formatShape(shape)) and \(formatShape(other.shape))")
        }
        guard shape[0] == other.shape[0] else {
            throw TensorError("bmm: batch sizes \(shape[0]) and \(other.shape[0]) differ")
        }
        return try matmul(other)
    }

    /// Outer product of two 1-D tensors: `try u.outer(v)` is [n, m].
    public func outer(_ other: Tensor) throws -> Tensor {
        guard dim == 1 && other.dim == 1 else {
            throw TensorError("outer: expected 1-D tensors, got \(formatShape(shape)) and \(formatShape(other.shape))")
        }
        return try unsqueeze(1).mul(other.unsqueeze(0))
    }

    /// Dot product of two 1-D tensors of equal length: `try u.dot(v)`.
    public func dot(_ other: Tensor) throws -> Tensor {
        guard dim == 1 && other.dim == 1 && shape == other.shape else {
            throw TensorError("dot: expected 1-D tensors of equal length, got \(formatShape(shape)) and \(formatShape(other.shape))")
        }
        return try matmul(other)
    }
}
