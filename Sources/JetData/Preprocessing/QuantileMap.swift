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
        let q = quantiles, r = references, last = q.count - 1
        let u: Double
        if x - QuantileMap.boundsThreshold < q[0] {
            u = 0
        } else if x + QuantileMap.boundsThreshold > q[last] {
            u = 1
        } else {
            // Ascending interpolation: the last j with q[j] <= x.
            var lo = 0, hi = q.count
            while lo < hi { let m = (lo + hi) >> 1; if q[m] <= x { lo = m + 1 } else { hi = m } }
            let j = lo - 1
            let up = j >= last ? r[last] : r[j] + (r[j + 1] - r[j]) * (x - q[j]) / (q[j + 1] - q[j])
            // Descending interpolation: the first i with q[i] >= x.
            lo = 0; hi = q.count
            while lo < hi { let m = (lo + hi) >> 1; if q[m] < x { lo = m + 1 } else { hi = m } }
            let i = lo
            let down = i == 0 ? r[0] : r[i] - (r[i] - r[i - 1]) * (q[i] - x) / (q[i] - q[i - 1])
            u = 0.5 * (up + down)
        }
        let y = NormalDistribution.quantile(u)
        return min(max(y, -QuantileMap.clip), QuantileMap.clip)
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
