import Foundation
@testable import MPM
import Tensors
import XCTest

/// mpm.metrics kernels on inputs small enough to compute by hand; tools/metrics_oracle.py and
/// lua/tests/metrics.lua compare them with scikit-learn on large random and tied inputs.
final class MetricsTests: XCTestCase {
    private func floats(_ v: [Double]) throws -> Tensor { try Tensor(v.map(Float.init), shape: [v.count]) }
    private func ints(_ v: [Int64]) throws -> Tensor { try Tensor(v, shape: [v.count]) }

    private func assertThrows(_ body: @autoclosure () throws -> Any, _ text: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { XCTAssert("\($0)".contains(text), "\"\($0)\" lacks \"\(text)\"", line: line) }
    }

    /// scikit-learn's roc_auc_score example. Sorted by score: 0.8 (s), 0.4 (b), 0.35 (s), 0.1 (b).
    /// Signal-background pairs won: 0.8 beats both, 0.35 beats 0.1 only: AUC = 3/4.
    func testROCCurveAndAUCByHand() throws {
        let s = try floats([0.1, 0.4, 0.35, 0.8]), y = try ints([0, 0, 1, 1])
        let c = try Metrics.rocCurve(scores: s, labels: y)
        XCTAssertEqual(c.thresholds, [.infinity, 0.8, 0.4, 0.35, 0.1].map { Double(Float($0)) })
        XCTAssertEqual(c.truePositives, [0, 1, 1, 2, 2])
        XCTAssertEqual(c.falsePositives, [0, 0, 1, 1, 2])
        XCTAssertEqual(c.fpr, [0, 0, 0.5, 0.5, 1])
        XCTAssertEqual(c.tpr, [0, 0.5, 0.5, 1, 1])
        XCTAssertEqual(try Metrics.rocAUC(scores: s, labels: Tensor([false, false, true, true])), 0.75)
    }

    /// Ties: signal {0.5, 0.5}, background {0.5, 0.2}. Pairs: two ties (1/2 each) and two wins:
    /// AUC = (1/2 + 1/2 + 1 + 1) / 4 = 0.75. The three 0.5s make one ROC point.
    func testTiedScoresMergeIntoOnePoint() throws {
        let c = try Metrics.rocCurve(scores: try floats([0.5, 0.5, 0.5, 0.2]), labels: try ints([1, 0, 1, 0]))
        XCTAssertEqual(c.truePositives, [0, 2, 2])
        XCTAssertEqual(c.falsePositives, [0, 1, 2])
        XCTAssertEqual(c.auc, 0.75)
        // All scores equal: the diagonal, AUC 1/2.
        XCTAssertEqual(try Metrics.rocAUC(scores: try floats([3, 3, 3]), labels: try ints([1, 0, 0])), 0.5)
    }

    /// Eight samples, scores descending, labels s s b s b b s b. Points (fpr, tpr):
    /// (0,0) (0,.25) (0,.5) (.25,.5) (.25,.75) (.5,.75) (.75,.75) (.75,1) (1,1).
    /// Pairs won: 4 + 4 + 3 + 1 = 12 of 16, AUC = 0.75.
    func testSICAndRejectionByHand() throws {
        let s = try floats([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]), y = try ints([1, 1, 0, 1, 0, 0, 1, 0])
        XCTAssertEqual(try Metrics.rocAUC(scores: s, labels: y), 0.75)
        // fpr 0.3: the closest fpr is 0.25, first reached at tpr 0.5: SIC = 0.5 / sqrt(0.25).
        let p = try Metrics.sic(scores: s, labels: y, fpr: 0.3)
        XCTAssertEqual(p.index, 3)
        XCTAssertEqual(p.sic, 0.5 / (0.25 + 1e-12).squareRoot())
        // efficiency 0.7: closest tpr 0.75 (first at fpr 0.25): rejection 4.
        let r = try Metrics.rejection(scores: s, labels: y, efficiency: 0.7)
        XCTAssertEqual(r.rejection, 4)
        XCTAssertEqual(r.tpr, 0.75)
        // efficiency 0.4: closest tpr 0.5, at fpr 0: no background passes, rejection = inf.
        XCTAssertEqual(try Metrics.rejection(scores: s, labels: y, efficiency: 0.4).rejection, .infinity)
        // Default fpr 0.01: the closest fpr is 0, first at the (0, 0) point: SIC 0.
        XCTAssertEqual(try Metrics.sic(scores: s, labels: y).sic, 0)
    }

