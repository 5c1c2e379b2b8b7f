import Foundation
import Tensors

/// The Frechet physics distance (FPD; Kansal et al., arXiv:2211.10295): the Frechet distance
/// of Gaussians fitted to two sets of jet-level features, extrapolated to infinite samples.
extension Generative {
    /// jetnet's `fpd` settings: `points` sample sizes evenly spaced in 1/N between
    /// `minSamples` and `maxSamples`, `batches` resamplings (with replacement) at each.
    public struct FrechetSettings: Sendable {
        public var minSamples = 20_000
        public var maxSamples = 50_000
        public var batches = 20
        public var points = 10
        public var seed: UInt64 = 42
        public init() {}
    }

    /// The Frechet distance of Gaussians fitted to the rows of `x` and `y` (mean and unbiased
    /// covariance each): |mu_x - mu_y|^2 + tr(S_x + S_y - 2 (S_x S_y)^(1/2)), jetnet's
    /// `_calculate_frechet_distance`. tr (S_x S_y)^(1/2) is the sum of the square roots of the
    /// eigenvalues of S_x^(1/2) S_y S_x^(1/2) (symmetric, same spectrum as S_x S_y), both
    /// decompositions by LAPACK dsyevd; eigenvalues rounded below 0 count as 0.
    ///
    /// ```swift
    /// try Generative.frechetDistance(x, x)   // 0 up to rounding
    /// ```
    public static func frechetDistance(_ x: FeatureMatrix, _ y: FeatureMatrix, function: String = "frechet_distance") throws -> Double {
        try sameColumns(x, y, function: function)
        guard x.rows >= 2, y.rows >= 2 else { throw TensorError("\(function): a covariance needs at least 2 rows on each side (got \(x.rows) and \(y.rows))") }
        let (meanX, covarianceX) = gaussian(x), (meanY, covarianceY) = gaussian(y)
        let n = x.columns
        let (values, vectors) = try LinearAlgebra.symmetricEigen(covarianceX, n: n)
        // S_x^(1/2) = V diag(sqrt(w)) V^T.
        var scaled = vectors
        for i in 0..<n { for j in 0..<n { scaled[i * n + j] *= Swift.max(values[j], 0).squareRoot() } }
        let root = product(scaled, vectors, n, transposeB: true)
        let middle = product(product(root, covarianceY, n), root, n)
        // Symmetrise the rounding of the products before the symmetric solver reads one triangle.
        var symmetric = middle
        for i in 0..<n { for j in 0..<n { symmetric[i * n + j] = 0.5 * (middle[i * n + j] + middle[j * n + i]) } }
        let traceRoot = try LinearAlgebra.symmetricEigen(symmetric, n: n).values.reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
        var distance = 0.0
        for c in 0..<n {
            distance += (meanX[c] - meanY[c]) * (meanX[c] - meanY[c]) + covarianceX[c * n + c] + covarianceY[c * n + c]
        }
        return distance - 2 * traceRoot
    }

