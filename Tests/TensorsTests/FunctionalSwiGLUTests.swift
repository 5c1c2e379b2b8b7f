import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// The SwiGLU gate: hand-derived values, NumPy golden, the composite, gradients.
final class FunctionalSwiGLUTests: XCTestCase {
    func testValues() throws {
        // silu(0) * b = 0; silu(2) * 3 = 2 / (1 + e^-2) * 3.
        let x = try Tensor([Float(0), 2, 5, 3], shape: [1, 4])
        assertValues(try Functional.swiglu(x), [0, 6 / (1 + Foundation.exp(-2.0))], tol: 1e-6)
        let c = try GoldenCase("swiglu")
        assertMatches(try Functional.swiglu(c.input("x")), try c.output("y"), tol: 1e-6)
        // A very negative gate closes (silu -> 0), a very positive one passes b times a.
        assertValues(try Functional.swiglu(Tensor([Float(-200), 5, 100, 3], shape: [2, 2])), [0, 300], tol: 1e-6)
    }

    func testMatchesCompositeOnEveryCore() throws {
        let x = try normalSample([500, 2 * 203], seed: 71, scale: 2)
        let g = try normalSample([500, 203], seed: 72)
        try x.requiresGrad_()
        let fused = try Functional.swiglu(x)
        let a = try x.narrow(1, start: 0, length: 203), b = try x.narrow(1, start: 203, length: 203)
        let composite = try a.silu().mul(b)
        assertValues(fused, composite.toFloatArray().map(Double.init), tol: 1e-6)
        let gf = try Tensor.autogradGrad(outputs: [fused.mul(g).sum()], inputs: [x])[0]!
        let gc = try Tensor.autogradGrad(outputs: [composite.mul(g).sum()], inputs: [x])[0]!
        assertValues(gf, gc.toFloatArray().map(Double.init), tol: 1e-5)
    }

    func testGradients() throws {
        try gradCheck([try sample([3, 2 * 11], seed: 73, lo: -3, hi: 3)]) { try Functional.swiglu($0[0]) }
        try gradCheck([try sample([2, 3, 4], seed: 74, lo: -3, hi: 3)]) { try Functional.swiglu($0[0]) }
        try gradCheck([try sample([6, 2], seed: 75, lo: -3, hi: 3)]) { try Functional.swiglu($0[0].t()) }
    }

    func testErrors() throws {
        assertThrows("swiglu: the last dim must have even size") { _ = try Functional.swiglu(Tensor.zeros([2, 3])) }
        assertThrows("swiglu: input must be float32") { _ = try Functional.swiglu(Tensor([Int64(1), 2])) }
    }
}
