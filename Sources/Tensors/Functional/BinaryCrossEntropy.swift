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
    /// let loss = try Functional.binaryCrossEntropyWithLogits(logits, labels, posWeight: Tensor([3]))
    /// ```
    public static func binaryCrossEntropyWithLogits(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                                    posWeight: Tensor? = nil,
                                                    reduction: LossReduction = .mean) throws -> Tensor {
        let op = "binary_cross_entropy_with_logits"
        try requireFloat(input, op: op, name: "input")
        try requireFloat(target, op: op, name: "target")
        guard target.shape == input.shape else {
            throw TensorError("\(op): target size \(shapeString(target.shape)) must equal input size \(shapeString(input.shape))")
        }
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
        let vp = values.pointer(Float.self)
        parallelFor(n, work: n * 8) { lo, hi in
            for i in lo..<hi {
                let xi = xp[i], yi = yp[i]
                let lw = 1 + ((pp?[i] ?? 1) - 1) * yi
                vp[i] = (wp?[i] ?? 1) * ((1 - yi) * xi + lw * BCEKernel.softplusNeg(xi))
            }
        }
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
    /// softplus(-x) = log(1 + exp(-x)), stable for any x.
    @inline(__always) static func softplusNeg(_ x: Float) -> Float {
        log1pf(expf(-Swift.abs(x))) + Swift.max(-x, 0)
    }

    /// Gradients (of the input shape, before summing to the arguments' shapes) for the
    /// arguments flagged in `wants`: input, target, weight, pos_weight.
    static func backward(_ g: Tensor, _ x: Tensor, _ y: Tensor, _ w: Tensor?, _ p: Tensor?, _ wants: [Bool]) -> [Tensor?] {
        let shape = x.shape, n = x.numel
        let gp = g.pointer(Float.self), xp = x.pointer(Float.self), yp = y.pointer(Float.self)
        let wp = w?.pointer(Float.self), pp = p?.pointer(Float.self)
        let outs = wants.map { $0 ? Tensor(uninitialized: shape, dtype: .f32) : nil }
        let o = outs.map { $0?.pointer(Float.self) }
        parallelFor(n, work: n * 10) { lo, hi in
            for i in lo..<hi {
                let xi = xp[i], yi = yp[i], gi = gp[i]
                let wi = wp?[i] ?? 1, pi = pp?[i] ?? 1
                let sp = softplusNeg(xi)
                let lw = 1 + (pi - 1) * yi
                // d softplus(-x) / dx = sigmoid(x) - 1
                let sig = xi >= 0 ? 1 / (1 + expf(-xi)) : { let e = expf(xi); return e / (1 + e) }()
                o[0]?[i] = gi * wi * ((1 - yi) + lw * (sig - 1))
                o[1]?[i] = gi * wi * (-xi + (pi - 1) * sp)
                o[2]?[i] = gi * ((1 - yi) * xi + lw * sp)
                o[3]?[i] = gi * wi * yi * sp
            }
        }
        return outs
    }
}
