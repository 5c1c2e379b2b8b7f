import Foundation

/// Scaled dot-product attention over packed sets (DESIGN.md, "Sets are packed"): queries
/// [Tq, H*Dh] and keys/values [Tk, H*Dh] hold the rows of B sets back to back, and set b's
/// queries attend only to set b's keys, over each set's true length. No padding is built and
/// no FLOP is spent on it.
///
/// Forward, per (set, head): S = scale * Q K^T with one small product, a row softmax in place,
/// O = P V with a second product, then each row of O divided by its softmax sum; the row
/// log-sum-exp is kept ([Tq, H]). Score rows are a whole number of SIMD vectors apart, the
/// columns past the set's keys preset to -inf (0 after exp), so the softmax loops have no tails.
/// Backward recomputes P from the log-sum-exp (one sgemm, cheaper than keeping every P) and
/// forms dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(P * dP)) * scale, dQ = dS K,
/// dK = dS^T Q. Sets here are at most a few hundred rows, so a set's whole score matrix fits in
/// L2 and no flash-style tiling is needed. The (set, head) pairs run in parallel; each writes its own rows and head columns
/// of the outputs and gradients. The products go through the product layer (Products.swift): at
/// the usual set sizes they are fp32 sgemm even in a bf16 scope (bf16 pays only from 2^20
/// multiply-adds per product); a set large enough runs its products in the scope's precision.

