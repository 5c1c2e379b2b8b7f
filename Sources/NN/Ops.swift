import Foundation
import Tensors

/// Building blocks the modules share: softmax and layer norm (the fused kernels of
/// `Functional`), dropout, and packed-set helpers written with differentiable tensor ops.
public enum NNOps {
    /// Softmax over `dim` (the fused kernel of `Functional`).
    /// ```swift
    /// let w = try NNOps.softmax(scores, dim: -1)
    /// ```
    public static func softmax(_ x: Tensor, dim: Int = -1) throws -> Tensor {
        try Functional.softmax(x, dim: dim)
    }

    /// Layer normalisation over the last dim: (x - mean) / sqrt(var + eps) * weight + bias, with
    /// the biased variance (as PyTorch).
    /// ```swift
    /// let y = try NNOps.layerNorm(x, weight: w, bias: b, eps: 1e-5)
    /// ```
    public static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Double) throws -> Tensor {
        guard x.dim >= 1 else { throw TensorError("layer_norm: expected at least 1 dim, got a 0-D tensor") }
        return try Functional.layerNorm(x, normalizedShape: [x.shape[x.dim - 1]], weight: weight, bias: bias, eps: eps)
    }

    /// Inverted dropout: zeroes each element with probability `p` and scales the rest by
    /// 1/(1-p), so eval mode needs no rescaling. Draws from the default generator.
    public static func dropout(_ x: Tensor, p: Double) throws -> Tensor {
        if p <= 0 { return x }
        if p >= 1 { return try x.mul(0) }
        let keep = try Tensor.bernoulli(x.shape, p: 1 - p)
        return try x.mul(keep.mul(1 / (1 - p)))
    }

    /// An int64 offsets tensor from Ints.
    static func offsetsTensor(_ o: [Int]) throws -> Tensor {
        try Tensor(o.map { Int64($0) }, shape: [o.count])
    }

    /// Prepends the same `rows` [R, D] to every set of a packed `x` [T, D] (learned registers,
    /// class tokens). Returns the new packed tensor [T + B*R, D] and its offsets.
    /// ```swift
    /// let (withRegisters, o2) = try NNOps.prependRows(x, offsets: o, rows: registers)
    /// ```
    public static func prependRows(_ x: Tensor, offsets: Tensor, rows: Tensor, op: String = "prepend_rows") throws -> (Tensor, Tensor) {
        guard x.dim == 2, rows.dim == 2, rows.shape[1] == x.shape[1] else {
            throw TensorError("\(op): expected x [T, D] and rows [R, D], got \(formatShape(x.shape)) and \(formatShape(rows.shape))")
        }
        let o = try Tensor.validatedOffsets(offsets, rows: x.shape[0], op: op)
        let R = rows.shape[0], B = o.count - 1
        var index: [Int64] = []
        index.reserveCapacity(x.shape[0] + B * R)
        var newOffsets = [0]
        for b in 0..<B {
            for r in 0..<R { index.append(Int64(r)) }
            for t in o[b]..<o[b + 1] { index.append(Int64(R + t)) }
            newOffsets.append(newOffsets[b] + R + o[b + 1] - o[b])
        }
        let both = try Tensor.cat([rows, x], dim: 0)
        let out = try both.indexSelect(0, index: Tensor(index, shape: [index.count]))
        return (out, try offsetsTensor(newOffsets))
    }

    /// Removes the first `count` rows of every set of a packed `x` (undoes `prependRows`).
    public static func dropLeadingRows(_ x: Tensor, offsets: Tensor, count: Int, op: String = "drop_leading_rows") throws -> (Tensor, Tensor) {
        guard x.dim >= 1 else { throw TensorError("\(op): expected a packed tensor [T, ...], got a 0-D tensor") }
        let o = try Tensor.validatedOffsets(offsets, rows: x.shape[0], op: op)
        var index: [Int64] = []
        var newOffsets = [0]
        for b in 0..<(o.count - 1) {
            guard o[b + 1] - o[b] >= count else {
                throw TensorError("\(op): set \(b + 1) has \(o[b + 1] - o[b]) rows, fewer than the \(count) to drop")
            }
            for t in (o[b] + count)..<o[b + 1] { index.append(Int64(t)) }
            newOffsets.append(newOffsets[b] + o[b + 1] - o[b] - count)
        }
        let out = try x.indexSelect(0, index: Tensor(index, shape: [index.count]))
        return (out, try offsetsTensor(newOffsets))
    }

    /// Offsets [0, 1, ..., B] of B sets holding one row each (class tokens, pooled vectors).
    public static func unitOffsets(_ count: Int) throws -> Tensor {
        try Tensor.arange(0, Double(count + 1), dtype: .i64)
    }

    /// Expands per-set rows [B, C] to per-row [T, C] following `offsets`; rows already [T, C]
    /// pass unchanged. (When B == T every set has one row and both readings agree.)
    public static func perRow(_ c: Tensor, offsets: Tensor, rows: Int, op: String, what: String) throws -> Tensor {
        guard c.dim == 2 else {
            throw TensorError("\(op): \(what) must be 2-D ([B, C] per set or [T, C] per row), got \(formatShape(c.shape))")
        }
        let B = offsets.numel - 1
        if c.shape[0] == rows { return c }
        guard c.shape[0] == B else {
            throw TensorError("\(op): \(what) has \(c.shape[0]) rows; expected \(B) (one per set) or \(rows) (one per row)")
        }
        return try c.segmentExpand(offsets: offsets)
    }
}