    /// FPD as jetnet's `fpd` computes it: both feature sets divided by the largest |value| of
    /// each feature in `x` (the real one), then at each of `settings.points` sample sizes N
    /// the mean Frechet distance over `settings.batches` pairs of resamplings of N rows; a line
    /// a + b / N fitted through those means with a, b >= 0; the value is a (the distance of
    /// infinite samples) and the error the fit's standard error of a (scipy's curve_fit
    /// covariance). The resampling uses this package's generator, so values agree with
    /// jetnet's to within their errors, not digit for digit.
    ///
    /// ```swift
    /// let e = try Generative.fpd(Generative.efps(real), Generative.efps(generated))   // e.value, e.error
    /// ```
    public static func fpd(_ x: FeatureMatrix, _ y: FeatureMatrix, settings: FrechetSettings = FrechetSettings(),
                           function: String = "fpd") throws -> Estimate {
        try sameColumns(x, y, function: function)
        guard x.rows >= 1, y.rows >= 1 else { throw TensorError("\(function): a sample is empty (\(x.rows) and \(y.rows) rows)") }
        // The upper limits keep a mistyped option from allocating without bound or running for hours.
        guard settings.minSamples >= 2, settings.maxSamples >= settings.minSamples, settings.maxSamples <= 1_000_000,
              (1...1000).contains(settings.batches), (3...100).contains(settings.points) else {
            throw TensorError("\(function): needs 2 <= min_samples <= max_samples <= 1000000, batches in 1..1000 and points in 3..100 "
                              + "(a line and its error), got \(settings.minSamples), \(settings.maxSamples), \(settings.batches), \(settings.points)")
        }
        let (a, b) = x.normalising(y)
        // numpy's linspace of 1/N, then int32 truncation of its inverse, as jetnet does.
        let start = 1 / Double(settings.minSamples), stop = 1 / Double(settings.maxSamples)
        let step = (stop - start) / Double(settings.points - 1)
        let sizes = (0..<settings.points).map { i in Int(1 / (i == settings.points - 1 ? stop : start + Double(i) * step)) }
        var random = Xoshiro256(seed: settings.seed)
        var means = [Double]()
        for size in sizes {
            var total = 0.0
            for _ in 0..<settings.batches {
                let first = a.rows(draw(size, from: a.rows, &random)), second = b.rows(draw(size, from: b.rows, &random))
                total += try frechetDistance(first, second, function: function)
            }
            means.append(total / Double(settings.batches))
        }
        return nonNegativeLine(x: sizes.map { 1 / Double($0) }, y: means)
    }

    /// The mean and the unbiased covariance (n - 1, numpy's `cov`) of the rows, the
    /// covariance by BLAS dgemm on the centred rows.
    static func gaussian(_ m: FeatureMatrix) -> (mean: [Double], covariance: [Double]) {
        let n = m.columns
        var mean = [Double](repeating: 0, count: n)
        for r in 0..<m.rows { for c in 0..<n { mean[c] += m.values[r * n + c] } }
        for c in 0..<n { mean[c] /= Double(m.rows) }
        let centred = m.values.enumerated().map { $1 - mean[$0 % n] }
        var covariance = centred.withUnsafeBufferPointer { p in
            LinearAlgebra.multiply(p, p, m: n, k: m.rows, n: n, transposeA: true)
        }
        for i in 0..<covariance.count { covariance[i] /= Double(m.rows - 1) }
        return (mean, covariance)
    }

    /// a b for n x n row-major matrices (b transposed when asked).
    private static func product(_ a: [Double], _ b: [Double], _ n: Int, transposeB: Bool = false) -> [Double] {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in LinearAlgebra.multiply(pa, pb, m: n, k: n, n: n, transposeB: transposeB) }
        }
    }

    /// The least-squares line y = a + b x with a, b >= 0 (what curve_fit with those bounds
    /// converges to: the unconstrained fit, or the best fit on a bound) and the standard
    /// error of a: sqrt([(J^T J)^-1]_00 * SSR / (n - 2)) with J = [1, x], curve_fit's
    /// covariance when the errors are not given.
    static func nonNegativeLine(x: [Double], y: [Double]) -> Estimate {
        let n = Double(x.count)
        let sx = x.reduce(0, +), sy = y.reduce(0, +)
        let sxx = x.reduce(0) { $0 + $1 * $1 }, sxy = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
        let determinant = n * sxx - sx * sx
        func residual(_ a: Double, _ b: Double) -> Double { zip(x, y).reduce(0) { $0 + ($1.1 - a - b * $1.0) * ($1.1 - a - b * $1.0) } }
        var candidates: [(a: Double, b: Double)] = [(0, Swift.max(0, sxy / sxx)), (Swift.max(0, sy / n), 0)]
        let b = (n * sxy - sx * sy) / determinant, a = (sy - b * sx) / n
        if a >= 0 && b >= 0 { candidates = [(a, b)] }
        let best = candidates.min { residual($0.a, $0.b) < residual($1.a, $1.b) }!
        let varianceA = sxx / determinant * residual(best.a, best.b) / (n - 2)
        return Estimate(value: best.a, error: Swift.max(varianceA, 0).squareRoot())
    }
}
