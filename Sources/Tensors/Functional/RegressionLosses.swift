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
            throw TensorError("\(op): input \(formatShape(input.shape)) and target \(formatShape(target.shape)) cannot broadcast")
        }
        switch kind {
        case .mse: return try PointwiseLossKernel.run(SquaredError.self, 0, op, input, target, shape, reduction)
        case .l1: return try PointwiseLossKernel.run(AbsoluteError.self, 0, op, input, target, shape, reduction)
        case .smoothL1(let beta): return try PointwiseLossKernel.run(SmoothL1.self, beta, op, input, target, shape, reduction)
        case .huber(let delta): return try PointwiseLossKernel.run(Huber.self, delta, op, input, target, shape, reduction)
        }
    }
}

/// A loss of the difference d with one parameter p (beta, delta; `inv` is 1/p, so the loops
/// multiply instead of divide), written on SIMD vectors so each kernel is specialised and
/// branch-free (random signs would defeat a branch predictor).
protocol DifferenceLoss {
    static func value(_ d: FusedMath.V, _ p: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V
    /// d loss / d d
    static func derivative(_ d: FusedMath.V, _ p: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V
}

extension DifferenceLoss {
    /// sign(d) (0 at 0, NaN for NaN): 1 with d's sign bit, then zeroed where d == 0.
    @inline(__always) static func sign(_ d: FusedMath.V) -> FusedMath.V {
        let bits = unsafeBitCast(d, to: SIMD8<UInt32>.self)
        let one = unsafeBitCast((bits & 0x8000_0000) | 0x3F80_0000, to: FusedMath.V.self)
        return one.replacing(with: 0, where: d .== 0).replacing(with: d, where: d .!= d)
    }
}

enum SquaredError: DifferenceLoss {
    @inline(__always) static func value(_ d: FusedMath.V, _ p: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V { d * d }
    @inline(__always) static func derivative(_ d: FusedMath.V, _ p: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V { 2 * d }
}

enum AbsoluteError: DifferenceLoss {
    @inline(__always) static func value(_ d: FusedMath.V, _ p: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V { FusedMath.abs(d) }
    @inline(__always) static func derivative(_ d: FusedMath.V, _ p: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V { sign(d) }
}

enum SmoothL1: DifferenceLoss {
    @inline(__always) static func value(_ d: FusedMath.V, _ beta: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V {
        let a = FusedMath.abs(d)
        return (a - 0.5 * beta).replacing(with: 0.5 * d * d * inv, where: a .< beta)
    }
    @inline(__always) static func derivative(_ d: FusedMath.V, _ beta: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V {
        sign(d).replacing(with: d * inv, where: FusedMath.abs(d) .< beta)
    }
}

enum Huber: DifferenceLoss {
    @inline(__always) static func value(_ d: FusedMath.V, _ delta: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V {
        let a = FusedMath.abs(d)
        return (delta * (a - 0.5 * delta)).replacing(with: 0.5 * d * d, where: a .<= delta)
    }
    @inline(__always) static func derivative(_ d: FusedMath.V, _ delta: FusedMath.V, _ inv: FusedMath.V) -> FusedMath.V {
        (sign(d) * delta).replacing(with: d, where: FusedMath.abs(d) .<= delta)
    }
}

enum PointwiseLossKernel {
    typealias V = FusedMath.V

    /// Calls `body(i, k)` for the vectors of `lo..<hi`: k = 8 lanes, then one partial vector.
    @inline(__always) static func vectors(_ lo: Int, _ hi: Int, _ body: (Int, Int) -> Void) {
        var i = lo
        while i + 8 <= hi { body(i, 8); i += 8 }
        if i < hi { body(i, hi - i) }
    }

    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ k: Int) -> V {
        k == 8 ? FusedMath.load(p + i) : FusedMath.loadPartial(p + i, k)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ k: Int) {
        if k == 8 { FusedMath.store(v, p + i) } else { FusedMath.storePartial(v, p + i, k) }
    }

    static func run<L: DifferenceLoss>(_ loss: L.Type, _ param: Float, _ op: String, _ input: Tensor, _ target: Tensor,
                                       _ shape: [Int], _ reduction: LossReduction) throws -> Tensor {
        let x = try Functional.broadcastDense(input, to: shape, op: op, name: "input")
        let y = try Functional.broadcastDense(target, to: shape, op: op, name: "target")
        let n = x.numel
        let xp = x.pointer(Float.self), yp = y.pointer(Float.self)
        let pv = V(repeating: param), iv = V(repeating: param == 0 ? 0 : 1 / param)
        let out: Tensor
        if reduction == .none {
            out = Tensor(uninitialized: shape, dtype: .f32)
            let outp = out.pointer(Float.self)
            parallelFor(n, work: n) { lo, hi in
                vectors(lo, hi) { i, k in store(L.value(load(xp, i, k) - load(yp, i, k), pv, iv), outp, i, k) }
            }
        } else {
            let total = Functional.parallelSum(n) { lo, hi in
                var s = 0.0, i = lo
                while i < hi {
                    let end = Swift.min(hi, i + FusedMath.flushEvery)
                    var acc = V()
                    vectors(i, end) { j, k in
                        let v = L.value(load(xp, j, k) - load(yp, j, k), pv, iv)
                        if k == 8 { acc += v } else { for l in 0..<k { acc[l] += v[l] } }
                    }
                    s += Double(acc.sum())
                    i = end
                }
                return s
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
                parallelFor(n, work: n) { lo, hi in
                    vectors(lo, hi) { i, k in
                        store(load(gin, i, k) * L.derivative(load(xp, i, k) - load(yp, i, k), pv, iv), gp, i, k)
                    }
                }
            } else {
                let s = V(repeating: Float(try g.item() / (reduction == .mean ? Double(n) : 1)))
                parallelFor(n, work: n) { lo, hi in
                    vectors(lo, hi) { i, k in store(s * L.derivative(load(xp, i, k) - load(yp, i, k), pv, iv), gp, i, k) }
                }
            }
            let gx = wantX ? try gd.sumTo(inputShape) : nil
            let gy = wantY ? try gd.neg().sumTo(targetShape) : nil
            return [gx, gy]
        }
    }
}
