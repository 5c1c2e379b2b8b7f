import Tensors

/// Metrics of the per-particle downstream protocols (MPMv2 Figures 4b, 4c): vertex finding from
/// pair decisions, and accuracies per group (track multiplicity).
///
/// Pair decisions come in the layout of `Tensor.setPairs`: for a set of n points, the pairs
/// (0,1), (0,2), ..., (0,n-1), (1,2), ..., (n-2,n-1); a pair is "together" when its score is
/// > 0 (a logit; `true` for booleans).
///
/// The reference's ARI (`referenceAdjustedRandIndex`), from the MPMv2 code: RI = the share of
/// pairs whose decision (score > 0, no transitive closure) agrees with the truth (same label);
/// its expectation for a uniformly random partition of the n points is E = b g + (1 - b)(1 - g)
/// with b = B(n-1)/B(n) (Bell numbers: the probability that two given points share a cluster)
/// and g = sum_v C(n_v, 2) / C(n, 2) (the share of truly-together pairs); ARI = (RI - E)/(1 - E).
/// Our definitions where the reference's is undefined: n <= 1 (no pairs) gives 1.0, as
/// scikit-learn's ARI of a single point; 1 - E = 0 cannot happen for n >= 2 (0 < b < 1 makes
/// E <= max(b, 1 - b) < 1), and would give 1.0 when RI = 1 and 0.0 otherwise.
///
/// ```swift
/// let r = try Metrics.pairPartition(pairScores: logits, truth: vertexIds, offsets: batch.offsets)
/// r.ari[0], r.ariReference[0]          // jet 1: standard (of the connected components) and reference
/// ```
extension Metrics {
    /// B(n-1)/B(n) for n = 1 ... count (index n - 1), from the Bell triangle rescaled row by row
    /// (row r runs from B(r) to B(r+1)), so no Bell number overflows.
    static func bellRatios(_ count: Int) -> [Double] {
        var ratios: [Double] = [], row: [Double] = [1]
        for _ in 0..<count {
            // row r = [B(r), ..., B(r+1)] (scaled): B(r)/B(r+1) is b for n = r + 1
            ratios.append(row.first! / row.last!)
            var next = [row.last!]
            for k in 0..<row.count { next.append(next[k] + row[k]) }
            let scale = next.last!
            row = next.map { $0 / scale }
        }
        return ratios
    }

