import XCTest
@testable import Tensors

// Helpers of the Tensors tests only; the finite-difference gradient check and packed offsets
// are shared by every test target (Tests/TestSupport).

/// A small f32 tensor with deterministic values in [lo, hi).
func sample(_ shape: [Int], seed: UInt64 = 1, lo: Double = -1, hi: Double = 1) throws -> Tensor {
    let g = Generator(seed: seed)
    return try Tensor.rand(shape, generator: g).mul(hi - lo).add(lo)
}

/// Asserts that `body` throws a TensorError whose message contains `text`.
func assertThrows(_ text: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error containing '\(text)'", file: file, line: line)
    } catch let e as TensorError {
        XCTAssert(e.message.contains(text), "message '\(e.message)' lacks '\(text)'", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

func assertClose(_ t: Tensor, _ expected: [Float], tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
    let v = t.toFloatArray()
    XCTAssertEqual(v.count, expected.count, "size", file: file, line: line)
    for (a, b) in zip(v, expected) {
        XCTAssert(a == b || Swift.abs(a - b) <= tol * Swift.max(1, Swift.abs(b)) || (a.isNaN && b.isNaN), "\(v) != \(expected)", file: file, line: line)
    }
}
