import Foundation
import NN
import Tensors
import XCTest

/// Optimiser kernels against their closed forms, computed here in Double.
final class OptimTests: XCTestCase {
    func testOneAdamWStepEqualsClosedForm() throws {
        let p0: [Float] = [0.5, -1.25, 2.0, 0.0]
        let g: [Float] = [0.1, -0.3, 0.02, 1.5]
        let p = try Tensor(p0, shape: [4]).requiresGrad_()
        let m = try Tensor.zeros([4]), v = try Tensor.zeros([4])
        let lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1
        try OptimKernels.adam(param: p, grad: Tensor(g, shape: [4]), expAvg: m, expAvgSq: v, step: 1, lr: lr,
                              beta1: b1, beta2: b2, eps: eps, weightDecay: wd, decoupled: true)
        for i in 0..<4 {
            let gi = Double(g[i])
            let mi = (1 - b1) * gi, vi = (1 - b2) * gi * gi
            let mHat = mi / (1 - b1), vHat = vi / (1 - b2)
            let expected = Double(p0[i]) * (1 - lr * wd) - lr * mHat / (vHat.squareRoot() + eps)
            XCTAssertEqual(Double(p.toFloatArray()[i]), expected, accuracy: 1e-6, "element \(i)")
            XCTAssertEqual(Double(m.toFloatArray()[i]), mi, accuracy: 1e-7)
            XCTAssertEqual(Double(v.toFloatArray()[i]), vi, accuracy: 1e-6 * vi + 1e-12)
        }
    }

    func testAdamTwoStepsWithL2EqualsClosedForm() throws {
        let p = try Tensor([1.0] as [Float], shape: [1])
        let m = try Tensor.zeros([1]), v = try Tensor.zeros([1])
        let lr = 0.1, b1 = 0.8, b2 = 0.9, eps = 1e-6, wd = 0.5
        var pd = 1.0, md = 0.0, vd = 0.0
        for (t, g) in [(1, 0.4), (2, -0.2)] {
            try OptimKernels.adam(param: p, grad: Tensor([Float(g)], shape: [1]), expAvg: m, expAvgSq: v, step: t, lr: lr,
                                  beta1: b1, beta2: b2, eps: eps, weightDecay: wd, decoupled: false)
            let ge = g + wd * pd
            md = b1 * md + (1 - b1) * ge
            vd = b2 * vd + (1 - b2) * ge * ge
            pd -= lr * (md / (1 - pow(b1, Double(t)))) / ((vd / (1 - pow(b2, Double(t)))).squareRoot() + eps)
            XCTAssertEqual(Double(p.toFloatArray()[0]), pd, accuracy: 1e-6, "step \(t)")
        }
    }

    func testSGDMomentumAndNesterov() throws {
        for nesterov in [false, true] {
            let p = try Tensor([1.0] as [Float], shape: [1])
            var buffer: Tensor? = nil
            var pd = 1.0, bd = 0.0
            for (t, g) in [(1, 0.5), (2, 0.25), (3, -1.0)] {
                buffer = try OptimKernels.sgd(param: p, grad: Tensor([Float(g)], shape: [1]), momentumBuffer: buffer, lr: 0.1,
                                              momentum: 0.9, dampening: 0, nesterov: nesterov, weightDecay: 0.01)
                let ge = g + 0.01 * pd
                bd = t == 1 ? ge : 0.9 * bd + ge
                pd -= 0.1 * (nesterov ? ge + 0.9 * bd : bd)
                XCTAssertEqual(Double(p.toFloatArray()[0]), pd, accuracy: 1e-6, "nesterov \(nesterov) step \(t)")
            }
        }
    }

    func testClipGradNorm() throws {
        let a = try Tensor.zeros([2]).requiresGrad_(), b = try Tensor.zeros([1]).requiresGrad_()
        a.grad = try Tensor([3, 0] as [Float], shape: [2])
        b.grad = try Tensor([4] as [Float], shape: [1])
        let total = try OptimKernels.clipGradNorm([a, b, try Tensor.zeros([3])], maxNorm: 1)
        XCTAssertEqual(total, 5, accuracy: 1e-9)
        XCTAssertEqual(Double(a.grad!.toFloatArray()[0]), 3 / (5 + 1e-6), accuracy: 1e-6)
        XCTAssertEqual(Double(b.grad!.toFloatArray()[0]), 4 / (5 + 1e-6), accuracy: 1e-6)
        // Below the bound nothing changes.
        XCTAssertEqual(try OptimKernels.clipGradNorm([a, b], maxNorm: 10), 1, accuracy: 1e-5)
        XCTAssertEqual(Double(b.grad!.toFloatArray()[0]), 4 / (5 + 1e-6), accuracy: 1e-6)
    }

    func testEMAAndSwap() throws {
        let p = try Tensor([1, 2] as [Float], shape: [2]), avg = try Tensor([0, 0] as [Float], shape: [2])
        try OptimKernels.emaUpdate(averages: [avg], params: [p], decay: 0.75)
        XCTAssertEqual(avg.toFloatArray(), [0.25, 0.5])
        try OptimKernels.swapContents([avg], [p])
        XCTAssertEqual(p.toFloatArray(), [0.25, 0.5])
        XCTAssertEqual(avg.toFloatArray(), [1, 2])
        XCTAssertThrowsError(try OptimKernels.emaUpdate(averages: [avg], params: [try Tensor.zeros([3])], decay: 0.5))
    }

    func testStepMismatchesAreErrors() throws {
        let p = try Tensor.zeros([2])
        XCTAssertThrowsError(try OptimKernels.adam(param: p, grad: try Tensor.zeros([3]), expAvg: try Tensor.zeros([2]), expAvgSq: try Tensor.zeros([2]),
                                                   step: 1, lr: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, weightDecay: 0, decoupled: true)) { e in
            XCTAssertTrue("\(e)".contains("gradient shape [3] differs from parameter shape [2]"), "\(e)")
        }
    }

    /// A bf16 forward keeps a bf16 copy of the weight on its storage (BF16Copy.of); an AdamW step
    /// changes the weight in place, and the next bf16 forward must use the new values: it equals
    /// a fresh layer's with the stepped weights, not the first forward's.
    func testBF16ForwardAfterAnOptimiserStepUsesTheSteppedWeight() throws {
        let layer = try Linear(96, 128)
        let x = try Tensor.randn([600, 96], generator: Generator(seed: 5))
        let params = [layer.weight, layer.bias!]
        let moments = try params.map { p in (try Tensor.zeros(p.shape), try Tensor.zeros(p.shape)) }
        let first = try Precision.with(.bf16) { try layer(x) }
        try first.sum().backward()
        for (p, (m, v)) in zip(params, moments) {
            try OptimKernels.adam(param: p, grad: p.grad!, expAvg: m, expAvgSq: v, step: 1, lr: 0.05,
                                  beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: true)
        }
        let second = try Precision.with(.bf16) { try layer(x) }
        let fresh = try Precision.with(.bf16) {
            try Functional.linear(x, weight: try layer.weight.detach().clone(), bias: try layer.bias!.detach().clone())
        }
        XCTAssertEqual(second.toFloatArray(), fresh.toFloatArray(), "the stepped weight is used")
        XCTAssertNotEqual(second.toFloatArray(), first.toFloatArray(), "the step moved the output")
    }
}
