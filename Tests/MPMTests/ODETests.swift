import Foundation
@testable import MPM
import Tensors
import XCTest

final class ODETests: XCTestCase {
    /// dx/dt = x from t = 1 to 0: x(0) = x(1) / e. Midpoint is second order, Euler first.
    func testOrderOfAccuracy() throws {
        let x1 = try tensor([1, 2], [2])
        func err(_ steps: Int, _ m: ODESolver.Method) throws -> Double {
            let x0 = try ODESolver.integrate(x1, from: 1, to: 0, steps: steps, method: m) { x, _ in x }
            return Swift.abs(Double(x0.toFloatArray()[0]) - 1 / M_E)
        }
        let e1 = try err(10, .euler), e2 = try err(20, .euler)
        XCTAssertEqual(e1 / e2, 2, accuracy: 0.3)
        let m1 = try err(10, .midpoint), m2 = try err(20, .midpoint)
        XCTAssertEqual(m1 / m2, 4, accuracy: 0.6)
        XCTAssertLessThan(m2, e2)
    }

    func testTimeIsPassedAndErrorsAreClear() throws {
        var times: [Double] = []
        _ = try ODESolver.integrate(Tensor.zeros([1]), from: 1, to: 0, steps: 2, method: .midpoint) { x, t in times.append(t); return x }
        XCTAssertEqual(times, [1, 0.75, 0.5, 0.25])
        XCTAssertThrowsError(try ODESolver.integrate(Tensor.zeros([2]), from: 1, to: 0, steps: 1) { _, _ in try Tensor.zeros([3]) }) {
            XCTAssert("\($0)".contains("velocity has shape [3]"), "\($0)")
        }
    }

    func testLogitNormal() throws {
        let t = try LogitNormal.sample([20000], generator: Generator(seed: 1)).toFloatArray()
        XCTAssert(t.allSatisfy { $0 > 0 && $0 < 1 })
        let mean = t.reduce(0, +) / Float(t.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.01)
        let median = t.sorted()[10000]
        XCTAssertEqual(median, 0.5, accuracy: 0.01)
    }
}
