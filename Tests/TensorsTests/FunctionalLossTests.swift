import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// cross_entropy, binary_cross_entropy_with_logits and the regression losses: hand-derived
/// values, NumPy goldens (checked against PyTorch by make_golden.py --check-torch), gradients.
final class FunctionalLossTests: XCTestCase {
    // MARK: cross_entropy

    func testCrossEntropyHandDerived() throws {
        // Equal logits: every class has probability 1/C, with or without smoothing.
        let flat = try Tensor.zeros([2, 4])
        let t = try Tensor([Int64(0), 3])
        assertValues(try Functional.crossEntropy(flat, t), [Foundation.log(4.0)], tol: 1e-6)
        assertValues(try Functional.crossEntropy(flat, t, labelSmoothing: 0.3), [Foundation.log(4.0)], tol: 1e-6)
        // logits [1, 2, 3] and [1, 1, 1], targets 2 and 0, weights [1, 2, 3], smoothing 0.1:
        // row loss = 0.9 w[y] (lse - x[y]) + 0.1/3 sum_c w[c] (lse - x[c]); mean divides by w[2] + w[0].
        let x = try Tensor([Float(1), 2, 3, 1, 1, 1], shape: [2, 3])
        let w = try Tensor([Float(1), 2, 3])
        let lse0 = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)), lse1 = 1 + Foundation.log(3.0)
        let row0 = 0.9 * 3 * (lse0 - 3) + 0.1 / 3 * (1 * (lse0 - 1) + 2 * (lse0 - 2) + 3 * (lse0 - 3))
        let row1 = 0.9 * 1 * (lse1 - 1) + 0.1 / 3 * 6 * (lse1 - 1)
        let y = try Tensor([Int64(2), 0])
        assertValues(try Functional.crossEntropy(x, y, weight: w, reduction: .none, labelSmoothing: 0.1), [row0, row1], tol: 1e-6)
        assertValues(try Functional.crossEntropy(x, y, weight: w, reduction: .sum, labelSmoothing: 0.1), [row0 + row1], tol: 1e-6)
        assertValues(try Functional.crossEntropy(x, y, weight: w, labelSmoothing: 0.1), [(row0 + row1) / 4], tol: 1e-6)
        // The same labels 1-based, as Lua passes them; ignore_index is compared before the base.
        let y1 = try Tensor([Int64(3), 1, -100])
        let x3 = try Tensor([Float(1), 2, 3, 1, 1, 1, 5, 0, 0], shape: [3, 3])
        assertValues(try Functional.crossEntropy(x3, y1, weight: w, labelSmoothing: 0.1, indexBase: 1), [(row0 + row1) / 4], tol: 1e-6)
    }

    func testCrossEntropyGolden() throws {
        let c = try GoldenCase("cross_entropy")
        let x = try c.input("x"), t = try c.indices("target"), w = try c.input("weight")
        for red in LossReduction.allCases {
            assertMatches(try Functional.crossEntropy(x, t, reduction: red), try c.output("plain_" + red.rawValue), tol: 1e-5, "plain \(red)")
            assertMatches(try Functional.crossEntropy(x, t, weight: w, reduction: red, labelSmoothing: 0.1),
                          try c.output("weighted_smooth_" + red.rawValue), tol: 1e-5, "weighted \(red)")
            assertMatches(try Functional.crossEntropy(x, t, reduction: red, labelSmoothing: 0.25),
                          try c.output("smooth_" + red.rawValue), tol: 1e-5, "smooth \(red)")
            // 1-based labels give the same losses.
            let t1 = try Tensor(t.toInt64Array().map { $0 == -100 ? -100 : $0 + 1 })
            assertMatches(try Functional.crossEntropy(x, t1, weight: w, reduction: red, labelSmoothing: 0.1, indexBase: 1),
                          try c.output("weighted_smooth_" + red.rawValue), tol: 1e-5, "1-based \(red)")
        }
        let p = try GoldenCase("cross_entropy_probs")
        let probs = try p.input("target")
        for red in LossReduction.allCases {
            assertMatches(try Functional.crossEntropy(x, probs, reduction: red), try p.output("plain_" + red.rawValue), tol: 1e-5, "probs \(red)")
            assertMatches(try Functional.crossEntropy(x, probs, weight: w, reduction: red, labelSmoothing: 0.1),
                          try p.output("weighted_smooth_" + red.rawValue), tol: 1e-5, "probs weighted \(red)")
        }
    }

    func testCrossEntropyShapes() throws {
        // [N, C, d] equals moving the class dim last; [C] with a 0-d target equals one row.
        let x = try normalSample([2, 4, 3], seed: 51)
        let t = try Tensor([Int64(0), 3, 1, 2, 2, 0], shape: [2, 3])
        let rows = try x.permute([0, 2, 1]).reshape([6, 4])
        let perRow = try Functional.crossEntropy(rows, t.reshape([6]), reduction: .none)
        let nd = try Functional.crossEntropy(x, t, reduction: .none)
        XCTAssertEqual(nd.shape, [2, 3])
        assertValues(nd, perRow.toFloatArray().map(Double.init), tol: 1e-6)
        let one = try Functional.crossEntropy(rows.select(0, 0), Tensor(scalar: Int64(0)), reduction: .none)
        XCTAssertEqual(one.shape, [])
        assertValues(one, [Double(perRow.toFloatArray()[0])], tol: 1e-6)
        // Every target ignored: the mean is NaN, as in PyTorch; the gradient is zero.
        let xi = try normalSample([2, 3], seed: 52)
        try xi.requiresGrad_()
        let allIgnored = try Functional.crossEntropy(xi, Tensor([Int64(-100), -100]))
        XCTAssertTrue(try allIgnored.item().isNaN)
        XCTAssertEqual(try Functional.crossEntropy(xi, Tensor([Int64(-100), -100]), reduction: .sum).item(), 0)
    }

    /// A K-means-sized head (4096 classes) against log_softmax + gather, on every core.
    func testCrossEntropyManyClasses() throws {
        let x = try normalSample([64, 4096], seed: 53, scale: 3)
        let t = try Tensor.randint(0, 4096, [64], generator: Generator(seed: 54))
        try x.requiresGrad_()
        let fused = try Functional.crossEntropy(x, t, labelSmoothing: 0.1)
        let logp = try Functional.logSoftmax(x, dim: 1)
        let nll = try logp.gather(1, index: t.reshape([64, 1])).neg().mean()
        let composite = try nll.mul(0.9).add(logp.neg().mean(dims: [1]).mean().mul(0.1))
        assertValues(fused, [try composite.item()], tol: 1e-5)
        let gf = try Tensor.autogradGrad(outputs: [fused], inputs: [x])[0]!
        let gc = try Tensor.autogradGrad(outputs: [composite], inputs: [x])[0]!
        assertValues(gf, gc.toFloatArray().map(Double.init), tol: 1e-6)
    }

    func testCrossEntropyGradients() throws {
        let w = try Tensor([Float(0.5), 1.5, 1, 2])
        let t = try Tensor([Int64(0), 3, -100, 2, 1])
        for red in LossReduction.allCases {
            try gradCheck([try sample([5, 4], seed: 55, lo: -2, hi: 2)]) {
                try Functional.crossEntropy($0[0], t, weight: w, reduction: red, labelSmoothing: 0.2)
            }
            try gradCheck([try sample([5, 4], seed: 56, lo: -2, hi: 2)]) { try Functional.crossEntropy($0[0], t, reduction: red) }
        }
        // Probability targets: gradients for logits and targets; a transposed logits view.
        let probs = try Functional.softmax(sample([3, 4], seed: 57), dim: 1)
        try gradCheck([try sample([3, 4], seed: 58, lo: -2, hi: 2), probs]) {
            try Functional.crossEntropy($0[0], $0[1], weight: w, labelSmoothing: 0.1)
        }
        try gradCheck([try sample([4, 3], seed: 59, lo: -2, hi: 2), probs]) {
            try Functional.crossEntropy($0[0].t(), $0[1], reduction: .none)
        }
        try gradCheck([try sample([2, 4, 3], seed: 60, lo: -2, hi: 2)]) {
            try Functional.crossEntropy($0[0], Tensor([Int64(0), 3, 1, 2, 2, 0], shape: [2, 3]), reduction: .none)
        }
    }

    func testCrossEntropyErrors() throws {
        let x = try Tensor.zeros([2, 3])
        assertThrows("cross_entropy: target 4 at position 2 is out of range 1..3 for 3 classes") {
            _ = try Functional.crossEntropy(x, Tensor([Int64(1), 4]), indexBase: 1)
        }
        assertThrows("target 0 at position 1 is out of range 1..3") {
            _ = try Functional.crossEntropy(x, Tensor([Int64(0), 1]), indexBase: 1)
        }
        assertThrows("target -9223372036854775808 at position 1 is out of range 1..3") {
            _ = try Functional.crossEntropy(x, Tensor([Int64.min, 1]), indexBase: 1)
        }
        assertThrows("input [2,3] needs a target of shape [2]") { _ = try Functional.crossEntropy(x, Tensor([Int64(1)])) }
        assertThrows("needs a target of shape [2,3] (float32 probabilities)") { _ = try Functional.crossEntropy(x, Tensor.zeros([2, 2])) }
        assertThrows("weight must have shape [3]") { _ = try Functional.crossEntropy(x, Tensor([Int64(1), 0]), weight: Tensor.ones([2])) }
        assertThrows("label_smoothing must be between 0 and 1") {
            _ = try Functional.crossEntropy(x, Tensor([Int64(1), 0]), labelSmoothing: 1.5)
        }
        assertThrows("target must be int64 class indices or float32 probabilities, got bool") {
            _ = try Functional.crossEntropy(x, Tensor([true, false]))
        }
    }

    // MARK: binary_cross_entropy_with_logits

    func testBinaryCrossEntropyWithLogits() throws {
        // x = 0: loss = log 2 for either label; pos_weight 3 triples the positive term.
        let zeros = try Tensor.zeros([2])
        let y = try Tensor([Float(1), 0])
        assertValues(try Functional.binaryCrossEntropyWithLogits(zeros, y), [Foundation.log(2.0)], tol: 1e-6)
        assertValues(try Functional.binaryCrossEntropyWithLogits(zeros, y, posWeight: Tensor([Float(3)]), reduction: .none),
                     [3 * Foundation.log(2.0), Foundation.log(2.0)], tol: 1e-6)
        // Extreme logits stay finite: a confident right answer costs ~0, a wrong one ~|x|.
        let extreme = try Functional.binaryCrossEntropyWithLogits(Tensor([Float(100), -100]), Tensor([Float(1), 1]), reduction: .none)
        assertValues(extreme, [0, 100], tol: 1e-6)
        let c = try GoldenCase("bce_with_logits")
        let x = try c.input("x"), t = try c.input("y"), w = try c.input("weight"), pw = try c.input("pos_weight")
        for red in LossReduction.allCases {
            assertMatches(try Functional.binaryCrossEntropyWithLogits(x, t, reduction: red), try c.output("plain_" + red.rawValue), tol: 1e-5)
            assertMatches(try Functional.binaryCrossEntropyWithLogits(x, t, weight: w, posWeight: pw, reduction: red),
                          try c.output("weighted_" + red.rawValue), tol: 1e-5)
        }
        // Gradients for input, target, weight (broadcast [3, 1]) and pos_weight (broadcast [4]).
        try gradCheck([try sample([3, 4], seed: 61, lo: -3, hi: 3), try sample([3, 4], seed: 62, lo: 0, hi: 1),
                       try sample([3, 1], seed: 63, lo: 0.5, hi: 2), try sample([4], seed: 64, lo: 0.5, hi: 2)]) {
            try Functional.binaryCrossEntropyWithLogits($0[0], $0[1], weight: $0[2], posWeight: $0[3])
        }
        try gradCheck([try sample([3, 4], seed: 65, lo: -3, hi: 3)]) {
            try Functional.binaryCrossEntropyWithLogits($0[0], t, reduction: .none)
        }
        assertThrows("target size [2] must equal input size [3,4]") {
            _ = try Functional.binaryCrossEntropyWithLogits(x, Tensor.zeros([2]))
        }
        assertThrows("pos_weight of shape [3] cannot be broadcast to the input shape [3,4]") {
            _ = try Functional.binaryCrossEntropyWithLogits(x, t, posWeight: Tensor.ones([3]))
        }
    }

    // MARK: Regression losses

    func testRegressionLossesGolden() throws {
        let c = try GoldenCase("regression")
        let x = try c.input("x"), y = try c.input("y")
        for red in LossReduction.allCases {
            assertMatches(try Functional.mseLoss(x, y, reduction: red), try c.output("mse_" + red.rawValue), tol: 1e-6, "mse")
            assertMatches(try Functional.l1Loss(x, y, reduction: red), try c.output("l1_" + red.rawValue), tol: 1e-6, "l1")
            assertMatches(try Functional.smoothL1Loss(x, y, reduction: red, beta: 0.5), try c.output("smooth_l1_" + red.rawValue), tol: 1e-6)
            assertMatches(try Functional.huberLoss(x, y, reduction: red, delta: 0.7), try c.output("huber_" + red.rawValue), tol: 1e-6)
        }
        // smooth_l1 with beta 0 is the L1 loss.
        assertValues(try Functional.smoothL1Loss(x, y, beta: 0), [try Functional.l1Loss(x, y).item()], tol: 1e-7)
    }

    func testRegressionLossesHandDerivedAndLarge() throws {
        let x = try Tensor([Float(1), 2, 3]), y = try Tensor([Float(0), 2, 5])
        assertValues(try Functional.mseLoss(x, y), [5.0 / 3], tol: 1e-7)
        assertValues(try Functional.l1Loss(x, y, reduction: .sum), [3], tol: 1e-7)
        assertValues(try Functional.smoothL1Loss(x, y, reduction: .none), [0.5, 0, 1.5], tol: 1e-7)
        assertValues(try Functional.huberLoss(x, y, reduction: .none, delta: 2), [0.5, 0, 2], tol: 1e-7)
        // Half a million elements: the parallel Double sum equals a serial one.
        let a = try normalSample([1000, 500], seed: 66), b = try normalSample([1000, 500], seed: 67)
        let av = a.toFloatArray(), bv = b.toFloatArray()
        let ref = zip(av, bv).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(av.count)
        assertValues(try Functional.mseLoss(a, b), [ref], tol: 1e-6)
    }

    func testRegressionLossGradients() throws {
        for red in LossReduction.allCases {
            let make = { try [sample([3, 4], seed: 68, lo: -2, hi: 2), sample([4], seed: 69, lo: -2, hi: 2)] }
            try gradCheck(try make()) { try Functional.mseLoss($0[0], $0[1], reduction: red) }
            try gradCheck(try make()) { try Functional.l1Loss($0[0], $0[1], reduction: red) }
            try gradCheck(try make()) { try Functional.smoothL1Loss($0[0].t().t(), $0[1], reduction: red, beta: 0.8) }
            try gradCheck(try make()) { try Functional.huberLoss($0[0], $0[1], reduction: red, delta: 0.6) }
        }
        // The L1 gradient at a zero difference is 0.
        let x = try Tensor([Float(1), 2])
        try x.requiresGrad_()
        let g = try Tensor.autogradGrad(outputs: [Functional.l1Loss(x, Tensor([Float(1), 0]), reduction: .sum)], inputs: [x])[0]!
        XCTAssertEqual(g.toFloatArray(), [0, 1])
        assertThrows("mse_loss: input [2] and target [3] cannot broadcast") {
            _ = try Functional.mseLoss(Tensor.zeros([2]), Tensor.zeros([3]))
        }
        assertThrows("smooth_l1_loss: beta must be a finite number >= 0") {
            _ = try Functional.smoothL1Loss(Tensor.zeros([2]), Tensor.zeros([2]), beta: -1)
        }
        assertThrows("mse_loss: target must be float32") { _ = try Functional.mseLoss(Tensor.zeros([2]), Tensor([Int64(1), 2])) }
    }
}
