/// One feature's quantile-to-normal map, exactly as sklearn's
/// `QuantileTransformer(output_distribution="normal")` computes it (`_transform_col`):
/// values within 1e-7 of the lowest/highest quantile map to the bounds, others are interpolated
/// both ascending and descending and averaged (so ties land mid-way), then sent through Φ⁻¹ and
/// clipped to ±Φ⁻¹(1e-7 - eps) ≈ ±5.1993.
struct QuantileMap {
    /// Fitted quantiles, non-decreasing.
    let quantiles: [Double]
    /// Their probabilities: evenly spaced on [0, 1].
    let references: [Double]

    static let boundsThreshold = 1e-7
    /// sklearn's clip: Φ⁻¹(BOUNDS_THRESHOLD - np.spacing(1)).
    static let clip = -NormalDistribution.quantile(boundsThreshold - Double.ulpOfOne, refine: true)

    /// Fits `count` quantiles to `values` as numpy's percentile with linear interpolation, made
    /// non-decreasing as sklearn does.
    static func fit(_ values: [Float], count: Int) -> QuantileMap {
        let sorted = values.map(Double.init).sorted()
        let n = sorted.count
        let k = max(2, min(count, n))
        let refs = (0..<k).map { Double($0) / Double(k - 1) }
        var q = refs.map { p -> Double in
            let h = Double(n - 1) * p
            let lo = Int(h.rounded(.down))
            let hi = min(lo + 1, n - 1)
            return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
        }
        for i in 1..<q.count where q[i] < q[i - 1] { q[i] = q[i - 1] }
        return QuantileMap(quantiles: q, references: refs)
    }

    /// Physical value -> standard normal.
    @inline(__always) func forward(_ x: Double) -> Double {
        quantiles.withUnsafeBufferPointer { q in
            references.withUnsafeBufferPointer { r in
                let last = q.count - 1
                let u: Double
                if x - QuantileMap.boundsThreshold < q[0] {
                    u = 0
                } else if x + QuantileMap.boundsThreshold > q[last] {
                    u = 1
                } else {
                    // j: the last index with q[j] <= x (ascending interpolation starts there).
                    // Branch-free halving (q[0] <= x holds here), so it compiles to
                    // conditional moves instead of mispredicted branches.
                    var j = 0, n = q.count
                    while n > 1 {
                        let half = n >> 1
                        j = q[j + half] <= x ? j + half : j
                        n -= half
                    }
                    if q[j] < x {
                        // Strictly between two quantiles: both interpolation directions agree.
                        u = r[j] + (r[j + 1] - r[j]) * (x - q[j]) / (q[j + 1] - q[j])
                    } else {
                        // On a (possibly repeated) quantile: ascending gives the last of the run,
                        // descending the first; sklearn averages them.
                        var i = j
                        while i > 0 && q[i - 1] == x { i -= 1 }
                        u = 0.5 * (r[j] + r[i])
                    }
                }
                let y = NormalDistribution.quantile(u)
                return min(max(y, -QuantileMap.clip), QuantileMap.clip)
            }
        }
    }

    /// Standard normal -> physical value.
    @inline(__always) func inverse(_ y: Double) -> Double {
        let q = quantiles, r = references, last = q.count - 1
        let u = NormalDistribution.cdf(y)
        if u - QuantileMap.boundsThreshold < 0 { return q[0] }
        if u + QuantileMap.boundsThreshold > 1 { return q[last] }
        var lo = 0, hi = r.count
        while lo < hi { let m = (lo + hi) >> 1; if r[m] <= u { lo = m + 1 } else { hi = m } }
        let j = lo - 1
        if j >= last { return q[last] }
        return q[j] + (q[j + 1] - q[j]) * (u - r[j]) / (r[j + 1] - r[j])
    }
}
