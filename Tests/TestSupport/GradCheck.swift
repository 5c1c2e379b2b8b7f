import NN
import Tensors
import XCTest

/// Packed test sets of mixed lengths, including a set of length 1.
public let mixedLengths = [3, 1, 5, 2]

/// Packed offsets [B+1] for sets of the given lengths.
public func offsetsFor(_ lengths: [Int]) throws -> Tensor {
    var o: [Int64] = [0]
    for n in lengths { o.append(o.last! + Int64(n)) }
    return try Tensor(o, shape: [o.count])
}

/// Finite-difference check of d(sum(w * f()))/d(tensor) for every tensor in `wrt` (module
/// parameters and float inputs), with fixed pseudo-random weights w so that every output
/// element matters. At most `maxPerTensor` elements of each tensor are probed (spread across
/// it) to keep the test quick. The difference quotient divides by the actual float step, so
/// f32 rounding of the probe point does not bias it.
public func gradCheck(_ wrt: [(String, Tensor)], eps: Float = 1e-3, tol: Double = 1e-2, maxPerTensor: Int = 24,
                      file: StaticString = #filePath, line: UInt = #line, _ f: () throws -> Tensor) throws {
    for (_, t) in wrt where !t.requiresGrad { try t.requiresGrad_() }
    for (_, t) in wrt { t.grad = nil }
    let y = try f()
    XCTAssertTrue(y.requiresGrad, "output does not require grad", file: file, line: line)
    let weights = (0..<y.numel).map { Double(($0 * 7919) % 13) / 13 - 0.4 }
    let w = try Tensor(weights.map(Float.init), shape: y.shape)
    try y.mul(w).sum().backward()
    func scalar() throws -> Double {
        let v = try withNoGrad { try f() }.toFloatArray()
        return zip(v, weights).reduce(0) { $0 + Double($1.0) * $1.1 }
    }
    var checked = 0
    for (name, x) in wrt {
        XCTAssertTrue(x.isContiguous, "\(name) must be contiguous for probing", file: file, line: line)
        let p = x.elementPointer(as: Float.self)
        let analytic = x.grad?.toFloatArray() ?? [Float](repeating: 0, count: x.numel)
        let stride = Swift.max(1, x.numel / maxPerTensor)
        for i in Swift.stride(from: 0, to: x.numel, by: stride) {
            let orig = p[i]
            p[i] = orig + eps
            let hi = p[i]
            let up = try scalar()
            p[i] = orig - eps
            let lo = p[i]
            let down = try scalar()
            p[i] = orig
            let numeric = (up - down) / Double(hi - lo)
            let diff = Swift.abs(Double(analytic[i]) - numeric)
            XCTAssert(diff <= tol * Swift.max(1, Swift.abs(numeric)),
                      "\(name)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", file: file, line: line)
            checked += 1
        }
    }
    XCTAssertGreaterThan(checked, 0, file: file, line: line)
}

/// The same check for unnamed inputs (called "input 0", "input 1", ... in messages) of a
/// function of them, probing every element.
public func gradCheck(_ inputs: [Tensor], eps: Float = 1e-3, tol: Double = 1e-2,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: ([Tensor]) throws -> Tensor) throws {
    try gradCheck(inputs.enumerated().map { ("input \($0.offset)", $0.element) }, eps: eps, tol: tol,
                  maxPerTensor: Int.max, file: file, line: line) { try f(inputs) }
}

/// The parameters of `m` plus the given inputs, named for messages.
public func probes(_ m: Module, _ inputs: [(String, Tensor)]) -> [(String, Tensor)] {
    m.namedParameters().map { ($0.name, $0.tensor) } + inputs
}
