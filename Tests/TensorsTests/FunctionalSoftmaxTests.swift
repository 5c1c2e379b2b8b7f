import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// softmax / log_softmax: hand-derived values, NumPy goldens, stability, every layout, gradients.
final class FunctionalSoftmaxTests: XCTestCase {
    func testHandDerivedValues() throws {
        // softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6
        let x = try Tensor([0, Float(Foundation.log(2.0)), Float(Foundation.log(3.0))])
        assertValues(try Functional.softmax(x, dim: 0), [1.0 / 6, 2.0 / 6, 3.0 / 6], tol: 1e-6)
        assertValues(try x.logSoftmax(dim: -1), [1.0 / 6, 2.0 / 6, 3.0 / 6].map { Foundation.log($0) }, tol: 1e-6)
        // A 0-d tensor is one row of one element.
        assertValues(try Functional.softmax(Tensor(scalar: Float(3)), dim: 0), [1])
        assertValues(try Functional.logSoftmax(Tensor(scalar: Float(3)), dim: -1), [0])
    }

    func testGolden() throws {
        for name in ["softmax_last", "softmax_dim0"] {
            let c = try GoldenCase(name)
            let x = try c.input("x"), dim = c.params["dim"] as! Int
            assertMatches(try Functional.softmax(x, dim: dim), try c.output("softmax"), tol: 1e-6, name)
            assertMatches(try Functional.logSoftmax(x, dim: dim), try c.output("log_softmax"), tol: 1e-6, name)
        }
    }

    func testStabilityAndSpecialValues() throws {
        let big = try Tensor([Float(1000), 1000, -1000])
        assertValues(try Functional.softmax(big, dim: 0), [0.5, 0.5, 0], tol: 1e-7)
        assertValues(try Functional.logSoftmax(big, dim: 0), [-Foundation.log(2.0), -Foundation.log(2.0), -2000 - Foundation.log(2.0)], tol: 1e-6)
        // -inf logits (masked entries) get probability exactly 0.
        let masked = try Tensor([-Float.infinity, 0, 0, -Float.infinity])
        XCTAssertEqual(try Functional.softmax(masked, dim: 0).toFloatArray(), [0, 0.5, 0.5, 0])
        // NaN anywhere in a row poisons that row only.
        let withNaN = try Tensor([Float.nan, 1, 2, 3], shape: [2, 2])
        let y = try Functional.softmax(withNaN, dim: 1).toFloatArray()
        XCTAssertTrue(y[0].isNaN && y[1].isNaN)
        XCTAssertEqual(Double(y[2] + y[3]), 1, accuracy: 1e-6)
    }

    func testVectorExpAndLog1pAccuracy() {
        var worst = 0.0
        var x = -87.0
        while x <= 88.3 {
            let ours = Double(FusedMath.exp(Float(x)))
            let ref = Foundation.exp(Double(Float(x)))
            worst = Swift.max(worst, Swift.abs(ours - ref) / ref)
            x += 0.0137
        }
        XCTAssertLessThan(worst, 3e-7, "relative error of the vector exp")
        XCTAssertEqual(FusedMath.exp(-Float.infinity), 0)
        XCTAssertEqual(FusedMath.exp(-100), 0)
        XCTAssertEqual(FusedMath.exp(0), 1)
        XCTAssertEqual(FusedMath.exp(Float.infinity), .infinity)
        XCTAssertTrue(FusedMath.exp(Float.nan).isNaN)
        // log1p on [0, 1], the argument range of softplus(-x) = log1p(exp(-|x|)).
        var worstLog = 0.0
        var u = 0.0
        while u <= 1 {
            let v = Float(u)
            let ours = Double(FusedMath.log1pUnit(FusedMath.V(repeating: v))[0])
            let ref = Foundation.log1p(Double(v))
            if ref > 0 { worstLog = Swift.max(worstLog, Swift.abs(ours - ref) / ref) }
            u = u < 1e-6 ? u * 3 + 1e-12 : u + 0.000731
        }
        XCTAssertLessThan(worstLog, 3e-7, "relative error of log1p")
        XCTAssertEqual(FusedMath.log1pUnit(FusedMath.V(repeating: 0))[0], 0)
        XCTAssertEqual(FusedMath.log1pUnit(FusedMath.V(repeating: 1e-30))[0], 1e-30)
    }

