import Foundation
import XCTest
@testable import Tensors

/// Shared helpers of the Functional*Tests: golden cases written by Golden/make_golden.py, and
/// tolerance checks against Double references.

/// One case of Golden/functional.json: named input tensors, parameters and expected outputs.
struct GoldenCase {
    let inputs: [String: Any]
    let params: [String: Any]
    let outputs: [String: Any]

    private static let all: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/functional.json")
        guard let data = try? Data(contentsOf: url),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return json
    }()

    init(_ name: String) throws {
        guard let c = GoldenCase.all[name] as? [String: Any] else {
            throw TensorError("golden case '\(name)' missing: run Tests/TensorsTests/Golden/make_golden.py")
        }
        inputs = c["inputs"] as? [String: Any] ?? [:]
        params = c["params"] as? [String: Any] ?? [:]
        outputs = c["outputs"] as? [String: Any] ?? [:]
    }

    private static func entry(_ table: [String: Any], _ key: String) throws -> ([Int], [Double]) {
        guard let e = table[key] as? [String: Any], let shape = e["shape"] as? [Int], let data = e["data"] as? [Double] else {
            throw TensorError("golden entry '\(key)' missing")
        }
        return (shape, data)
    }

    /// An input as a float32 tensor.
    func input(_ key: String) throws -> Tensor {
        let (shape, data) = try GoldenCase.entry(inputs, key)
        return try Tensor(data.map { Float($0) }, shape: shape)
    }

    /// An input as an int64 tensor (class indices, offsets).
    func indices(_ key: String) throws -> Tensor {
        let (shape, data) = try GoldenCase.entry(inputs, key)
        return try Tensor(data.map { Int64($0) }, shape: shape)
    }

    /// An expected output: its shape and Double values.
    func output(_ key: String) throws -> ([Int], [Double]) { try GoldenCase.entry(outputs, key) }
}

/// Asserts that `t` has `shape` and values within `tol * max(1, |expected|)` of `expected`.
func assertMatches(_ t: Tensor, _ expected: ([Int], [Double]), tol: Double = 1e-5, _ what: String = "",
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(t.shape, expected.0, "\(what): shape", file: file, line: line)
    assertValues(t, expected.1, tol: tol, what, file: file, line: line)
}

/// Asserts elementwise closeness to Double values (NaN matches NaN).
func assertValues(_ t: Tensor, _ expected: [Double], tol: Double = 1e-5, _ what: String = "",
                  file: StaticString = #filePath, line: UInt = #line) {
    let v = t.toFloatArray()
    XCTAssertEqual(v.count, expected.count, "\(what): element count", file: file, line: line)
    var worst = 0.0, worstIndex = -1
    for (i, (a, e)) in zip(v, expected).enumerated() {
        if a.isNaN && e.isNaN { continue }
        if Double(a) == e { continue }
        let err = Swift.abs(Double(a) - e) / Swift.max(1, Swift.abs(e))
        if !(err <= worst) { worst = err; worstIndex = i }
    }
    XCTAssert(worstIndex < 0 || worst <= tol,
              "\(what): element \(worstIndex) is \(worstIndex >= 0 ? v[worstIndex] : 0), expected \(worstIndex >= 0 ? expected[worstIndex] : 0) (relative error \(worst) > \(tol))",
              file: file, line: line)
}

/// A float32 tensor of standard normal values times `scale`, from a fixed seed.
func normalSample(_ shape: [Int], seed: UInt64, scale: Double = 1) throws -> Tensor {
    try Tensor.randn(shape, generator: Generator(seed: seed)).mul(scale)
}