    /// The reference ARI of one set: pair decisions (triangle layout) against truth labels [n].
    static func referenceARI(_ together: ArraySlice<Bool>, _ truth: ArraySlice<Int64>, bell: [Double]) -> Double {
        let n = truth.count
        if n <= 1 { return 1.0 }
        let labels = Array(truth)
        var agree = 0, k = together.startIndex
        var sizes: [Int64: Int] = [:]
        for i in 0..<n {
            sizes[labels[i], default: 0] += 1
            for j in (i + 1)..<n {
                if together[k] == (labels[i] == labels[j]) { agree += 1 }
                k += 1
            }
        }
        let pairs = Double(n * (n - 1) / 2)
        let ri = Double(agree) / pairs
        let g = Double(sizes.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }) / pairs
        let b = bell[n - 1]
        let e = b * g + (1 - b) * (1 - g)
        if 1 - e == 0 { return ri == 1 ? 1.0 : 0.0 }
        return (ri - e) / (1 - e)
    }

    /// Cluster labels 0, 1, ... (in order of first appearance) of the connected components of
    /// the graph on n points whose edges are the pairs decided together (triangle layout).
    static func components(_ together: ArraySlice<Bool>, n: Int) -> [Int64] {
        var parent = Array(0..<n)
        func root(_ a: Int) -> Int {
            var a = a
            while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
            return a
        }
        var k = together.startIndex
        for i in 0..<n {
            for j in (i + 1)..<Swift.max(i + 1, n) {
                if together[k] { let (a, b) = (root(i), root(j)); if a != b { parent[Swift.max(a, b)] = Swift.min(a, b) } }
                k += 1
            }
        }
        var names: [Int: Int64] = [:]
        return (0..<n).map { i in
            let r = root(i)
            if let v = names[r] { return v }
            let v = Int64(names.count)
            names[r] = v
            return v
        }
    }

    /// Pair decisions (score > 0) of a 1-D tensor of pair scores, logits or booleans.
    static func pairDecisions(_ t: Tensor, _ function: String) throws -> [Bool] {
        let v = try values(t, function, "pair_scores")
        if let i = v.firstIndex(where: { $0.isNaN }) {
            throw TensorError("\(function): pair_scores contain NaN (the first at element \(i + 1) of \(v.count))")
        }
        return v.map { $0 > 0 }
    }

    static func checkPairCount(_ pairs: Int, points n: Int, _ function: String, set: Int? = nil) throws {
        // n (n - 1) / 2 overflows for n near 2^32 (n comes from the caller, e.g. Lua): no pair
        // list that long can exist, so an overflowing count is a mismatch like any other.
        let (product, overflow) = n.multipliedReportingOverflow(by: n - 1)
        guard !overflow, pairs == product / 2 else {
            let whose = set.map { "set \($0 + 1) has" } ?? "truth has"
            let expected = overflow ? "more than \(Int.max / 2)" : "\(product / 2)"
            throw TensorError("\(function): \(whose) \(n) points, so \(expected) pairs, but pair_scores give \(pairs)")
        }
    }

    /// The reference's pair-based ARI of one set (see above): pair scores [n(n-1)/2] in the
    /// triangle layout against truth labels [n].
    public static func referenceAdjustedRandIndex(pairScores: Tensor, truth: Tensor) throws -> Double {
        let f = "adjusted_rand_index_reference"
        let together = try pairDecisions(pairScores, f), labels = try integers(truth, f, "truth")
        guard !labels.isEmpty else { throw TensorError("\(f): truth is empty (a set needs at least one point)") }
        try checkPairCount(together.count, points: labels.count, f)
        return referenceARI(together[...], labels[...], bell: bellRatios(labels.count))
    }

    /// Cluster labels (counting from `base`) of the connected components of one set's pair
    /// decisions [n(n-1)/2] over n points.
    public static func connectedComponents(pairScores: Tensor, points n: Int, base: IndexBase = .zero) throws -> Tensor {
        let f = "connected_components"
        guard n >= 1 else { throw TensorError("\(f): n must be at least 1, got \(n)") }
        let together = try pairDecisions(pairScores, f)
        try checkPairCount(together.count, points: n, f)
        return try Tensor(components(together[...], n: n).map { $0 + Int64(base.value) }, shape: [n])
    }

    public struct PairPartition {
        /// Per set: the standard ARI of the connected components against the truth, and the reference ARI.
        public var ari: [Double]
        public var ariReference: [Double]
        /// Per point: its component's label inside its set, counting from 0.
        public var clusters: [Int64]
    }

    /// Vertex finding over a packed batch: pair scores [P] (layout of `Tensor.setPairs` over
    /// `offsets`), truth labels [T] (vertex ids) and offsets [B+1]; per set the standard ARI
    /// (scikit-learn's, of the partition into connected components of the pairs decided
    /// together) and the reference ARI, and the components themselves.
    public static func pairPartition(pairScores: Tensor, truth: Tensor, offsets: Tensor) throws -> PairPartition {
        let f = "pair_partition"
        let together = try pairDecisions(pairScores, f), labels = try integers(truth, f, "truth")
        let o = try Tensor.validatedOffsets(offsets, rows: labels.count, op: f)
        let pairs = Tensor.pairBounds(o)
        guard pairs.last! == together.count else {
            throw TensorError("\(f): the sets of offsets hold \(pairs.last!) pairs, but pair_scores give \(together.count)")
        }
        let bell = bellRatios(zip(o.dropFirst(), o).map { $0 - $1 }.max() ?? 0)
        var result = PairPartition(ari: [], ariReference: [], clusters: [])
        for b in 0..<(o.count - 1) {
            let n = o[b + 1] - o[b], decided = together[pairs[b]..<pairs[b + 1]], truthOfSet = labels[o[b]..<o[b + 1]]
            let clusters = components(decided, n: n)
            result.clusters += clusters
            result.ari.append(n == 0 ? 1.0 : adjustedRandIndex(Array(truthOfSet), clusters))
            result.ariReference.append(referenceARI(decided, truthOfSet, bell: bell))
        }
        return result
    }

    public struct GroupScore {
        public var group: Int64
        public var value: Double
        public var count: Int
    }

    /// Balanced accuracy (mean recall over the classes present) within each group of samples
    /// (e.g. the tracks of jets with the same multiplicity): groups [N] integers, pred and
    /// labels as in `balancedAccuracy`. Sorted by group, with the number of samples of each.
    public static func balancedAccuracyByGroup(_ predictions: Tensor, _ labels: Tensor, groups: Tensor,
                                               classBase: IndexBase = .zero) throws -> [GroupScore] {
        let f = "balanced_accuracy_by_group"
        let (pred, truth, _) = try classPairs(predictions, labels, base: classBase, f)
        let g = try integers(groups, f, "groups")
        try sameLength(g.count, "groups", truth.count, "labels", f)
        var members: [Int64: [Int]] = [:]
        for (i, k) in g.enumerated() { members[k, default: []].append(i) }
        return members.keys.sorted().map { k in
            let rows = members[k]!
            return GroupScore(group: k, value: balancedAccuracy(rows.map { pred[$0] }, rows.map { truth[$0] }), count: rows.count)
        }
    }
}
