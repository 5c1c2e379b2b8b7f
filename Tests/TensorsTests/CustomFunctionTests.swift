import TestSupport
import XCTest
@testable import Tensors

/// `Tensor.custom`: hand-written backwards for ops defined outside the built-in set.
final class CustomFunctionTests: XCTestCase {
    /// What the backward closures saw.
    final class Log { var calls = 0; var seen: [Bool] = [] }

    /// y = x^3 * w, with dy/dx = 3x^2 w and dy/dw = x^3.
    func cubeTimes(_ x: Tensor, _ w: Tensor, log: Log? = nil) throws -> Tensor {
        let y0 = try withNoGrad { try x.mul(x).mul(x).mul(w) }
        return try Tensor.custom(name: "cube_times", inputs: [x, w], output: y0, saving: [x, w]) { g, saved in
            log?.calls += 1
            let (x, w) = (saved[0], saved[1])
            let x2 = try x.mul(x)
            return [try g.mul(x2).mul(w).mul(3), try g.mul(x2).mul(x)]
        }
    }

    /// (x * w, x^2): two outputs from one node.
    func mulSquare(_ x: Tensor, _ w: Tensor, log: Log? = nil) throws -> [Tensor] {
        let (a, b) = try withNoGrad { (try x.mul(w), try x.mul(x)) }
        return try Tensor.custom(name: "mul_square", inputs: [x, w], outputs: [a, b], saving: [x, w]) { g, saved in
            log?.calls += 1
            log?.seen = g.map { $0 != nil }
            let (x, w) = (saved[0], saved[1])
            var gx = try g[0].map { try $0.mul(w) }
            if let gb = g[1] {
                let t = try gb.mul(x).mul(2)
                gx = try gx.map { try $0.add(t) } ?? t
            }
            return [gx, try g[0].map { try $0.mul(x) }]
        }
    }

    func testSingleOutputGradientsMatchFiniteDifferences() throws {
        let x = try sample([2, 3], seed: 1), w = try sample([2, 3], seed: 2)
        try gradCheck([x, w]) { try cubeTimes($0[0], $0[1]) }
        // Inputs that are themselves results of recorded ops (edges into nodes, not leaves).
        let a = try sample([4], seed: 3), b = try sample([4], seed: 4)
        try gradCheck([a, b]) { t in
            try cubeTimes(try t[0].mul(2).add(0.5), try t[1].exp()).mul(t[0])
        }
        let y = try cubeTimes(try sample([3], seed: 5).requiresGrad_(), try sample([3], seed: 6))
        XCTAssertEqual(y.gradFn?.name, "cube_times")
        XCTAssertTrue(y.description.contains("grad_fn=<cube_times>"), y.description)
    }

    func testTwoOutputs() throws {
        let x = try sample([5], seed: 7), w = try sample([5], seed: 8)
        try gradCheck([x, w]) { t in
            let out = try mulSquare(t[0], t[1])
            return try Tensor.cat([out[0], out[1].mul(1.5)])
        }
        // Both outputs feeding one loss: the backward runs once, with both gradients.
        let log = Log()
        let x2 = try Tensor([1, 2] as [Float]).requiresGrad_(), w2 = try Tensor([3, 4] as [Float]).requiresGrad_()
        var out = try mulSquare(x2, w2, log: log)
        XCTAssertEqual(out[1].gradFn?.name, "mul_square")
        try out[0].add(out[1]).sum().backward()
        XCTAssertEqual(log.calls, 1)
        XCTAssertEqual(log.seen, [true, true])
        assertClose(x2.grad!, [3 + 2, 4 + 4])          // w + 2x
        assertClose(w2.grad!, [1, 2])                  // x
        // Only the second output used: the first gradient is nil and w gets none.
        x2.grad = nil; w2.grad = nil
        out = try mulSquare(x2, w2, log: log)
        try out[1].sum().backward()
        XCTAssertEqual(log.seen, [false, true])
        assertClose(x2.grad!, [2, 4])
        XCTAssertNil(w2.grad)
        // Functional form, outputs used as roots directly.
        out = try mulSquare(x2, w2)
        let g = try Tensor.autogradGrad(outputs: [out[0], out[1]], inputs: [x2, w2],
                                        gradOutputs: [Tensor([1, 1] as [Float]), Tensor([2, 0] as [Float])])
        assertClose(g[0]!, [3 + 4, 4])
        assertClose(g[1]!, [1, 2])
        // Graph freed after one backward, as for the built-in ops.
        out = try mulSquare(x2, w2)
        let loss = try out[0].add(out[1]).sum()
        try loss.backward(retainGraph: true)
        try loss.backward()
        assertThrows("graph already freed") { try loss.backward() }
    }