extension Functional {
    /// Attention of packed query sets over packed key/value sets.
    ///
    /// - `query` [Tq, H*Dh] or [Tq, H, Dh]; `key` [Tk, H*Dh] or [Tk, H, Dh]; `value` [Tk, H*Dv]
    ///   or [Tk, H, Dv]. Views whose rows are strided (e.g. the q, k, v thirds of one fused qkv
    ///   projection, narrowed from [T, 3*H*Dh]) are read in place.
    /// - `queryOffsets` int64 [B+1]: set b owns query rows queryOffsets[b] ..< queryOffsets[b+1].
    /// - `keyOffsets` int64 [B+1] for the key/value rows; nil means the same as `queryOffsets`
    ///   (self-attention). Cross-attention passes different offsets with the same B.
    /// - `numHeads`: required for 2-D inputs, read from the shape of 3-D ones.
    /// - `scale`: multiplies the scores; default 1/sqrt(Dh).
    ///
    /// Returns [Tq, H*Dv] (or [Tq, H, Dv] for a 3-D query). A query whose set has no keys gets
    /// zeros (PyTorch would give NaN). Differentiable in query, key and value.
    /// ```swift
    /// let o = try Functional.packedAttention(query: q, key: k, value: v, queryOffsets: batch.offsets, numHeads: 8)
    /// ```
    public static func packedAttention(query: Tensor, key: Tensor, value: Tensor, queryOffsets: Tensor,
                                       keyOffsets: Tensor? = nil, numHeads: Int? = nil,
                                       scale: Double? = nil) throws -> Tensor {
        let op = "packed_attention"
        for (name, t) in [("query", query), ("key", key), ("value", value)] {
            try requireFloat(t, op: op, name: name)
            guard t.dim == 2 || t.dim == 3 else {
                throw TensorError("packed_attention: \(name) must be [T, H*D] or [T, H, D], got \(formatShape(t.shape))")
            }
        }
        let heads: Int
        if let numHeads {
            heads = numHeads
        } else if query.dim == 3 {
            heads = query.shape[1]
        } else {
            throw TensorError("packed_attention: num_heads is required for 2-D [T, H*D] inputs (query is \(formatShape(query.shape)))")
        }
        guard heads >= 1 else { throw TensorError("packed_attention: num_heads must be at least 1, got \(heads)") }
        func headDim(_ t: Tensor, _ name: String) throws -> Int {
            if t.dim == 3 {
                guard t.shape[1] == heads else {
                    throw TensorError("packed_attention: \(name) \(formatShape(t.shape)) has \(t.shape[1]) heads, expected \(heads)")
                }
                return t.shape[2]
            }
            guard t.shape[1] % heads == 0 else {
                throw TensorError("packed_attention: \(name) width \(t.shape[1]) (shape \(formatShape(t.shape))) is not divisible by num_heads \(heads)")
            }
            return t.shape[1] / heads
        }
        let dh = try headDim(query, "query"), dk = try headDim(key, "key"), dv = try headDim(value, "value")
        guard dk == dh else {
            throw TensorError("packed_attention: query head size \(dh) and key head size \(dk) differ (query \(formatShape(query.shape)), key \(formatShape(key.shape)))")
        }
        guard key.shape[0] == value.shape[0] else {
            throw TensorError("packed_attention: key has \(key.shape[0]) rows but value has \(value.shape[0]) (key \(formatShape(key.shape)), value \(formatShape(value.shape)))")
        }
        let qo = try Tensor.validatedOffsets(queryOffsets, rows: query.shape[0], op: "packed_attention (query offsets)")
        let ko = try Tensor.validatedOffsets(keyOffsets ?? queryOffsets, rows: key.shape[0], op: "packed_attention (key/value offsets)")
        guard qo.count == ko.count else {
            throw TensorError("packed_attention: query offsets describe \(qo.count - 1) sets but key/value offsets describe \(ko.count - 1)")
        }
        guard dh >= 1 && dv >= 1 else {
            throw TensorError("packed_attention: head sizes must be at least 1 (query/key \(dh), value \(dv))")
        }
        let s = Float(scale ?? 1 / Double(dh).squareRoot())
        guard s.isFinite else { throw TensorError("packed_attention: scale must be finite, got \(scale ?? .nan)") }

        let plan = AttentionPlan(qo: qo, ko: ko, heads: heads, dh: dh, dv: dv, scale: s)
        // Each worker holds one set's score matrix (twice in the backward).
        guard Double(plan.maxQ) * Double(AttentionPlan.rowStride(plan.maxK)) * 8 <= Double(AttentionPlan.maxScratchBytes) else {
            throw TensorError("packed_attention: a set of \(plan.maxQ) queries and \(plan.maxK) keys needs a score matrix larger than \(AttentionPlan.maxScratchBytes >> 20) MiB; split such sets")
        }
        let q = AttentionOperand(query, width: heads * dh), k = AttentionOperand(key, width: heads * dh),
            v = AttentionOperand(value, width: heads * dv)
        let tq = query.shape[0]
        let outShape = query.dim == 3 ? [tq, heads, dv] : [tq, heads * dv]
        let out = Tensor(uninitialized: outShape, dtype: .f32)
        // The log-sum-exp is only for the backward: inference skips its log per row.
        guard recording([query, key, value]) else {
            plan.forward(q, k, v, out: out.pointer(Float.self), lse: nil)
            return out
        }
        let lse = Tensor(uninitialized: [tq, heads], dtype: .f32)
        plan.forward(q, k, v, out: out.pointer(Float.self), lse: lse.pointer(Float.self))
        let sq = Saved(query, op: op), sk = Saved(key, op: op), sv = Saved(value, op: op)
        let wants = [query.requiresGrad, key.requiresGrad, value.requiresGrad]
        let shapes = [query.shape, key.shape, value.shape]
        // The backward's products run in the forward's precision, wherever backward() is called.
        let precision = Precision.current
        return Tensor.record(op, out, [query, key, value]) { g in
            let q = AttentionOperand(try sq.get(), width: heads * dh), k = AttentionOperand(try sk.get(), width: heads * dh),
                v = AttentionOperand(try sv.get(), width: heads * dv)
            let go = AttentionOperand(g, width: heads * dv)
            let grads = (0..<3).map { wants[$0] ? Tensor(uninitialized: shapes[$0], dtype: .f32) : nil }
            Precision.with(precision) {
                plan.backward(q, k, v, gradOut: go, lse: lse.pointer(Float.self),
                              gq: grads[0]?.pointer(Float.self), gk: grads[1]?.pointer(Float.self), gv: grads[2]?.pointer(Float.self))
            }
            return grads
        }
    }
}

/// A [T, width] row-major matrix that sgemm can read in place: unit stride inside a row, any
/// row stride. Other layouts are copied to contiguous first. Keeps its tensor alive.
struct AttentionOperand {
    let tensor: Tensor
    let base: UnsafeMutablePointer<Float>
    let ld: Int

    init(_ t: Tensor, width: Int) {
        let rows = t.shape[0], rowStride = t.strides[0]
        // Dims after the first must be laid out densely (size-1 dims ignored, as in isContiguous).
        var expected = 1, innerDense = true
        for i in stride(from: t.dim - 1, through: 1, by: -1) where t.shape[i] != 1 {
            if t.strides[i] != expected { innerDense = false }
            expected *= t.shape[i]
        }
        if innerDense && width >= 1 && (rows <= 1 || rowStride >= width) {
            tensor = t
            ld = rows <= 1 ? width : rowStride
        } else {
            tensor = t.contiguousData()
            ld = Swift.max(width, 1)
        }
        base = tensor.pointer(Float.self)
    }
}