    /// labels 0 0 0 1 1 2, predictions 0 0 1 1 1 0: recalls 2/3, 2/2, 0/1.
    func testClassificationByHand() throws {
        let labels = try ints([0, 0, 0, 1, 1, 2]), pred = try ints([0, 0, 1, 1, 1, 0])
        XCTAssertEqual(try Metrics.accuracy(pred, labels), 4.0 / 6.0, accuracy: 1e-15)
        XCTAssertEqual(try Metrics.balancedAccuracy(pred, labels), (2.0 / 3.0 + 1 + 0) / 3, accuracy: 1e-15)
        XCTAssertEqual(try Metrics.confusionMatrix(pred, labels).toInt64Array(), [2, 1, 0, 0, 2, 0, 1, 0, 0])
        // A class only predicted (3) does not count in balanced accuracy, but sizes the matrix.
        XCTAssertEqual(try Metrics.balancedAccuracy(try ints([0, 3, 1]), try ints([0, 0, 1])), 0.75)
        XCTAssertEqual(try Metrics.confusionMatrix(try ints([0, 3, 1]), try ints([0, 0, 1])).shape, [4, 4])
        XCTAssertEqual(try Metrics.confusionMatrix(pred, labels, classes: 5).shape, [5, 5])
        // 1-based class numbers, as Lua passes them.
        XCTAssertEqual(try Metrics.accuracy(try ints([1, 2]), try ints([1, 1]), classBase: 1), 0.5)
    }

    /// Scores [N, C]: the first largest column is the prediction (row 1 ties 0 and 1 -> 0).
    func testScoresPredictFirstMaximum() throws {
        let scores = try Tensor([1, 1, 0, 0, 2, 2] as [Float], shape: [2, 3])
        XCTAssertEqual(try Metrics.confusionMatrix(scores, try ints([0, 1])).toInt64Array(), [1, 0, 0, 0, 1, 0, 0, 0, 0])
        XCTAssertEqual(try Metrics.accuracy(scores, try ints([0, 2])), 0.5)
    }

    /// Labels and scores of different problems, and one-column scores, give numbers without
    /// meaning (label 2 on 2 columns was accuracy 0.5): refused by every class metric.
    func testScoresMustCoverTheLabels() throws {
        let scores = try Tensor([1, 0, 0, 1] as [Float], shape: [2, 2]), labels = try ints([0, 2])
        let expected = "labels hold class 2 but pred has scores for 2 classes (0..1)"
        assertThrows(try Metrics.accuracy(scores, labels), "accuracy: " + expected)
        assertThrows(try Metrics.balancedAccuracy(scores, labels), "balanced_accuracy: " + expected)
        assertThrows(try Metrics.confusionMatrix(scores, labels), "confusion_matrix: " + expected)
        assertThrows(try Metrics.balancedAccuracyByGroup(scores, labels, groups: try ints([1, 1])), "balanced_accuracy_by_group: " + expected)
        assertThrows(try Metrics.accuracy(scores, try ints([1, 3]), classBase: 1), "accuracy: labels hold class 3 but pred has scores for 2 classes (1..2)")
        assertThrows(try Metrics.accuracy(try Tensor.zeros([2, 1]), try ints([0, 0])), "accuracy: pred scores [N, C] need a column per class, at least 2")
        assertThrows(try Metrics.sic(scores: try floats([0.1, 0.9]), labels: try ints([0, 1]), fpr: .nan), "sic: fpr must be between 0 and 1")
    }

