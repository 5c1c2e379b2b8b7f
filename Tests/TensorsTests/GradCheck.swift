import XCTest
@testable import Tensors

/// Finite-difference gradient checker. The output is reduced to a scalar with fixed
/// pseudo-random weights (so every output element matters), the analytic gradient comes from
/// `autogradGrad`, and the numeric one from central differences accumulated in Double.
func gradCheck(_ inputs: [Tensor], eps: Float = 1e-3, tol: Double = 1e-2,
               file: StaticString = #filePath, line: UInt = #line,
               _ f: ([Tensor]) throws -> Tensor) throws {
    for x in inputs { try x.requiresGrad_() }
    let y = try f(inputs)
    XCTAssertTrue(y.requiresGrad, "output does not require grad", file: file, line: line)
    let weights = (0..<y.numel).map { Double(($0 * 7919) % 13) / 13 - 0.4 }
    let w = try Tensor(weights.map(Float.init), shape: y.shape)
    let loss = try y.mul(w).sum()
    let analytic = try Tensor.autogradGrad(outputs: [loss], inputs: inputs)
    func scalar() throws -> Double {
        let v = try withNoGrad { try f(inputs) }.toFloatArray()
        return zip(v, weights).reduce(0) { $0 + Double($1.0) * $1.1 }
    }
    for (k, x) in inputs.enumerated() {
        let p = x.pointer(Float.self)
        let a = analytic[k]?.toFloatArray() ?? [Float](repeating: 0, count: x.numel)
        XCTAssertEqual(a.count, x.numel, "input \(k): gradient has the wrong size", file: file, line: line)
        for i in 0..<x.numel {
            let orig = p[i]
            p[i] = orig + eps
            let up = try scalar()
            p[i] = orig - eps
            let down = try scalar()
            p[i] = orig
            let numeric = (up - down) / (2 * Double(eps))
            let diff = Swift.abs(Double(a[i]) - numeric)
            XCTAssert(diff <= tol * Swift.max(1, Swift.abs(numeric)),
                      "input \(k) element \(i): analytic \(a[i]) vs numeric \(numeric)", file: file, line: line)
        }
    }
}

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