/// The sets, heads and sizes of one attention call, and its two kernels.
struct AttentionPlan {
    let qo: [Int], ko: [Int]
    let heads: Int, dh: Int, dv: Int
    let scale: Float
    /// (set, head) pairs with work to do, most expensive first, so that dealing them out
    /// round-robin gives every worker a similar load.
    let pairs: [(Int, Int)]
    let maxQ: Int, maxK: Int

    init(qo: [Int], ko: [Int], heads: Int, dh: Int, dv: Int, scale: Float) {
        self.qo = qo; self.ko = ko; self.heads = heads; self.dh = dh; self.dv = dv; self.scale = scale
        let b = qo.count - 1
        let lq = (0..<b).map { qo[$0 + 1] - qo[$0] }, lk = (0..<b).map { ko[$0 + 1] - ko[$0] }
        let cost = (0..<b).map { lq[$0] * Swift.max(lk[$0], 1) }
        let sets = (0..<b).filter { lq[$0] > 0 }.sorted { cost[$0] > cost[$1] }
        pairs = sets.flatMap { set in (0..<heads).map { (set, $0) } }
        maxQ = lq.max() ?? 0
        maxK = lk.max() ?? 0
    }

    /// Largest scratch (two score matrices) one worker may allocate.
    static let maxScratchBytes = 1 << 30

    /// Floats between score rows of a set with `keys` keys: whole vectors of FusedMath.width.
    static func rowStride(_ keys: Int) -> Int { (keys + FusedMath.width - 1) / FusedMath.width * FusedMath.width }

    /// Sets the columns keys..<stride of `rows` score rows to `value` (-inf before a softmax, 0
    /// in dP), so whole-vector loops over a row see nothing there.
    static func padColumns(_ buffer: UnsafeMutablePointer<Float>, rows: Int, keys: Int, stride: Int, value: Float) {
        if stride == keys { return }
        for i in 0..<rows { (buffer + i * stride + keys).update(repeating: value, count: stride - keys) }
    }

    /// Total multiply-adds, to decide whether threads pay off (Double: no overflow to trap on).
    var work: Double {
        var total = 0.0
        for b in 0..<(qo.count - 1) { total += Double(qo[b + 1] - qo[b]) * Double(ko[b + 1] - ko[b]) }
        return total * Double(heads * (dh + dv))
    }

