import Foundation

/// y = x W^T + b as one product: the output starts as the bias rows and the product layer adds
/// x W^T onto them (beta = 1), in the thread's precision (Precision.swift). The composite
/// (matmul, then a broadcast add) made OpenBLAS zero the output first (its beta = 0 pass) and
/// then read and wrote it once more for the bias.

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
        let po = out.pointer(Float.self)
        if let b = bias {
            let pb = dense(b).pointer(Float.self)
            forRows(rows, rowCost: n) { lo, hi in
                for r in lo..<hi { (po + r * n).update(from: pb, count: n) }
            }
        }
        if rows > 0 && n > 0 && k > 0 {
            Products.gemm(transA: false, transB: true, m: rows, n: n, k: k, alpha: 1, a: xd.pointer(Float.self), lda: k,
                          b: wd.pointer(Float.self), ldb: k, beta: bias == nil ? 0 : 1, c: po, ldc: n)
        } else if bias == nil {
            out.fillRaw(0)
        }
        let inputs: [Tensor] = bias.map { [x, weight, $0] } ?? [x, weight]
        guard recording(inputs) else { return out }
        let sx = Saved(x, op: op), sw = Saved(weight, op: op)
        let wantX = x.requiresGrad, wantW = weight.requiresGrad, wantB = bias?.requiresGrad == true
        let inShape = x.shape
        // The backward's products run in the forward's precision, wherever backward() is called.
        let precision = Precision.current
        return Tensor.record(op, out, inputs) { g in
            let g2 = try dense(g).reshape([rows, n])
            let (gx, gw) = try Precision.with(precision) {
                (wantX ? try g2.matmul(try sw.get()).reshape(inShape) : nil,
                 wantW ? try g2.t().matmul(try sx.get().reshape([rows, k])) : nil)
            }
            let gb = wantB ? try g2.sum(dims: [0]) : nil
            return bias == nil ? [gx, gw] : [gx, gw, gb]
        }
    }
}
