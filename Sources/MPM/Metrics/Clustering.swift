import Tensors

/// Agreement of two partitions of the same points: the adjusted Rand index of scikit-learn's
/// `adjusted_rand_score` (Hubert and Arabie's, from the contingency table). Labels are any
/// integers (not necessarily consecutive, negative allowed); only which points share a label
/// matters. This is the textbook ARI; the MPMv2 reference's own pair-logit formula is not it.
///
/// With n_ij the contingency table, a_i and b_j its row and column sums, and pairs counted as
/// ordered pairs: tp = sum n_ij^2 - n (together in both), fp = sum b_j^2 - sum n_ij^2,
/// fn = sum a_i^2 - sum n_ij^2, tn = n^2 - tp - fp - fn - n, and
/// ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)).
/// Degenerate cases, as scikit-learn: when fp = fn = 0 (the two partitions are the same, which
/// includes both being one cluster, both putting every point in its own cluster, and a single
/// point) the ARI is 1.0.
///
/// ```swift
/// let ari = try Metrics.adjustedRandIndex(Tensor([0, 0, 1, 1] as [Int64]), Tensor([5, 5, 7, 7] as [Int64]))  // 1.0
/// ```
extension Metrics {
    /// The adjusted Rand index of two labellings [N] of the same points (1 = identical
    /// partitions, about 0 for independent random ones, negative below chance).
    public static func adjustedRandIndex(_ truth: Tensor, _ predicted: Tensor) throws -> Double {
        let function = "adjusted_rand_index"
        let a = try integers(truth, function, "truth"), b = try integers(predicted, function, "pred")
        try sameLength(a.count, "truth", b.count, "pred", function)
        return adjustedRandIndex(a, b)
    }

    /// The adjusted Rand index of two labellings of the same length (checked by the caller).
    static func adjustedRandIndex(_ a: [Int64], _ b: [Int64]) -> Double {
        var rows: [Int64: Int] = [:], columns: [Int64: Int] = [:], cells: [Pair: Int] = [:]
        for (u, v) in zip(a, b) {
            rows[u, default: 0] += 1
            columns[v, default: 0] += 1
            cells[Pair(u: u, v: v), default: 0] += 1
        }
        func squares(_ counts: Dictionary<some Hashable, Int>.Values) -> Int { counts.reduce(0) { $0 + $1 * $1 } }
        let n = a.count, together = squares(cells.values)
        let tp = together - n, fp = squares(columns.values) - together, fn = squares(rows.values) - together
        let tn = n * n - tp - fp - fn - n
        if fp == 0 && fn == 0 { return 1.0 }
        let (dtp, dfp, dfn, dtn) = (Double(tp), Double(fp), Double(fn), Double(tn))
        return 2 * (dtp * dtn - dfn * dfp) / ((dtp + dfn) * (dfn + dtn) + (dtp + dfp) * (dfp + dtn))
    }

    private struct Pair: Hashable { let u: Int64, v: Int64 }
}
