import Foundation
import Tensors

/// The kernel physics distance (KPD; Kansal et al., arXiv:2211.10295): the maximum mean
/// discrepancy of jet-level features under a polynomial kernel, estimated on random blocks.
extension Generative {
    /// The unbiased quadratic estimate of the squared MMD of the rows of `x` [m, F] and `y`
    /// [n, F] under k(a, b) = (a.b / F + 1)^degree, jetnet's `_mmd_poly_quadratic_unbiased`:
    /// the mean of k over distinct pairs within x, plus that within y, minus twice the mean
    /// of k over all pairs across. Gram blocks by BLAS dgemm, 256 rows at a time.
    ///
    /// ```swift
    /// try Generative.mmd(x, y)   // about 0 when x and y come from one distribution
    /// ```
    public static func mmd(_ x: FeatureMatrix, _ y: FeatureMatrix, degree: Int = 4, function: String = "mmd") throws -> Double {
        try sameColumns(x, y, function: function)
        guard x.rows >= 2, y.rows >= 2 else { throw TensorError("\(function): needs at least 2 rows on each side (got \(x.rows) and \(y.rows))") }
        guard (1...10).contains(degree) else { throw TensorError("\(function): degree must be between 1 and 10, got \(degree)") }
        let gamma = 1 / Double(x.columns)
        func kernel(_ g: Double) -> Double {
            let base = g * gamma + 1
            var power = 1.0
            for _ in 0..<degree { power *= base }
            return power
        }
        // The sum of k over all pairs (a row of a, a row of b), and over the diagonal pairs when
        // a and b are one matrix.
        func sums(_ a: FeatureMatrix, _ b: FeatureMatrix, same: Bool) -> (all: Double, diagonal: Double) {
            let chunk = 256, f = a.columns
            var all = 0.0, diagonal = 0.0
            a.values.withUnsafeBufferPointer { pa in
                b.values.withUnsafeBufferPointer { pb in
                    for lo in stride(from: 0, to: a.rows, by: chunk) {
                        let rows = Swift.min(chunk, a.rows - lo)
                        let block = UnsafeBufferPointer(rebasing: pa[(lo * f)..<((lo + rows) * f)])
                        let gram = LinearAlgebra.multiply(block, pb, m: rows, k: f, n: b.rows, transposeB: true)
                        all += gram.reduce(0) { $0 + kernel($1) }
                        if same { for r in 0..<rows { diagonal += kernel(gram[r * b.rows + lo + r]) } }
                    }
                }
            }
            return (all, diagonal)
        }
        let xx = sums(x, x, same: true), yy = sums(y, y, same: true), xy = sums(x, y, same: false)
        let m = Double(x.rows), n = Double(y.rows)
        return (xx.all - xx.diagonal) / (m * (m - 1)) + (yy.all - yy.diagonal) / (n * (n - 1)) - 2 * xy.all / (m * n)
    }

    /// KPD as jetnet's `kpd` computes it: both feature sets divided by the largest |value| of
    /// each feature in `x` (the real one), `mmd` on `batches` blocks of `batchSize` rows (by
    /// default as many as the smaller sample has, at most jetnet's 5000) drawn with replacement
    /// from each; the value is the median over blocks and the error half
    /// the spread between their 16.275th and 83.725th percentiles (numpy's linear
    /// interpolation). The blocks come from this package's generator, so values agree with
    /// jetnet's to within their errors, not digit for digit.
    ///
    /// ```swift
    /// let e = try Generative.kpd(Generative.efps(real), Generative.efps(generated), batchSize: 1000)
    /// ```
    public static func kpd(_ x: FeatureMatrix, _ y: FeatureMatrix, batches: Int = 10, batchSize: Int? = nil, degree: Int = 4,
                           seed: UInt64 = 42, function: String = "kpd") throws -> Estimate {
        try sameColumns(x, y, function: function)
        guard x.rows >= 1, y.rows >= 1 else { throw TensorError("\(function): a sample is empty (\(x.rows) and \(y.rows) rows)") }
        // Blocks of 5000 (jetnet's) drawn from a few hundred jets would mostly repeat them.
        let batchSize = batchSize ?? Swift.max(2, Swift.min(5000, x.rows, y.rows))
        // The upper limits keep a mistyped option from allocating without bound or running for hours.
        guard (1...1000).contains(batches), (2...50_000).contains(batchSize) else {
            throw TensorError("\(function): needs batches in 1..1000 and batch_size in 2..50000, got \(batches) and \(batchSize)")
        }
        let (a, b) = x.normalising(y)
        var random = Xoshiro256(seed: seed)
        var values = [Double]()
        for _ in 0..<batches {
            let first = a.rows(draw(batchSize, from: a.rows, &random)), second = b.rows(draw(batchSize, from: b.rows, &random))
            values.append(try mmd(first, second, degree: degree, function: function))
        }
        values.sort()
        func percentile(_ p: Double) -> Double {
            let position = p / 100 * Double(values.count - 1)
            let below = Int(position.rounded(.down)), above = Swift.min(below + 1, values.count - 1)
            return values[below] + (values[above] - values[below]) * (position - Double(below))
        }
        return Estimate(value: percentile(50), error: (percentile(83.725) - percentile(16.275)) / 2)
    }
}
