import Foundation

/// y = x W^T + b as one product, in the thread's precision (Precision.swift): the product layer
/// adds the bias as part of the product (OpenBLAS onto the output filled with the bias rows,
/// beta = 1; oneDNN's bf16 kernels as they write it, without that pass). The composite (matmul,
/// then a broadcast add) made OpenBLAS zero the output first (its beta = 0 pass) and then read
/// and wrote it once more for the bias.
///
/// When the products run in bf16 each operand is rounded once for all three of them, as
/// PyTorch's autocast keeps its casts: W through its storage's cached copy (BF16Copy.of: once
/// per optimiser step, or once in all for inference), x in the forward, kept for the weight
/// gradient in place of the fp32 x (which the backward then does not hold), and the upstream
/// gradient once for both backward products. Rounding is
/// deterministic, so the results are those of rounding per product; on the small preset's narrow
/// products (K = 128) each pass moves about as many bytes as the product's own packing.

extension Functional {
    /// x [..., in] times weight [out, in] transposed, plus bias [out]: [..., out], as nn.Linear.
    /// ```swift
    /// let y = try Functional.linear(x, weight: w, bias: b)   // [T, 128] x [512, 128]^T + [512] -> [T, 512]
    /// ```
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        let op = "linear"
        try requireFloat(x, op: op, name: "input")
        try requireFloat(weight, op: op, name: "weight")
        guard weight.dim == 2, x.dim >= 1, x.shape[x.dim - 1] == weight.shape[1] else {
            throw TensorError("linear: input \(formatShape(x.shape)) and weight \(formatShape(weight.shape)) do not fit (the input's last dim must be the weight's second)")
        }
        let n = weight.shape[0], k = weight.shape[1]
        if let b = bias {
            try requireFloat(b, op: op, name: "bias")
            guard b.dim == 1, b.shape[0] == n else {
                throw TensorError("linear: bias must be [\(n)], got \(formatShape(b.shape))")
            }
        }
        let rows = x.shape.dropLast().reduce(1, *)
        var outShape = x.shape
        outShape[x.dim - 1] = n
        try Tensor.checkFitsInMemory(outShape, dtype: .f32, op: op)
        let xd = dense(x), wd = dense(weight)
        let out = Tensor(uninitialized: outShape, dtype: .f32)
        let po = out.pointer(Float.self), bd = bias.map(dense)
        // Forward and backward products do the same work, so all three take the same route.
        let precision = Precision.current
        let bf16 = rows > 0 && n > 0 && k > 0 && Products.roundsToBF16(m: rows, n: n, k: k, precision: precision)
        let px = xd.pointer(Float.self)
        let x16 = bf16 ? BF16Copy(rows: rows, cols: k) { BF16.round(px, rows: rows, cols: k, ld: k, into: $0) } : nil
        if rows > 0 && n > 0 && k > 0 {
            Products.gemm(transA: false, transB: true, m: rows, n: n, k: k, alpha: 1, a: px, lda: k,
                          b: wd.pointer(Float.self), ldb: k, beta: 0, c: po, ldc: n, precision: precision,
                          a16: x16?.bits, b16: bf16 ? BF16Copy.of(wd).bits : nil, bias: bd?.pointer(Float.self))
        } else if let bd {
            Products.fill(po, ldc: n, rows: rows, with: bd.pointer(Float.self), n)
        } else {
            out.fillRaw(0)
        }
        let inputs: [Tensor] = bias.map { [x, weight, $0] } ?? [x, weight]
        guard recording(inputs) else { return out }
        let wantX = x.requiresGrad, wantW = weight.requiresGrad, wantB = bias?.requiresGrad == true
        // In bf16 the weight gradient reads x's bf16 copy: the fp32 x is not kept alive for it.
        let kept = wantW ? x16 : nil
        let sx = kept == nil ? Saved(x, op: op) : nil, xVersion = kept.map { _ in SavedVersion(x, op: op) }
        let sw = Saved(weight, op: op)
        let inShape = x.shape
        // The backward's products run in the forward's precision, wherever backward() is called.
        return Tensor.record(op, out, inputs) { g in
            let g2 = dense(g), pg = g2.pointer(Float.self)
            let g16 = bf16 && (wantX || wantW) ? BF16Copy(rows: rows, cols: n) { BF16.round(pg, rows: rows, cols: n, ld: n, into: $0) } : nil
            // C[m, c] = op(A) B, zeros when the shared size is 0.
            func product(_ m: Int, _ c: Int, _ inner: Int, transA: Bool, _ a: UnsafePointer<Float>, _ lda: Int,
                         _ b: UnsafePointer<Float>?, b16: UnsafePointer<UInt16>?) -> Tensor {
                let t = Tensor(uninitialized: [m, c], dtype: .f32)
                if inner == 0 { t.fillRaw(0) } else if m > 0 && c > 0 {
                    Products.gemm(transA: transA, transB: false, m: m, n: c, k: inner, alpha: 1, a: a, lda: lda, b: b, ldb: c,
                                  beta: 0, c: t.pointer(Float.self), ldc: c, precision: precision, a16: g16?.bits, b16: b16)
                }
                return t
            }
            var gx: Tensor?, gw: Tensor?
            if wantX {
                let w = dense(try sw.get())
                gx = try withExtendedLifetime(w) {
                    try product(rows, k, n, transA: false, pg, n, w.pointer(Float.self), b16: bf16 ? BF16Copy.of(w).bits : nil).reshape(inShape)
                }
            }
            if let kept {
                try xVersion?.check()
                gw = withExtendedLifetime(kept) { product(n, k, rows, transA: true, pg, n, nil, b16: kept.bits) }
            } else if wantW {
                let xs = dense(try sx!.get())
                gw = withExtendedLifetime(xs) { product(n, k, rows, transA: true, pg, n, xs.pointer(Float.self), b16: nil) }
            }
            let gb = wantB ? try g2.reshape([rows, n]).sum(dims: [0]) : nil
            return withExtendedLifetime((g2, g16)) { bias == nil ? [gx, gw] : [gx, gw, gb] }
        }
    }
}
