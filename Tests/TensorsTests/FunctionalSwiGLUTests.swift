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

    /// CCPU's AVX2 and AVX-512 loops (VectorISA) against the Swift vectors, on rows whose width
    /// leaves tails for both, with gates far past exp's range and a NaN.
    func testVectorKernelsMatchTheSwiftLoops() throws {
        let isas = VectorISA.available
        if isas.isEmpty { throw XCTSkip("this CPU has neither AVX2 with FMA nor AVX-512") }
        let rows = 37, h = 203
        var x = try normalSample([rows, 2 * h], seed: 76, scale: 4).toFloatArray()
        var g = try normalSample([rows, h], seed: 77).toFloatArray()
        x[0] = -200; x[1] = 100; x[2] = 0; x[3] = .nan; x[4] = -87.5; x[5] = 88.5
        func run(_ isa: VectorISA?) -> (y: [Float], gx: [Float]) {
            var y = [Float](repeating: 0, count: rows * h), gx = [Float](repeating: 0, count: rows * 2 * h)
            x.withUnsafeMutableBufferPointer { xb in
                g.withUnsafeMutableBufferPointer { gb in
                    y.withUnsafeMutableBufferPointer { SwiGLUKernel.forward(xb.baseAddress!, $0.baseAddress!, rows, h, isa: isa) }
                    gx.withUnsafeMutableBufferPointer {
                        SwiGLUKernel.backward(xb.baseAddress!, gb.baseAddress!, $0.baseAddress!, rows, h, isa: isa)
                    }
                }
            }
            return (y, gx)
        }
        let swift = run(nil)
        for isa in isas {
            let vector = run(isa)
            for (name, got, want) in [("forward", vector.y, swift.y), ("backward", vector.gx, swift.gx)] {
                for i in 0..<want.count where !(want[i].isNaN && got[i].isNaN) {
                    // Both evaluate the same exp within 2 ulp; FMA contraction moves the last bits.
                    XCTAssertEqual(got[i], want[i], accuracy: 1e-6 * Swift.max(1, abs(want[i])), "\(isa) \(name) at \(i)")
                }
                XCTAssertTrue(got[3].isNaN && want[3].isNaN, "\(isa) \(name): the NaN gate gives NaN in both")
            }
        }
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