    /// Every dim of a 3-D tensor, and a transposed (non-contiguous) input, against the composite.
    func testAllDimsMatchComposite() throws {
        let x = try normalSample([3, 4, 37], seed: 11, scale: 3)
        for d in 0..<3 {
            let ref = try compositeSoftmax(x, dim: d)
            assertValues(try Functional.softmax(x, dim: d), ref.toFloatArray().map(Double.init), tol: 2e-6, "dim \(d)")
            assertValues(try Functional.logSoftmax(x, dim: d), ref.toFloatArray().map { Foundation.log(Double($0)) }, tol: 2e-5, "log dim \(d)")
        }
        let t = try x.transpose(0, 2)   // [37, 4, 3], non-contiguous
        assertValues(try Functional.softmax(t, dim: -1), try compositeSoftmax(t, dim: -1).toFloatArray().map(Double.init), tol: 2e-6)
    }

    /// Large enough to run on every core, in both layouts.
    func testParallelPaths() throws {
        let x = try normalSample([300, 517], seed: 12, scale: 4)
        let rows = try Functional.softmax(x, dim: 1).sum(dims: [1]).toFloatArray()
        XCTAssertTrue(rows.allSatisfy { Swift.abs($0 - 1) < 1e-5 })
        assertValues(try Functional.softmax(x, dim: 1), try compositeSoftmax(x, dim: 1).toFloatArray().map(Double.init), tol: 2e-6)
        assertValues(try Functional.softmax(x, dim: 0), try compositeSoftmax(x, dim: 0).toFloatArray().map(Double.init), tol: 2e-6)
        try x.requiresGrad_()
        let g = try normalSample([300, 517], seed: 13)
        for dim in [0, 1] {
            let gFused = try Tensor.autogradGrad(outputs: [Functional.softmax(x, dim: dim).mul(g).sum()], inputs: [x])[0]!
            let gRef = try Tensor.autogradGrad(outputs: [compositeSoftmax(x, dim: dim).mul(g).sum()], inputs: [x])[0]!
            assertValues(gFused, gRef.toFloatArray().map(Double.init), tol: 1e-5, "grad dim \(dim)")
            let lFused = try Tensor.autogradGrad(outputs: [Functional.logSoftmax(x, dim: dim).mul(g).sum()], inputs: [x])[0]!
            let lRef = try Tensor.autogradGrad(outputs: [compositeSoftmax(x, dim: dim).log().mul(g).sum()], inputs: [x])[0]!
            assertValues(lFused, lRef.toFloatArray().map(Double.init), tol: 1e-4, "log grad dim \(dim)")
        }
    }

    func testGradients() throws {
        for d in [-1, 1, 0] {
            try gradCheck([try sample([3, 4, 5], seed: 21, lo: -2, hi: 2)]) { try Functional.softmax($0[0], dim: d) }
            try gradCheck([try sample([3, 4, 5], seed: 22, lo: -2, hi: 2)]) { try Functional.logSoftmax($0[0], dim: d) }
        }
        // Rows longer than one vector, with a tail; and a transposed input.
        try gradCheck([try sample([2, 19], seed: 23, lo: -2, hi: 2)]) { try Functional.softmax($0[0], dim: 1) }
        try gradCheck([try sample([2, 19], seed: 24, lo: -2, hi: 2)]) { try Functional.logSoftmax($0[0], dim: 1) }
        try gradCheck([try sample([5, 3], seed: 25, lo: -2, hi: 2)]) { try Functional.softmax($0[0].t(), dim: 1) }
    }

    func testErrors() throws {
        assertThrows("softmax: input must be float32") { _ = try Functional.softmax(Tensor([Int64(1), 2]), dim: 0) }
        assertThrows("log_softmax: dim 2 out of range") { _ = try Functional.logSoftmax(Tensor([Float(1), 2]), dim: 2) }
    }

    /// softmax from primitive ops, as the reference.
    private func compositeSoftmax(_ x: Tensor, dim: Int) throws -> Tensor {
        let m = try withNoGrad { try x.amax(dims: [dim], keepDim: true) }
        let e = try x.sub(m).exp()
        return try e.div(e.sum(dims: [dim], keepDim: true))
    }
}
