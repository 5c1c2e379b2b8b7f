import Foundation

/// binary_cross_entropy_with_logits as in PyTorch, in the stable form
///   loss = w * ((1 - y) x + (1 + (p - 1) y) softplus(-x)),  softplus(-x) = log1p(exp(-|x|)) + max(-x, 0)
/// (x logits, y targets, w weight, p pos_weight), which never takes the log of a rounded-off
/// sigmoid. Differentiable in all four arguments; weight and pos_weight broadcast to the input.

extension Functional {
    /// Binary cross-entropy on logits. `target` has the input's shape; `weight` rescales each
    /// element and `posWeight` the positive term (typically one value per class, shape [C],
    /// broadcast along the last dim).
    /// ```swift
    /// let loss = try Functional.binaryCrossEntropyWithLogits(logits, labels, posWeight: Tensor([Float(3)]))
    /// ```
    public static func binaryCrossEntropyWithLogits(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                                    posWeight: Tensor? = nil,
                                                    reduction: LossReduction = .mean) throws -> Tensor {
        let op = "binary_cross_entropy_with_logits"
        try requireLogitsAndTarget(input, target, op: op)
        if let weight { try requireFloat(weight, op: op, name: "weight") }
        if let posWeight { try requireFloat(posWeight, op: op, name: "pos_weight") }
        let shape = input.shape
        let x = dense(input), y = dense(target)
        let w = try weight.map { try broadcastDense($0, to: shape, op: op, name: "weight") }
        let p = try posWeight.map { try broadcastDense($0, to: shape, op: op, name: "pos_weight") }
        let n = x.numel
        let xp = x.pointer(Float.self), yp = y.pointer(Float.self)
        let wp = w?.pointer(Float.self), pp = p?.pointer(Float.self)
        let values = Tensor(uninitialized: shape, dtype: .f32)
        BCEKernel.forward(xp, yp, wp, pp, values.pointer(Float.self), n)
        let perElement: Tensor
        if recording([input, target, weight, posWeight]) {
            let saved = [input, target, weight, posWeight].map { $0.map { Saved($0, op: op) } }
            let wants = [input, target, weight, posWeight].map { $0?.requiresGrad == true }
            let shapes = [input, target, weight, posWeight].map { $0?.shape }
            let inputs = [input, target, weight, posWeight].compactMap { $0 }
            perElement = Tensor.record(op, values, inputs) { g in
                let t = try saved.map { try $0.map { try broadcastDense(try $0.get(), to: shape, op: op, name: "input") } }
                let grads = BCEKernel.backward(dense(g), t[0]!, t[1]!, t[2], t[3], wants)
                var out: [Tensor?] = []
                for k in 0..<4 where shapes[k] != nil { out.append(try grads[k]?.sumTo(shapes[k]!)) }
                return out
            }
        } else {
            perElement = values
        }
        return try reduce(perElement, reduction, op: op)
    }
}

enum BCEKernel {
    typealias V = FusedMath.V

    /// Calls `body(i, k)` for the vectors of `0..<n` (k = 8 lanes, then one partial vector),
    /// split across cores when `n` is large.
    @inline(__always) static func vectors(_ n: Int, cost: Int, _ body: (Int, Int) -> Void) {
        parallelFor(n, work: n * cost) { lo, hi in PointwiseLossKernel.vectors(lo, hi, body) }
    }

    /// The vector at `i`, or ones for an absent argument.
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>?, _ i: Int, _ k: Int) -> V {
        guard let p else { return V(repeating: 1) }
        return PointwiseLossKernel.load(p, i, k)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>?, _ i: Int, _ k: Int) {
        guard let p else { return }
        PointwiseLossKernel.store(v, p, i, k)
    }

    /// Per-element losses; a nil weight or pos_weight counts as 1.
    static func forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>?,
                        _ p: UnsafeMutablePointer<Float>?, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        vectors(n, cost: 8) { i, k in
            let xv = load(x, i, k), yv = load(y, i, k)
            let lw = 1 + (load(p, i, k) - 1) * yv
            let sp = FusedMath.softplusNeg(xv, expNegAbs: FusedMath.exp(-FusedMath.abs(xv)))
            store(load(w, i, k) * ((1 - yv) * xv + lw * sp), out, i, k)
        }
    }

    /// Gradients (of the input shape, before summing to the arguments' shapes) for the
    /// arguments flagged in `wants`: input, target, weight, pos_weight.
    static func backward(_ g: Tensor, _ x: Tensor, _ y: Tensor, _ w: Tensor?, _ p: Tensor?, _ wants: [Bool]) -> [Tensor?] {
        let shape = x.shape, n = x.numel
        let gp = g.pointer(Float.self), xp = x.pointer(Float.self), yp = y.pointer(Float.self)
        let wp = w?.pointer(Float.self), pp = p?.pointer(Float.self)
        let outs = wants.map { $0 ? Tensor(uninitialized: shape, dtype: .f32) : nil }
        let o = outs.map { $0?.pointer(Float.self) }
        // softplus(-x) only matters for the target, weight and pos_weight gradients.
        let wantSoftplus = wants[1] || wants[2] || wants[3]
        vectors(n, cost: 10) { i, k in
            let xv = load(xp, i, k), yv = load(yp, i, k), gv = load(gp, i, k)
            let wv = load(wp, i, k), pv = load(pp, i, k)
            let e = FusedMath.exp(-FusedMath.abs(xv))
            let lw = 1 + (pv - 1) * yv
            // d softplus(-x) / dx = sigmoid(x) - 1
            store(gv * wv * ((1 - yv) + lw * (FusedMath.sigmoid(xv, expNegAbs: e) - 1)), o[0], i, k)
            if wantSoftplus {
                let sp = FusedMath.softplusNeg(xv, expNegAbs: e)
                store(gv * wv * ((pv - 1) * sp - xv), o[1], i, k)
                store(gv * ((1 - yv) * xv + lw * sp), o[2], i, k)
                store(gv * wv * yv * sp, o[3], i, k)
            }
        }
        return outs
    }
}
