import Foundation
import Tensors

/// Multi-head scaled dot-product attention on packed sets: the queries of set b attend only to
/// the keys of set b, so padding never exists and never sends information (DESIGN.md, "Sets
/// are packed"). Each head gets D/heads channels; weights are softmax(q k^T / sqrt(D/heads)).
///
/// A query set whose key set is empty gets zeros (there is nothing to attend to); an empty
/// query set produces no rows. Without dropout this is the fused kernel
/// `Functional.packedAttention`; attention dropout (train mode only) takes the composite path,
/// which drops weights after the softmax as PyTorch's scaled_dot_product_attention does.
///
/// ```swift
/// // q [Tq, D], k and v [Tk, D], qOffsets [B+1], kOffsets [B+1]
/// let out = try PackedAttention.attend(q: q, k: k, v: v, queryOffsets: qo, keyOffsets: ko, heads: 8)
/// ```
public enum PackedAttention {
    public static func attend(q: Tensor, k: Tensor, v: Tensor, queryOffsets: Tensor, keyOffsets: Tensor,
                              heads: Int, dropout: Double = 0, op: String = "attention") throws -> Tensor {
        guard q.dim == 2, k.dim == 2, v.dim == 2 else {
            throw TensorError("\(op): q, k, v must be packed 2-D [T, D], got \(formatShape(q.shape)), \(formatShape(k.shape)), \(formatShape(v.shape))")
        }
        let D = q.shape[1]
        guard k.shape[1] == D, v.shape[1] == D, k.shape[0] == v.shape[0] else {
            throw TensorError("\(op): q \(formatShape(q.shape)), k \(formatShape(k.shape)) and v \(formatShape(v.shape)) do not fit (k and v need the same rows, all the same width)")
        }
        guard heads >= 1, D % heads == 0 else {
            throw TensorError("\(op): width \(D) is not divisible by \(heads) heads")
        }
        let qo = try Tensor.validatedOffsets(queryOffsets, rows: q.shape[0], op: op, what: "query offsets")
        let ko = try Tensor.validatedOffsets(keyOffsets, rows: k.shape[0], op: op, what: "key offsets")
        guard qo.count == ko.count else {
            throw TensorError("\(op): query offsets describe \(qo.count - 1) sets but key offsets \(ko.count - 1)")
        }
        if dropout <= 0 {
            return try Functional.packedAttention(query: q, key: k, value: v, queryOffsets: queryOffsets,
                                                  keyOffsets: keyOffsets, numHeads: heads)
        }
        return try composite(q: q, k: k, v: v, qo: qo, ko: ko, heads: heads, dropout: dropout)
    }

    /// Set-by-set attention from differentiable tensor ops, with dropout on the weights; also
    /// the independent check of the fused kernel in the tests (dropout 0).
    public static func attendComposite(q: Tensor, k: Tensor, v: Tensor, queryOffsets: Tensor, keyOffsets: Tensor,
                                       heads: Int, dropout: Double = 0) throws -> Tensor {
        let qo = try Tensor.validatedOffsets(queryOffsets, rows: q.shape[0], op: "attention", what: "query offsets")
        let ko = try Tensor.validatedOffsets(keyOffsets, rows: k.shape[0], op: "attention", what: "key offsets")
        return try composite(q: q, k: k, v: v, qo: qo, ko: ko, heads: heads, dropout: dropout)
    }

    static func composite(q: Tensor, k: Tensor, v: Tensor, qo: [Int], ko: [Int], heads: Int, dropout: Double) throws -> Tensor {
        let D = q.shape[1]
        let hd = D / heads
        let scale = 1 / Double(hd).squareRoot()
        var pieces: [Tensor] = []
        pieces.reserveCapacity(qo.count - 1)
        for b in 0..<(qo.count - 1) {
            let nq = qo[b + 1] - qo[b], nk = ko[b + 1] - ko[b]
            if nq == 0 { continue }
            if nk == 0 {
                pieces.append(try Tensor.zeros([nq, D]))
                continue
            }
            let qb = try q.narrow(0, start: qo[b], length: nq).reshape([nq, heads, hd]).permute([1, 0, 2])
            let kb = try k.narrow(0, start: ko[b], length: nk).reshape([nk, heads, hd]).permute([1, 2, 0])
            let vb = try v.narrow(0, start: ko[b], length: nk).reshape([nk, heads, hd]).permute([1, 0, 2])
            var w = try NNOps.softmax(qb.matmul(kb).mul(scale), dim: -1)  // [H, nq, nk]
            if dropout > 0 { w = try NNOps.dropout(w, p: dropout) }
            let ob = try w.matmul(vb).permute([1, 0, 2]).reshape([nq, D])
            pieces.append(ob)
        }
        if pieces.isEmpty { return try Tensor.zeros([0, D]) }
        return pieces.count == 1 ? pieces[0] : try Tensor.cat(pieces, dim: 0)
    }
}
