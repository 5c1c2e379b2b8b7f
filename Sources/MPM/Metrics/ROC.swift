import Foundation
import Tensors

/// Binary ROC curves and the numbers read off them: the area under the curve, the significance
/// improvement SIC = tpr / sqrt(fpr + 1e-12) of the MPMv2 CWoLa protocol, and the background
/// rejection 1 / fpr at a signal efficiency.
///
/// The curve has the points of scikit-learn's `roc_curve(drop_intermediate=False)`: samples
/// sorted by descending score (O(N log N)), one point per distinct score (tied scores are
/// merged into one step, so a tie counts half in the area), preceded by the point (0, 0) with
/// threshold +inf. Point k says: everything scoring >= thresholds[k] is called signal. Labels
/// are booleans or 0/1 (1 = signal); both classes must be present.
///
/// ```swift
/// let curve = try Metrics.rocCurve(scores: s, labels: y)
/// let auc = curve.auc
/// let cwola = try Metrics.sic(scores: s, labels: y, fpr: 0.01)   // cwola.sic, cwola.tpr, cwola.fpr
/// ```
extension Metrics {
    /// The points of a ROC curve, as counts (exact) and rates.
    public struct ROCCurve {
        /// Descending score thresholds; the first is +inf.
        public let thresholds: [Double]
        /// Signal samples scoring >= each threshold (0 at the first point).
        public let truePositives: [Int]
        /// Background samples scoring >= each threshold (0 at the first point).
        public let falsePositives: [Int]
        /// Signal and background sample counts (both at least 1).
        public let positives: Int, negatives: Int

        /// False positive rate of each point, from 0 to 1.
        public var fpr: [Double] { falsePositives.map { Double($0) / Double(negatives) } }
        /// True positive rate (signal efficiency) of each point, from 0 to 1.
        public var tpr: [Double] { truePositives.map { Double($0) / Double(positives) } }

        /// The area under the curve by the trapezoid rule, which equals the probability that a
        /// random signal sample outscores a random background one, ties counting half
        /// (scikit-learn's `roc_auc_score`).
        public var auc: Double {
            var twiceArea = 0.0
            for k in 1..<thresholds.count {
                twiceArea += Double(falsePositives[k] - falsePositives[k - 1]) * Double(truePositives[k] + truePositives[k - 1])
            }
            return twiceArea / (2 * Double(positives) * Double(negatives))
        }

        /// The point whose false positive rate is closest to `fpr` (the first such on a tie).
        public func point(closestToFPR fpr: Double) -> OperatingPoint { point(closestTo: fpr, in: self.fpr) }

        /// The point whose true positive rate is closest to `tpr` (the first such on a tie).
        public func point(closestToTPR tpr: Double) -> OperatingPoint { point(closestTo: tpr, in: self.tpr) }

        private func point(closestTo target: Double, in rates: [Double]) -> OperatingPoint {
            var best = 0
            for k in 1..<rates.count where Swift.abs(rates[k] - target) < Swift.abs(rates[best] - target) { best = k }
            return OperatingPoint(index: best, threshold: thresholds[best], tpr: tpr[best], fpr: fpr[best])
        }

        /// fpr, tpr and thresholds as float32 tensors [M].
        public func tensors() throws -> (fpr: Tensor, tpr: Tensor, thresholds: Tensor) {
            (try Tensor(fpr.map(Float.init), shape: [fpr.count]), try Tensor(tpr.map(Float.init), shape: [tpr.count]),
             try Tensor(thresholds.map(Float.init), shape: [thresholds.count]))
        }
    }

    /// One point of a ROC curve, with the figures of merit read there.
    public struct OperatingPoint {
        /// Position in the curve (0 is the (0, 0) point at threshold +inf).
        public let index: Int
        public let threshold: Double, tpr: Double, fpr: Double
        /// tpr / sqrt(fpr + 1e-12), the MPMv2 reference's significance improvement.
        public var sic: Double { tpr / (fpr + 1e-12).squareRoot() }
        /// Background rejection 1 / fpr; +inf where no background passes (fpr = 0).
        public var rejection: Double { fpr == 0 ? .infinity : 1 / fpr }
    }

    /// The ROC curve of `scores` [N] (higher = more signal-like) against binary `labels` [N].
    public static func rocCurve(scores: Tensor, labels: Tensor) throws -> ROCCurve {
        try rocCurve(scores, labels, "roc_curve")
    }

    /// The area under the ROC curve, equal to scikit-learn's `roc_auc_score` (ties included).
    public static func rocAUC(scores: Tensor, labels: Tensor) throws -> Double {
        try rocCurve(scores, labels, "roc_auc").auc
    }

    /// The SIC at the point whose fpr is closest to `fpr` (MPMv2: 0.01); `.sic`, `.tpr`, `.fpr`.
    public static func sic(scores: Tensor, labels: Tensor, fpr: Double = 0.01) throws -> OperatingPoint {
        try checkRate(fpr, "sic", "fpr")
        return try rocCurve(scores, labels, "sic").point(closestToFPR: fpr)
    }

    /// The background rejection at the point whose tpr is closest to `efficiency`; `.rejection`
    /// is +inf when that point lets no background through.
    public static func rejection(scores: Tensor, labels: Tensor, efficiency: Double = 0.5) throws -> OperatingPoint {
        try checkRate(efficiency, "rejection", "efficiency")
        return try rocCurve(scores, labels, "rejection").point(closestToTPR: efficiency)
    }

    static func checkRate(_ value: Double, _ function: String, _ name: String) throws {
        guard value >= 0 && value <= 1 else { throw TensorError("\(function): \(name) must be between 0 and 1, got \(number(value))") }
    }

    static func rocCurve(_ scoreTensor: Tensor, _ labelTensor: Tensor, _ function: String) throws -> ROCCurve {
        let s = try scores(scoreTensor, function), y = try binaryLabels(labelTensor, function)
        try sameLength(s.count, "scores", y.count, "labels", function)
        let positives = y.lazy.filter { $0 }.count, negatives = y.count - positives
        guard positives > 0 && negatives > 0 else {
            throw TensorError("\(function): only one class present in labels (\(positives) signal, \(negatives) background); "
                              + "the ROC curve needs both")
        }
        let order = (0..<s.count).sorted { s[$0] > s[$1] }
        var thresholds = [Double.infinity], tps = [0], fps = [0]
        var tp = 0, fp = 0
        for (rank, i) in order.enumerated() {
            if y[i] { tp += 1 } else { fp += 1 }
            // A point closes after the last sample of each distinct score.
            if rank == order.count - 1 || s[order[rank + 1]] != s[i] {
                thresholds.append(s[i]); tps.append(tp); fps.append(fp)
            }
        }
        return ROCCurve(thresholds: thresholds, truePositives: tps, falsePositives: fps,
                        positives: positives, negatives: negatives)
    }
}