    func testNoNodeWithoutGrad() throws {
        let log = Log()
        let x = try sample([3], seed: 9).requiresGrad_(), w = try sample([3], seed: 10)
        let y = try withNoGrad { try cubeTimes(x, w, log: log) }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradFn)
        let outs = try withNoGrad { try mulSquare(x, w) }
        XCTAssertTrue(outs.allSatisfy { !$0.requiresGrad && $0.gradFn == nil })
        // No input requires grad: nothing recorded either.
        let plain = try cubeTimes(try sample([3], seed: 11), w, log: log)
        XCTAssertFalse(plain.requiresGrad)
        XCTAssertNil(plain.gradFn)
        // Outputs computed with recording on are cut from that graph.
        let viaOps = try x.mul(2)
        let cut = try Tensor.custom(name: "cut", inputs: [w], output: viaOps) { g, _ in [g] }
        XCTAssertFalse(cut.requiresGrad)
        XCTAssertTrue(viaOps.requiresGrad)             // the caller's tensor is left alone
        XCTAssertTrue(Tensor.isRecorded(inputs: [w, x]))
        XCTAssertFalse(withNoGrad { Tensor.isRecorded(inputs: [x]) })
        XCTAssertEqual(log.calls, 0)
    }

    func testInPlaceModificationOfSavedTensorThrows() throws {
        let x = try sample([3], seed: 12).requiresGrad_(), w = try sample([3], seed: 13)
        let y = try cubeTimes(x, w)
        try w.add_(1)
        assertThrows("a tensor needed for backward (saved by cube_times) was modified in place (version 0 -> 1)") {
            try y.sum().backward()
        }
        let outs = try mulSquare(x, w)
        try w.mul_(2)
        assertThrows("saved by mul_square) was modified in place") { try outs[1].sum().backward() }
    }

    func testBackwardResultsAreChecked() throws {
        let x = try sample([3], seed: 14).requiresGrad_()
        let few = try Tensor.custom(name: "few", inputs: [x, x], output: x.detach()) { g, _ in [g] }
        assertThrows("few backward: returned 1 gradient for 2 inputs") { try few.sum().backward() }
        let wrong = try Tensor.custom(name: "wrong", inputs: [x], output: x.detach()) { _, _ in [try Tensor.zeros([4])] }
        assertThrows("wrong backward: the gradient for input 0 has shape [4] but the input has shape [3]") {
            try wrong.sum().backward()
        }
        assertThrows("needs at least one output") { _ = try Tensor.custom(name: "none", inputs: [x], outputs: []) { _, _ in [] } }
        // Integer outputs never require grad; the float one still does.
        let mixed = try Tensor.custom(name: "mixed", inputs: [x], outputs: [x.detach(), Tensor.arange(0, 3)]) { g, _ in
            XCTAssertNil(g[1])
            return [g[0]]
        }
        XCTAssertTrue(mixed[0].requiresGrad)
        XCTAssertFalse(mixed[1].requiresGrad)
        try mixed[0].sum().backward()
        assertClose(x.grad!, [1, 1, 1])
    }
}
