import Foundation
@testable import MPM
import Tensors
import XCTest
import TestSupport

final class SplineTests: XCTestCase {
    let options = RationalQuadraticSpline.Options()   // 8 bins, tail bound 4

    /// Random spline parameters with enough spread to give very unequal bins.
    func randomParams(_ n: Int, seed: UInt64, scale: Double = 1.5) throws -> Tensor {
        try Tensor.randn([n, options.parameterCount], generator: Generator(seed: seed)).mul(scale)
    }

    func testIdentityAtInitialisation() throws {
        var p = [Float](repeating: 0, count: 5 * options.parameterCount)
        for i in 0..<5 { for j in 16..<23 { p[i * 23 + j] = Float(options.identityDerivative) } }
        let x = try tensor([-5, -3.9, 0.3, 2.5, 4.0], [5])
        let (y, l) = try RationalQuadraticSpline.transform(x, params: try Tensor(p, shape: [5, 23]))
        for (a, b) in zip(y.toFloatArray(), x.toFloatArray()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for v in l.toFloatArray() { XCTAssertEqual(v, 0, accuracy: 1e-5) }
    }

    func testInverseUndoesForwardAndNegatesLogDet() throws {
        // One spline (the same parameters for every element) over a grid crossing both tails.
        let n = 400
        let x = try Tensor.linspace(-4.5, 4.5, steps: n)
        let p = try randomParams(1, seed: 3).expand([n, options.parameterCount]).contiguous()
        let (y, l) = try RationalQuadraticSpline.transform(x, params: p)
        let (x2, li) = try RationalQuadraticSpline.transform(y, params: p, inverse: true)
        let xs = x.toFloatArray(), ys = y.toFloatArray(), ls = l.toFloatArray()
        for (i, (a, b)) in zip(x2.toFloatArray(), xs).enumerated() {
            // f32 rounding of y is amplified by 1/slope on the way back.
            let slope = Foundation.exp(Double(ls[i]))
            XCTAssertEqual(Double(a), Double(b), accuracy: 1e-5 + 1e-6 / slope, "element \(i)")
        }
        for (a, b) in zip(li.toFloatArray(), ls) { XCTAssertEqual(a, -b, accuracy: 2e-3) }
        // Monotonic, continuous at the tail bounds, and the identity outside them.
        for i in 1..<n { XCTAssertGreaterThan(ys[i], ys[i - 1]) }
        for i in 0..<n where Swift.abs(xs[i]) > 4 { XCTAssertEqual(ys[i], xs[i]); XCTAssertEqual(ls[i], 0) }
        let (edge, _) = try RationalQuadraticSpline.transform(try tensor([-4, 4], [2]), params: p.narrow(0, start: 0, length: 2))
        XCTAssertEqual(edge.toFloatArray(), [-4, 4])
    }

    /// The Double kernel's inverse is exact to rounding for strongly uneven bins.
    func testKernelInverseIsExact() throws {
        let p = try randomParams(40, seed: 21, scale: 2.5)
        try p.withElements(as: Float.self) { ps in
            var scratch = RationalQuadraticSpline.SplineScratch(bins: 8)
            for i in 0..<40 {
                let x = -3.99 + 7.98 * Double(i) / 39
                var f = RationalQuadraticSpline.SplineResult(), b = f
                _ = RationalQuadraticSpline.evaluate(x: x, params: ps.baseAddress! + i * 23, inverse: false, options: options, jacobian: false, scratch: &scratch, result: &f)
                _ = RationalQuadraticSpline.evaluate(x: f.y, params: ps.baseAddress! + i * 23, inverse: true, options: options, jacobian: false, scratch: &scratch, result: &b)
                XCTAssertEqual(b.y, x, accuracy: 1e-9)
                XCTAssertEqual(b.logDet, -f.logDet, accuracy: 1e-8)
            }
        }
    }

    /// log|dy/dx| matches the slope of the map measured by finite differences.
    func testLogDetIsTheLogSlope() throws {
        let p = try randomParams(50, seed: 11)
        try p.withElements(as: Float.self) { ps in
            var scratch = RationalQuadraticSpline.SplineScratch(bins: 8)
            for i in 0..<50 {
                let x = -3.9 + 7.8 * Double(i) / 49
                var r = RationalQuadraticSpline.SplineResult(), up = r, down = r
                let e = 1e-6
                _ = RationalQuadraticSpline.evaluate(x: x, params: ps.baseAddress! + i * 23, inverse: false, options: options, jacobian: true, scratch: &scratch, result: &r)
                _ = RationalQuadraticSpline.evaluate(x: x + e, params: ps.baseAddress! + i * 23, inverse: false, options: options, jacobian: false, scratch: &scratch, result: &up)
                _ = RationalQuadraticSpline.evaluate(x: x - e, params: ps.baseAddress! + i * 23, inverse: false, options: options, jacobian: false, scratch: &scratch, result: &down)
                let slope = (up.y - down.y) / (2 * e)
                XCTAssertEqual(r.logDet, Foundation.log(slope), accuracy: 1e-5, "x = \(x)")
                XCTAssertEqual(r.dydx, slope, accuracy: 1e-5 * Swift.max(1, slope))
            }
        }
    }

    /// The analytic Jacobian of the Double kernel against central differences, for every
    /// parameter, in both directions (tight tolerance: no f32 rounding in the kernel).
    func testKernelJacobianMatchesFiniteDifferences() throws {
        for inverse in [false, true] {
            let p = try randomParams(30, seed: inverse ? 5 : 6)
            var params = p.toFloatArray()
            var scratch = RationalQuadraticSpline.SplineScratch(bins: 8)
            for i in 0..<30 {
                let x = -3.95 + 7.9 * Double(i) / 29
                var r = RationalQuadraticSpline.SplineResult()
                params.withUnsafeBufferPointer { b in
                    _ = RationalQuadraticSpline.evaluate(x: x, params: b.baseAddress! + i * 23, inverse: inverse, options: options, jacobian: true, scratch: &scratch, result: &r)
                }
                let dy = scratch.dyParams, dl = scratch.dLParams
                for k in 0..<23 {
                    let orig = params[i * 23 + k]
                    var up = RationalQuadraticSpline.SplineResult(), down = up
                    params[i * 23 + k] = orig + 1e-5
                    let hi = Double(params[i * 23 + k])
                    params.withUnsafeBufferPointer { b in
                        _ = RationalQuadraticSpline.evaluate(x: x, params: b.baseAddress! + i * 23, inverse: inverse, options: options, jacobian: false, scratch: &scratch, result: &up)
                    }
                    params[i * 23 + k] = orig - 1e-5
                    let lo = Double(params[i * 23 + k])
                    params.withUnsafeBufferPointer { b in
                        _ = RationalQuadraticSpline.evaluate(x: x, params: b.baseAddress! + i * 23, inverse: inverse, options: options, jacobian: false, scratch: &scratch, result: &down)
                    }
                    params[i * 23 + k] = orig
                    let ny = (up.y - down.y) / (hi - lo), nl = (up.logDet - down.logDet) / (hi - lo)
                    XCTAssertEqual(dy[k], ny, accuracy: 1e-4 * Swift.max(1, Swift.abs(ny)), "inverse \(inverse) x \(x) dy/dp[\(k)]")
                    XCTAssertEqual(dl[k], nl, accuracy: 1e-4 * Swift.max(1, Swift.abs(nl)), "inverse \(inverse) x \(x) dL/dp[\(k)]")
                }
            }
        }
    }

    /// Autograd through the tensor op (forward and inverse, outputs and log-determinants).
    func testAutogradGradients() throws {
        for inverse in [false, true] {
            let x = try Tensor.linspace(-4.3, 4.3, steps: 12).contiguous()
            let p = try randomParams(12, seed: 9).contiguous()
            try gradCheck([("x", x), ("params", p)], tol: 2e-2, maxPerTensor: 40) {
                let (y, l) = try RationalQuadraticSpline.transform(x, params: p, inverse: inverse)
                return try Tensor.cat([y, l])
            }
        }
    }

    func testShapeErrors() throws {
        XCTAssertThrowsError(try RationalQuadraticSpline.transform(Tensor.zeros([3]), params: Tensor.zeros([3, 22]))) { e in
            XCTAssert("\(e)".contains("params must have shape [3,23]"), "\(e)")
        }
    }
}
