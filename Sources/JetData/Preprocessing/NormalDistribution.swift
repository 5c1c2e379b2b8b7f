import Foundation

/// The standard normal's CDF and quantile function, as scipy.stats.norm.cdf / ppf.
enum NormalDistribution {
    /// Φ(x).
    @inline(__always) static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.2e-9, far below float32
    /// resolution); `refine` adds one Halley step on erfc for full double accuracy.
    static func quantile(_ p: Double, refine: Bool = false) -> Double {
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
        let low = 0.02425, high = 1 - low
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
        } else if p <= high {
            let q = p - 0.5, r = q * q
            x = (((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q
                / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
        }
        if refine {
            let e = cdf(x) - p
            let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
            x -= u / (1 + x * u / 2)
        }
        return x
    }

    private static let a0 = -3.969683028665376e+01, a1 = 2.209460984245205e+02, a2 = -2.759285104469687e+02
    private static let a3 = 1.383577518672690e+02, a4 = -3.066479806614716e+01, a5 = 2.506628277459239e+00
    private static let b0 = -5.447609879822406e+01, b1 = 1.615858368580409e+02, b2 = -1.556989798598866e+02
    private static let b3 = 6.680131188771972e+01, b4 = -1.328068155288572e+01
    private static let c0 = -7.784894002430293e-03, c1 = -3.223964580411365e-01, c2 = -2.400758277161838e+00
    private static let c3 = -2.549732539343734e+00, c4 = 4.374664141464968e+00, c5 = 2.938163982698783e+00
    private static let d0 = 7.784695709041462e-03, d1 = 3.224671290700398e-01, d2 = 2.445134137142996e+00
    private static let d3 = 3.754408661907416e+00
}