    /// truth 0 0 1 1, pred 0 0 1 2: sum C(n_ij, 2) = 1, sum C(a_i, 2) = 2, sum C(b_j, 2) = 1,
    /// C(4, 2) = 6; expected index 2 * 1 / 6 = 1/3, max 3/2: ARI = (1 - 1/3) / (3/2 - 1/3) = 4/7.
    /// truth 0 0 1 1, pred 0 1 0 1: index 0, expected 2/3, max 2: ARI = -2/3 / (4/3) = -1/2.
    func testAdjustedRandIndexByHand() throws {
        let truth = try ints([0, 0, 1, 1])
        XCTAssertEqual(try Metrics.adjustedRandIndex(truth, try ints([0, 0, 1, 2])), 4.0 / 7.0, accuracy: 1e-15)
        XCTAssertEqual(try Metrics.adjustedRandIndex(truth, try ints([0, 1, 0, 1])), -0.5, accuracy: 1e-15)
        // Labels are names only: renamed, negative, non-consecutive, float-valued.
        XCTAssertEqual(try Metrics.adjustedRandIndex(truth, try ints([-7, -7, 40, 40])), 1)
        XCTAssertEqual(try Metrics.adjustedRandIndex(try floats([2, 2, 5, 5]), try ints([0, 0, 1, 2])), 4.0 / 7.0, accuracy: 1e-15)
        // Degenerate cases, as scikit-learn: one cluster each, all singletons each, one point: 1.
        XCTAssertEqual(try Metrics.adjustedRandIndex(try ints([3, 3, 3]), try ints([7, 7, 7])), 1)
        XCTAssertEqual(try Metrics.adjustedRandIndex(try ints([1, 2, 3]), try ints([4, 5, 6])), 1)
        XCTAssertEqual(try Metrics.adjustedRandIndex(try ints([1]), try ints([9])), 1)
        // One cluster against all singletons: 0.
        XCTAssertEqual(try Metrics.adjustedRandIndex(try ints([3, 3, 3]), try ints([1, 2, 3])), 0)
    }

    func testErrors() throws {
        let s = try floats([0.1, 0.2, 0.3]), y = try ints([0, 1, 1])
        assertThrows(try Metrics.rocAUC(scores: s, labels: try ints([0, 1])), "roc_auc: scores has 3 values but labels has 2")
        assertThrows(try Metrics.rocAUC(scores: try floats([0.1, .nan, 0.3]), labels: y), "roc_auc: scores contain NaN")
        assertThrows(try Metrics.rocAUC(scores: s, labels: try ints([0, 2, 1])), "roc_auc: labels must be 0/1 or booleans, found 2")
        assertThrows(try Metrics.rocAUC(scores: s, labels: try ints([1, 1, 1])), "roc_auc: only one class present in labels")
        assertThrows(try Metrics.rocCurve(scores: try floats([]), labels: try ints([])), "roc_curve: scores and labels are empty")
        assertThrows(try Metrics.rocCurve(scores: try Tensor.zeros([3, 1]), labels: y), "roc_curve: scores must be 1-D, got shape [3,1]")
        assertThrows(try Metrics.sic(scores: s, labels: try ints([0, 0, 0])), "sic: only one class present")
        assertThrows(try Metrics.sic(scores: s, labels: y, fpr: 2), "sic: fpr must be between 0 and 1, got 2")
        assertThrows(try Metrics.rejection(scores: s, labels: y, efficiency: .nan), "rejection: efficiency must be between 0 and 1")
        assertThrows(try Metrics.accuracy(try floats([0, 1.5]), try ints([0, 1])), "accuracy: pred must be whole numbers, found 1.5")
        assertThrows(try Metrics.accuracy(try ints([0, 1]), try ints([0, 1]), classBase: 1), "accuracy: pred must be class numbers counting from 1, found 0")
        assertThrows(try Metrics.accuracy(try ints([0, 1]), try ints([0])), "accuracy: pred has 2 values but labels has 1")
        assertThrows(try Metrics.balancedAccuracy(try Tensor.zeros([2, 2, 2]), try ints([0, 1])), "pred must be class numbers [N] or scores [N, C]")
        assertThrows(try Metrics.balancedAccuracy(try Tensor([0, Float.nan], shape: [1, 2]), try ints([0])), "balanced_accuracy: pred scores contain NaN")
        assertThrows(try Metrics.confusionMatrix(try ints([0, 4]), try ints([0, 1]), classes: 3), "confusion_matrix: class 4 found but classes = 3")
        assertThrows(try Metrics.confusionMatrix(try ints([Int64.max]), try ints([0])), "confusion_matrix: class 9223372036854775807 is too large")
        assertThrows(try Metrics.confusionMatrix(try ints([0]), try ints([0]), classes: Int.max), "classes are too many")
        assertThrows(try Metrics.adjustedRandIndex(try ints([]), try ints([])), "adjusted_rand_index: truth and pred are empty")
        assertThrows(try Metrics.adjustedRandIndex(try ints([1, 2]), try ints([1, 2, 3])), "adjusted_rand_index: truth has 2 values but pred has 3")
    }
}
