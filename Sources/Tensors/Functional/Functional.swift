import Foundation

/// Fused kernels with hand-written backward, the Swift side of `mpm.nn.functional`: softmax,
/// log_softmax, layer_norm, the losses, the SwiGLU gate and attention over packed sets. Names
/// and semantics follow `torch.nn.functional`; dims and class indices are 0-based here (the Lua
/// bindings pass their 1-based values with `indexBase: 1`).
///
/// ```swift
/// let p = try Functional.softmax(logits, dim: -1)
/// let loss = try Functional.crossEntropy(logits, target, labelSmoothing: 0.1)
/// ```
public enum Functional {}

/// How a loss reduces its per-element values, as PyTorch's `reduction=` argument.
/// ```swift
/// let perSample = try Functional.mseLoss(x, y, reduction: .none)
/// ```
public enum LossReduction: String, CaseIterable, Sendable {
    case mean, sum, none
}

extension Functional {
    /// Throws unless `t` is float32.
    static func requireFloat(_ t: Tensor, op: String, name: String) throws {
        guard t.dtype == .f32 else {
            throw TensorError("\(op): \(name) must be float32, got \(t.dtype.name) \(formatShape(t.shape))")
        }
    }

    /// Throws unless logits `input` and `target` are float32 tensors of the same shape (the
    /// binary losses on logits).
    static func requireLogitsAndTarget(_ input: Tensor, _ target: Tensor, op: String) throws {
        try requireFloat(input, op: op, name: "input")
        try requireFloat(target, op: op, name: "target")
        guard target.shape == input.shape else {
            throw TensorError("\(op): target size \(formatShape(target.shape)) must equal input size \(formatShape(input.shape))")
        }
    }

    /// The tensor itself when its elements are laid out densely (so `pointer` walks them in
    /// row-major order), else a contiguous copy. Never recorded by autograd.
    static func dense(_ t: Tensor) -> Tensor {
        t.isContiguous ? t : t.contiguousData()
    }

    /// `t` broadcast to `shape` as a dense tensor (a copy unless it already has that shape),
    /// or an error naming `op` and the argument.
    static func broadcastDense(_ t: Tensor, to shape: [Int], op: String, name: String) throws -> Tensor {
        if t.shape == shape { return dense(t) }
        guard let b = try? broadcastShapes(t.shape, shape, op: op), b == shape else {
            throw TensorError("\(op): \(name) of shape \(formatShape(t.shape)) cannot be broadcast to the input shape \(formatShape(shape))")
        }
        return try withNoGrad { try t.expand(shape) }.contiguousData()
    }

    /// Whether an op on `inputs` will be recorded (so its forward should keep what backward needs).
    static func recording(_ inputs: [Tensor?]) -> Bool {
        GradMode.isEnabled && inputs.contains { $0?.requiresGrad == true }
    }

    /// Runs `body(lo, hi)` over row ranges, on every core when `rows * rowCost` is large.
    @inline(__always) static func forRows(_ rows: Int, rowCost: Int, _ body: (Int, Int) -> Void) {
        parallelFor(rows, work: rows * Swift.max(rowCost, 1), body)
    }

    /// Sum over `0..<n` of `block(lo, hi)`, the blocks run in parallel when `n * cost` is large
    /// and added in a fixed order (the result does not depend on thread timing).
    static func parallelSum(_ n: Int, cost: Int = 1, _ block: (Int, Int) -> Double) -> Double {
        let chunks = parallelPieces(n, work: Double(n) * Double(cost))
        if chunks <= 1 { return n > 0 ? block(0, n) : 0 }
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { buf in
            let out = buf.baseAddress!
            parallelRegion(iterations: chunks) { c in
                out[c] = block(c * n / chunks, (c + 1) * n / chunks)
            }
        }
        return partial.reduce(0, +)
    }

    /// Reduces per-element losses with a Double-accumulated sum; differentiable. `none` returns
    /// the values unchanged. The mean of an empty tensor is NaN, as in PyTorch.
    static func reduce(_ values: Tensor, _ reduction: LossReduction, op: String) throws -> Tensor {
        if reduction == .none { return values }
        let v = dense(values)
        let n = v.numel
        let p = v.pointer(Float.self)
        let total = parallelSum(n) { lo, hi in FusedMath.sum(p + lo, hi - lo) }
        let scale = reduction == .mean ? 1 / Double(n) : 1
        let out = Tensor(scalar: Float(total * scale))
        let shape = values.shape
        return Tensor.record(op, out, [values]) { g in
            let s = try g.item() * scale
            return [try Tensor.filled([], value: s, dtype: .f32).expand(shape)]
        }
    }
}
