import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// x + gamma * y in one pass: hand values, the composite on every core, gradients, errors.
final class FunctionalScaledResidualTests: XCTestCase {
    func testValues() throws {
        let x = try Tensor([Float(1), 2, 3, 4], shape: [2, 2]), y = try Tensor([Float(10), 20, 30, 40], shape: [2, 2])
        assertValues(try Functional.scaledResidual(x, y, scale: Tensor([Float(0.5), -1], shape: [2])), [6, -18, 18, -36], tol: 1e-6)
    }

    func testMatchesCompositeOnEveryCore() throws {
        let x = try normalSample([900, 130], seed: 91), y = try normalSample([900, 130], seed: 92)
        let gamma = try normalSample([130], seed: 93), g = try normalSample([900, 130], seed: 94)
        for t in [x, y, gamma] { try t.requiresGrad_() }
        let fused = try Functional.scaledResidual(x, y, scale: gamma)
        let composite = try x.add(y.mul(gamma))
        assertValues(fused, composite.toFloatArray().map(Double.init), tol: 1e-6)
        let gf = try Tensor.autogradGrad(outputs: [fused.mul(g).sum()], inputs: [x, y, gamma])
        let gc = try Tensor.autogradGrad(outputs: [composite.mul(g).sum()], inputs: [x, y, gamma])
        for (f, c) in zip(gf, gc) { assertValues(f!, c!.toFloatArray().map(Double.init), tol: 1e-3) }
    }

    func testGradients() throws {
        try gradCheck([try sample([4, 3], seed: 95), try sample([4, 3], seed: 96), try sample([3], seed: 97)]) {
            try Functional.scaledResidual($0[0], $0[1], scale: $0[2])
        }
        try gradCheck([try sample([2, 3, 2], seed: 98), try sample([2, 2, 3], seed: 99), try sample([2], seed: 100)]) {
            try Functional.scaledResidual($0[0], $0[1].transpose(1, 2), scale: $0[2])
        }
    }

    func testErrors() throws {
        assertThrows("scaled_residual: input [2,3], branch [2,3] and scale [2] must be") {
            _ = try Functional.scaledResidual(Tensor.zeros([2, 3]), Tensor.zeros([2, 3]), scale: Tensor.zeros([2]))
        }
    }
}
