import XCTest
@testable import Tensors

final class AutogradTests: XCTestCase {
    func testBackwardAccumulatesAndBroadcasts() throws {
        let w = try Tensor([1, 2, 3] as [Float]).requiresGrad_()
        let x = try Tensor([1, 1, 1, 2, 2, 2] as [Float], shape: [2, 3])
        try x.mul(w).sum().backward()
        assertClose(w.grad!, [3, 3, 3])
        try x.mul(w).sum().backward()
        assertClose(w.grad!, [6, 6, 6])            // accumulated
        let y = try w.mul(w)
        try y.backward(gradient: Tensor([1, 0, 1] as [Float]))
        assertClose(w.grad!, [8, 6, 12])
    }

    func testGraphFreedAndRetained() throws {
        let w = try Tensor([2] as [Float]).requiresGrad_()
        let loss = try w.mul(w).sum()
        try loss.backward(retainGraph: true)
        try loss.backward()
        assertClose(w.grad!, [8])
        assertThrows("graph already freed") { try loss.backward() }
    }

    func testErrors() throws {
        let w = try Tensor([1, 2] as [Float]).requiresGrad_()
        assertThrows("backward without a gradient needs a scalar") { try w.mul(2).backward() }
        assertThrows("does not require grad") { try Tensor.zeros([1]).backward() }
        assertThrows("a leaf tensor that requires grad cannot be modified in place") { try w.add_(1) }
        try withNoGrad { try w.add_(1) }               // optimiser updates are allowed
        assertClose(w, [2, 3])
        let x = try w.mul(1)
        let y = try x.mul(x)
        try x.add_(1)
        assertThrows("a tensor needed for backward (saved by mul) was modified in place (version 0 -> 1)") { try y.sum().backward() }
        assertThrows("add: shapes [3,4] and [5] cannot broadcast") { _ = try Tensor.zeros([3, 4]).add(Tensor.zeros([5])) }
        assertThrows("sum: dim 2 out of range for a 2-D tensor") { _ = try Tensor.zeros([3, 4]).sum(dim: 2) }
        assertThrows("only float32 tensors can require gradients") { _ = try Tensor.arange(0, 3).requiresGrad_() }
        assertThrows("select: index 5 out of range 1..3") { _ = try Tensor.zeros([3]).select(0, 5, indexBase: 1) }
        assertThrows("backward: gradient has shape [3] but the output has shape [2]") { try w.mul(1).backward(gradient: Tensor.zeros([3])) }
    }

    func testNoGradAndDetach() throws {
        let w = try Tensor([1] as [Float]).requiresGrad_()
        let y = try withNoGrad { try w.mul(3) }
        XCTAssertFalse(y.requiresGrad)
        GradMode.push(enabled: false)
        XCTAssertFalse(try w.add(1).requiresGrad)
        GradMode.pop()
        XCTAssertTrue(try w.add(1).requiresGrad)
        XCTAssertFalse(try w.mul(2).detach().requiresGrad)
    }

    func testFunctionalGrad() throws {
        let a = try Tensor([1, 2] as [Float]).requiresGrad_(), b = try Tensor([3, 4] as [Float]).requiresGrad_()
        let h = try a.mul(b)
        let loss = try h.sum()
        let g = try Tensor.autogradGrad(outputs: [loss], inputs: [a, h], retainGraph: true)
        assertClose(g[0]!, [3, 4]); assertClose(g[1]!, [1, 1])
        XCTAssertNil(a.grad)
        let g2 = try Tensor.autogradGrad(outputs: [loss], inputs: [b])
        assertClose(g2[0]!, [1, 2])
    }

    func testDeepGraph() throws {
        let w = try Tensor([0] as [Float]).requiresGrad_()
        var x = w
        for _ in 0..<200_000 { x = try x.add(1) }
        try x.sum().backward()
        assertClose(w.grad!, [1])
        assertClose(x, [200_000])
        // Dropping a deep graph that was never run must not overflow the stack either.
        var z = w
        for _ in 0..<200_000 { z = try z.mul(1) }
        z = w
        XCTAssert(z === w)
    }

    func testAllocatorAccounting() throws {
        let before = Allocator.liveBytes
        do {
            let t = try Tensor.zeros([1 << 20])
            XCTAssertGreaterThanOrEqual(Allocator.liveBytes - before, 4 << 20)
            _ = t.numel
        }
        XCTAssertEqual(Allocator.liveBytes, before)
        XCTAssertGreaterThanOrEqual(Allocator.cachedBytes, 4 << 20)
        let again = try Tensor.zeros([1 << 20])     // reuses the cached block
        _ = again.numel
        Allocator.releaseCache()
        XCTAssertEqual(Allocator.cachedBytes, 0)
        XCTAssertEqual(Allocator.bucket(1000), 1024)
        XCTAssertEqual(Allocator.bucket(1100), 1280)
        XCTAssertEqual(Int(bitPattern: try Tensor.zeros([3]).storage.data) % 64, 0)
    }
}
