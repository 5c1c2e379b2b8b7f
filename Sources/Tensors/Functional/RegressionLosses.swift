import Foundation

/// mse_loss, l1_loss, smooth_l1_loss and huber_loss: losses of the difference d = input - target,
/// fused with their reduction. A reduced loss is summed in one pass (Double accumulation)
/// without materialising the per-element values, and the backward writes the input gradient in
/// one pass too; the target gradient is its negation. Input and target broadcast (PyTorch warns
/// and broadcasts; so do we, minus the warning).

/// A loss of the difference d = input - target.
enum PointwiseLoss {
    case mse, l1
    case smoothL1(beta: Float)
    case huber(delta: Float)

    var name: String {
        switch self {
        case .mse: return "mse_loss"
        case .l1: return "l1_loss"
        case .smoothL1: return "smooth_l1_loss"
        case .huber: return "huber_loss"
        }
    }
}

extension Functional {
    /// Mean squared error: mean((input - target)^2) with the default reduction.
    /// ```swift
    /// let loss = try Functional.mseLoss(velocity, targetVelocity)
    /// ```
    public static func mseLoss(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try pointwiseLoss(.mse, input, target, reduction)
    }

    /// Mean absolute error: mean(|input - target|) with the default reduction. The gradient at
    /// input == target is 0.
    /// ```swift
    /// let loss = try Functional.l1Loss(predicted, features)
    /// ```
    public static func l1Loss(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try pointwiseLoss(.l1, input, target, reduction)
    }

    /// Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is the L1 loss.
    /// ```swift
    /// let loss = try Functional.smoothL1Loss(x, y, beta: 0.5)
    /// ```
    public static func smoothL1Loss(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean,
                                    beta: Double = 1) throws -> Tensor {
        guard beta >= 0, beta.isFinite else { throw TensorError("smooth_l1_loss: beta must be a finite number >= 0, got \(beta)") }
        return try pointwiseLoss(beta == 0 ? .l1 : .smoothL1(beta: Float(beta)), input, target, reduction, name: "smooth_l1_loss")
    }

    /// Huber loss: 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta).
    /// ```swift
    /// let loss = try Functional.huberLoss(x, y, delta: 1)
    /// ```
    public static func huberLoss(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean,
                                 delta: Double = 1) throws -> Tensor {
        guard delta > 0, delta.isFinite else { throw TensorError("huber_loss: delta must be a finite number > 0, got \(delta)") }
        return try pointwiseLoss(.huber(delta: Float(delta)), input, target, reduction)
    }

    static func pointwiseLoss(_ kind: PointwiseLoss, _ input: Tensor, _ target: Tensor, _ reduction: LossReduction,
                              name: String? = nil) throws -> Tensor {
        let op = name ?? kind.name
        try requireFloat(input, op: op, name: "input")
        try requireFloat(target, op: op, name: "target")
        let shape: [Int]
        do { shape = try broadcastShapes(input.shape, target.shape, op: op) } catch {
            throw TensorError("\(op): input \(shapeString(input.shape)) and target \(shapeString(target.shape)) cannot broadcast")
        }
        switch kind {
        case .mse:
            return try PointwiseLossKernel.run(op, input, target, shape, reduction, { $0 * $0 }, { 2 * $0 })
        case .l1:
            return try PointwiseLossKernel.run(op, input, target, shape, reduction, { Swift.abs($0) },
                                               { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
        case .smoothL1(let beta):
            let half = 0.5 * beta, inv = 1 / beta
            return try PointwiseLossKernel.run(op, input, target, shape, reduction,
                                               { Swift.abs($0) < beta ? 0.5 * inv * $0 * $0 : Swift.abs($0) - half },
                                               { Swift.abs($0) < beta ? $0 * inv : ($0 > 0 ? 1 : -1) })
        case .huber(let delta):
            return try PointwiseLossKernel.run(op, input, target, shape, reduction,
                                               { Swift.abs($0) <= delta ? 0.5 * $0 * $0 : delta * (Swift.abs($0) - 0.5 * delta) },
                                               { Swift.abs($0) <= delta ? $0 : ($0 > 0 ? delta : -delta) })
        }
    }
}

enum PointwiseLossKernel {
    /// Elements per block of a reduced forward: the loss values go to a stack buffer that is
    /// then summed with SIMD lanes.
    static let block = 1024

    @inline(__always)
    static func run(_ op: String, _ input: Tensor, _ target: Tensor, _ shape: [Int], _ reduction: LossReduction,
                    _ f: @escaping (Float) -> Float, _ df: @escaping (Float) -> Float) throws -> Tensor {
        let x = try Functional.broadcastDense(input, to: shape, op: op, name: "input")
        let y = try Functional.broadcastDense(target, to: shape, op: op, name: "target")
        let n = x.numel
        let xp = x.pointer(Float.self), yp = y.pointer(Float.self)
        let out: Tensor
        if reduction == .none {
            out = Tensor(uninitialized: shape, dtype: .f32)
            let outp = out.pointer(Float.self)
            parallelFor(n, work: n) { lo, hi in for i in lo..<hi { outp[i] = f(xp[i] - yp[i]) } }
        } else {
            let total = Functional.parallelSum(n) { lo, hi in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { buf in
                    let b = buf.baseAddress!
                    var s = 0.0, i = lo
                    while i < hi {
                        let k = Swift.min(block, hi - i)
                        for j in 0..<k { b[j] = f(xp[i + j] - yp[i + j]) }
                        s += FusedMath.sum(b, k)
                        i += k
                    }
                    return s
                }
            }
            out = Tensor(scalar: Float(reduction == .mean ? total / Double(n) : total))
        }
        guard Functional.recording([input, target]) else { return out }
        let savedX = Saved(input, op: op), savedY = Saved(target, op: op)
        let wantX = input.requiresGrad, wantY = target.requiresGrad
        let inputShape = input.shape, targetShape = target.shape
        return Tensor.record(op, out, [input, target]) { g in
            let x = try Functional.broadcastDense(try savedX.get(), to: shape, op: op, name: "input")
            let y = try Functional.broadcastDense(try savedY.get(), to: shape, op: op, name: "target")
            let xp = x.pointer(Float.self), yp = y.pointer(Float.self)
            // d loss / d input, elementwise; the target's gradient is its negation.
            let gd = Tensor(uninitialized: shape, dtype: .f32)
            let gp = gd.pointer(Float.self)
            if reduction == .none {
                let gin = Functional.dense(g).pointer(Float.self)
                parallelFor(n, work: n) { lo, hi in for i in lo..<hi { gp[i] = gin[i] * df(xp[i] - yp[i]) } }
            } else {
                let s = Float(try g.item() / (reduction == .mean ? Double(n) : 1))
                parallelFor(n, work: n) { lo, hi in for i in lo..<hi { gp[i] = s * df(xp[i] - yp[i]) } }
            }
            let gx = wantX ? try gd.sumTo(inputShape) : nil
            let gy = wantY ? try gd.neg().sumTo(targetShape) : nil
            return [gx, gy]
        }
    }
}
