import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// The fused linear (bias rows, then sgemm with beta = 1): hand values, the composite
/// matmul + add on every core, finite-difference gradients, errors.
final class FunctionalLinearTests: XCTestCase {
    func testValues() throws {
        // [1, 2] . [[1, 0], [3, 4]]^T + [10, 20] = [1 + 10, 11 + 20].
        let x = try Tensor([Float(1), 2], shape: [1, 2])
        let w = try Tensor([Float(1), 0, 3, 4], shape: [2, 2])
        assertValues(try Functional.linear(x, weight: w, bias: Tensor([Float(10), 20], shape: [2])), [11, 31], tol: 1e-6)
        assertValues(try Functional.linear(x, weight: w, bias: nil), [1, 11], tol: 1e-6)
        // No input features: the bias alone (or zeros).
        let empty = try Functional.linear(Tensor.zeros([3, 0]), weight: Tensor.zeros([2, 0]), bias: Tensor([Float(1), 2], shape: [2]))
        assertValues(empty, [1, 2, 1, 2, 1, 2], tol: 0)
        assertValues(try Functional.linear(Tensor.zeros([2, 0]), weight: Tensor.zeros([2, 0]), bias: nil), [0, 0, 0, 0], tol: 0)
    }

    func testMatchesCompositeOnEveryCore() throws {
        // Large enough that the product is split across the kernel threads.
        let x = try normalSample([700, 96], seed: 81), w = try normalSample([160, 96], seed: 82)
        let b = try normalSample([160], seed: 83), g = try normalSample([700, 160], seed: 84)
        for t in [x, w, b] { try t.requiresGrad_() }
        let fused = try Functional.linear(x, weight: w, bias: b)
        let composite = try x.matmul(w.t()).add(b)
        assertValues(fused, composite.toFloatArray().map(Double.init), tol: 1e-4)
        let gf = try Tensor.autogradGrad(outputs: [fused.mul(g).sum()], inputs: [x, w, b])
        let gc = try Tensor.autogradGrad(outputs: [composite.mul(g).sum()], inputs: [x, w, b])
        for (f, c) in zip(gf, gc) { assertValues(f!, c!.toFloatArray().map(Double.init), tol: 1e-3) }
    }

    func testGradients() throws {
        let w = try sample([4, 3], seed: 86), b = try sample([4], seed: 87)
        try gradCheck([try sample([5, 3], seed: 85), w, b]) { try Functional.linear($0[0], weight: $0[1], bias: $0[2]) }
        // Leading dims, no bias, and a transposed (non-contiguous) input.
        try gradCheck([try sample([2, 3, 3], seed: 88), w]) { try Functional.linear($0[0], weight: $0[1], bias: nil) }
        try gradCheck([try sample([3, 5], seed: 89), w, b]) { try Functional.linear($0[0].t(), weight: $0[1], bias: $0[2]) }
    }

    func testErrors() throws {
        assertThrows("linear: input [2,3] and weight [4,5] do not fit") {
            _ = try Functional.linear(Tensor.zeros([2, 3]), weight: Tensor.zeros([4, 5]), bias: nil)
        }
        assertThrows("linear: bias must be [4], got [3]") {
            _ = try Functional.linear(Tensor.zeros([2, 5]), weight: Tensor.zeros([4, 5]), bias: Tensor.zeros([3]))
        }
        assertThrows("linear: input must be float32") {
            _ = try Functional.linear(Tensor([Int64(1), 2], shape: [1, 2]), weight: Tensor.zeros([4, 2]), bias: nil)
        }
    }
}
