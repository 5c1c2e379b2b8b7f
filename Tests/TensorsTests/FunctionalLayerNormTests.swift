import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// layer_norm: hand-derived values, NumPy goldens, precision, gradients for x, weight and bias.
final class FunctionalLayerNormTests: XCTestCase {
    func testHandDerivedValues() throws {
        // [1, 2, 3]: mean 2, biased variance 2/3.
        let x = try Tensor([Float(1), 2, 3], shape: [1, 3])
        let s = (2.0 / 3 + 1e-5).squareRoot()
        assertValues(try Functional.layerNorm(x, normalizedShape: [3]), [-1 / s, 0, 1 / s], tol: 1e-6)
        let w = try Tensor([Float(2), 1, 0.5]), b = try Tensor([Float(0), 10, 1])
        assertValues(try Functional.layerNorm(x, normalizedShape: [3], weight: w, bias: b, eps: 0),
                     [-2 / (2.0 / 3).squareRoot(), 10, 1 + 0.5 / (2.0 / 3).squareRoot()], tol: 1e-6)
        // A constant row normalises to 0 (then the bias).
        assertValues(try Functional.layerNorm(Tensor([Float(5), 5, 5]), normalizedShape: [3], bias: b), [0, 10, 1])
    }

    func testGolden() throws {
        let c = try GoldenCase("layer_norm_affine")
        assertMatches(try Functional.layerNorm(c.input("x"), normalizedShape: [6], weight: c.input("weight"), bias: c.input("bias")),
                      try c.output("y"), tol: 2e-6)
        let p = try GoldenCase("layer_norm_2d_plain")
        assertMatches(try Functional.layerNorm(p.input("x"), normalizedShape: [3, 4], eps: 1e-3), try p.output("y"), tol: 2e-6)
    }

    /// Rows with a mean far above their spread keep full precision (the statistics are
    /// accumulated in Double, the variance in two passes).
    func testLargeMeanPrecision() throws {
        let noise = try normalSample([4, 300], seed: 31)
        let x = try noise.add(1000)
        let y = try Functional.layerNorm(x, normalizedShape: [300])
        let v = x.toFloatArray().map(Double.init)
        var expected: [Double] = []
        for r in 0..<4 {
            let row = v[(r * 300)..<((r + 1) * 300)]
            let mean = row.reduce(0, +) / 300
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 300
            expected += row.map { ($0 - mean) / (variance + 1e-5).squareRoot() }
        }
        assertValues(y, expected, tol: 1e-3)   // float32 inputs near 1000 carry ~6e-5 absolute noise
    }

    func testGradients() throws {
        let x = try sample([3, 5], seed: 32, lo: -2, hi: 2)
        let w = try sample([5], seed: 33, lo: 0.5, hi: 1.5), b = try sample([5], seed: 34)
        try gradCheck([x, w, b]) { try Functional.layerNorm($0[0], normalizedShape: [5], weight: $0[1], bias: $0[2]) }
        try gradCheck([try sample([2, 3, 4], seed: 35, lo: -2, hi: 2)]) { try Functional.layerNorm($0[0], normalizedShape: [3, 4]) }
        // Weight only, bias only; a transposed input; rows longer than a vector with a tail.
        let x2 = try sample([4, 19], seed: 36, lo: -2, hi: 2), w2 = try sample([19], seed: 37, lo: 0.5, hi: 1.5)
        try gradCheck([x2, w2]) { try Functional.layerNorm($0[0], normalizedShape: [19], weight: $0[1]) }
        try gradCheck([x2, try sample([19], seed: 38)]) { try Functional.layerNorm($0[0], normalizedShape: [19], bias: $0[1]) }
        try gradCheck([try sample([6, 3], seed: 39, lo: -2, hi: 2)]) { try Functional.layerNorm($0[0].t(), normalizedShape: [6]) }
        // Only the parameters require grad.
        let frozen = try sample([3, 5], seed: 40)
        try gradCheck([w, b]) { try Functional.layerNorm(frozen, normalizedShape: [5], weight: $0[0], bias: $0[1]) }
    }

    /// A [600, 257] batch runs the parallel backward with per-chunk parameter sums; compare with
    /// the composite built from primitive ops.
    func testParallelMatchesComposite() throws {
        let x = try normalSample([600, 257], seed: 41, scale: 2)
        let w = try normalSample([257], seed: 42), b = try normalSample([257], seed: 43)
        let g = try normalSample([600, 257], seed: 44)
        for t in [x, w, b] { try t.requiresGrad_() }
        let fused = try Functional.layerNorm(x, normalizedShape: [257], weight: w, bias: b)
        let mean = try x.mean(dims: [1], keepDim: true)
        let centered = try x.sub(mean)
        let variance = try centered.mul(centered).mean(dims: [1], keepDim: true)
        let composite = try centered.div(variance.add(1e-5).sqrt()).mul(w).add(b)
        assertValues(fused, composite.toFloatArray().map(Double.init), tol: 1e-5, "forward")
        let gf = try Tensor.autogradGrad(outputs: [fused.mul(g).sum()], inputs: [x, w, b])
        let gc = try Tensor.autogradGrad(outputs: [composite.mul(g).sum()], inputs: [x, w, b])
        for (i, name) in ["x", "weight", "bias"].enumerated() {
            assertValues(gf[i]!, gc[i]!.toFloatArray().map(Double.init), tol: 1e-4, "grad \(name)")
        }
    }

    func testErrors() throws {
        let x = try Tensor.zeros([2, 3])
        assertThrows("normalized_shape [2] must be the last dims of the input, which is [2,3]") {
            _ = try Functional.layerNorm(x, normalizedShape: [2])
        }
        assertThrows("weight has shape [2] but normalized_shape is [3]") {
            _ = try Functional.layerNorm(x, normalizedShape: [3], weight: Tensor.ones([2]))
        }
        assertThrows("layer_norm: input must be float32") {
            _ = try Functional.layerNorm(Tensor([Int64(1), 2]), normalizedShape: [2])
        }
    }
}