    /// Runs `body(set, head, scratch)` for every pair, dealt round-robin to workers that each
    /// own a scratch buffer of `scratch` floats.
    func forEachPair(scratch: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let n = pairs.count
        if n == 0 { return }
        BLASThreads.configure()
        let workers = parallelPieces(n, work: work, threshold: Double(parallelThreshold * 4))
        func run(_ w: Int) {
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(scratch, 1))
            defer { buf.deallocate() }
            var i = w
            while i < n {
                body(pairs[i].0, pairs[i].1, buf)
                i += workers
            }
        }
        if workers == 1 { run(0); return }
        // The parallelism is ours: the sgemms inside run whole on each worker (Parallel.swift),
        // never split again; OpenBLAS threading each small sgemm made the workers queue on its
        // pool, 3-5x slower measured.
        parallelRegion(iterations: workers, run)
    }

    func forward(_ q: AttentionOperand, _ k: AttentionOperand, _ v: AttentionOperand,
                 out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>?) {
        let ldo = heads * dv
        // Rows of sets without queries are untouched by the pairs; there are none to fill.
        let widest = AttentionPlan.rowStride(maxK)
        forEachPair(scratch: maxQ * widest + maxQ) { b, h, sbuf in
            let q0 = qo[b], lq = qo[b + 1] - q0, k0 = ko[b], lk = ko[b + 1] - k0
            let o = out + q0 * ldo + h * dv
            if lk == 0 {
                for i in 0..<lq {
                    (o + i * ldo).initialize(repeating: 0, count: dv)
                    lse?[(q0 + i) * heads + h] = -.infinity
                }
                return
            }
            let ls = AttentionPlan.rowStride(lk), inverseSums = sbuf + maxQ * widest
            let qp = q.base + q0 * q.ld + h * dh, kp = k.base + k0 * k.ld + h * dh, vp = v.base + k0 * v.ld + h * dv
            AttentionPlan.padColumns(sbuf, rows: lq, keys: lk, stride: ls, value: -.infinity)
            Products.gemm(transA: false, transB: true, m: lq, n: lk, k: dh,
                          alpha: scale, a: qp, lda: q.ld, b: kp, ldb: k.ld, beta: 0, c: sbuf, ldc: ls)
            for i in 0..<lq {
                let row = sbuf + i * ls
                let m = FusedMath.max(row, ls)
                let sum = FusedMath.expSubStore(row, into: row, ls, minus: m)
                inverseSums[i] = Float(1 / sum)
                lse?[(q0 + i) * heads + h] = m + Float(Foundation.log(sum))
            }
            Products.gemm(transA: false, transB: false, m: lq, n: dv, k: lk,
                          alpha: 1, a: sbuf, lda: ls, b: vp, ldb: v.ld, beta: 0, c: o, ldc: ldo)
            for i in 0..<lq { FusedMath.scale(o + i * ldo, into: o + i * ldo, dv, by: inverseSums[i]) }
        }
    }

    func backward(_ q: AttentionOperand, _ k: AttentionOperand, _ v: AttentionOperand, gradOut go: AttentionOperand,
                  lse: UnsafeMutablePointer<Float>,
                  gq: UnsafeMutablePointer<Float>?, gk: UnsafeMutablePointer<Float>?, gv: UnsafeMutablePointer<Float>?) {
        let wq = heads * dh, wv = heads * dv
        // Key/value rows of sets without queries receive no gradient: zero them up front.
        for b in 0..<(qo.count - 1) where qo[b + 1] == qo[b] {
            let k0 = ko[b], lk = ko[b + 1] - k0
            gk?.advanced(by: k0 * wq).initialize(repeating: 0, count: lk * wq)
            gv?.advanced(by: k0 * wv).initialize(repeating: 0, count: lk * wv)
        }
        forEachPair(scratch: 2 * maxQ * AttentionPlan.rowStride(maxK)) { b, h, buf in
            let q0 = qo[b], lq = qo[b + 1] - q0, k0 = ko[b], lk = ko[b + 1] - k0
            if lk == 0 {
                if let gq { for i in 0..<lq { (gq + (q0 + i) * wq + h * dh).initialize(repeating: 0, count: dh) } }
                return
            }
            let ls = AttentionPlan.rowStride(lk)
            let p = buf, dp = buf + lq * ls
            let qp = q.base + q0 * q.ld + h * dh, kp = k.base + k0 * k.ld + h * dh, vp = v.base + k0 * v.ld + h * dv
            let gop = go.base + q0 * go.ld + h * dv
            // P = exp(scale * Q K^T - lse); the padding columns become 0.
            AttentionPlan.padColumns(p, rows: lq, keys: lk, stride: ls, value: -.infinity)
            Products.gemm(transA: false, transB: true, m: lq, n: lk, k: dh,
                          alpha: scale, a: qp, lda: q.ld, b: kp, ldb: k.ld, beta: 0, c: p, ldc: ls)
            for i in 0..<lq {
                let row = p + i * ls
                _ = FusedMath.expSubStore(row, into: row, ls, minus: lse[(q0 + i) * heads + h])
            }
            if let gv {
                Products.gemm(transA: true, transB: false, m: lk, n: dv, k: lq,
                              alpha: 1, a: p, lda: ls, b: gop, ldb: go.ld, beta: 0, c: gv + k0 * wv + h * dv, ldc: wv)
            }
            guard gq != nil || gk != nil else { return }
            // dP = dO V^T (padding columns 0), then dS = P * (dP - rowsum(P * dP)) * scale, in
            // place of dP, in whole vectors.
            AttentionPlan.padColumns(dp, rows: lq, keys: lk, stride: ls, value: 0)
            Products.gemm(transA: false, transB: true, m: lq, n: lk, k: dv,
                          alpha: 1, a: gop, lda: go.ld, b: vp, ldb: v.ld, beta: 0, c: dp, ldc: ls)
            let sv = FusedMath.V(repeating: scale)
            for i in 0..<lq {
                let pr = p + i * ls, dr = dp + i * ls
                let d = FusedMath.V(repeating: Float(FusedMath.dot(pr, dr, ls)))
                for j in stride(from: 0, to: ls, by: FusedMath.width) {
                    FusedMath.store(FusedMath.load(pr + j) * (FusedMath.load(dr + j) - d) * sv, dr + j)
                }
            }
            if let gq {
                Products.gemm(transA: false, transB: false, m: lq, n: dh, k: lk,
                              alpha: 1, a: dp, lda: ls, b: kp, ldb: k.ld, beta: 0, c: gq + q0 * wq + h * dh, ldc: wq)
            }
            if let gk {
                Products.gemm(transA: true, transB: false, m: lk, n: dh, k: lq,
                              alpha: 1, a: dp, lda: ls, b: qp, ldb: q.ld, beta: 0, c: gk + k0 * wq + h * dh, ldc: wq)
            }
        }
    }
}
