import Foundation
import Tensors

/// The per-tensor update rules behind the optimisers (`mpm.optim.SGD`, `Adam`, `AdamW`), the
/// EMA and gradient clipping. Each follows PyTorch's single-tensor reference implementation,
/// so a step here equals a step there up to float rounding. The optimiser objects (parameter
/// groups, state dicts) live on the Lua side; these kernels do the arithmetic in one pass.
///
/// ```swift
/// let m = p.zerosLike(), v = p.zerosLike()
/// try OptimKernels.adam(param: p, grad: p.grad!, expAvg: m, expAvgSq: v, step: 1, lr: 1e-3,
///                       beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5, decoupled: true)
/// ```
public enum OptimKernels {
    static func checkPair(_ param: Tensor, _ grad: Tensor, _ op: String) throws {
        guard param.dtype == .f32, grad.dtype == .f32 else {
            throw TensorError("\(op): parameters and gradients must be float32, got \(param.dtype.name) and \(grad.dtype.name)")
        }
        guard param.shape == grad.shape else {
            throw TensorError("\(op): gradient shape \(formatShape(grad.shape)) differs from parameter shape \(formatShape(param.shape))")
        }
    }

    static func checkState(_ state: Tensor, like param: Tensor, _ name: String, _ op: String) throws {
        guard state.dtype == .f32, state.shape == param.shape, state.isContiguous else {
            throw TensorError("\(op): state '\(name)' must be a contiguous float32 tensor of the parameter's shape \(formatShape(param.shape)), got \(state.dtype.name) \(formatShape(state.shape))")
        }
    }

    /// One Adam or AdamW step for one tensor, updating `expAvg`, `expAvgSq` and `param` in place.
    /// `step` is the 1-based step count after this update. With `decoupled` the weight decay
    /// multiplies the parameter by (1 - lr * weightDecay) (AdamW); otherwise it is added to the
    /// gradient as L2 (Adam).
    public static func adam(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, step: Int, lr: Double,
                            beta1: Double, beta2: Double, eps: Double, weightDecay: Double, decoupled: Bool) throws {
        let op = decoupled ? "AdamW" : "Adam"
        try checkPair(param, grad, op)
        try checkState(expAvg, like: param, "exp_avg", op)
        try checkState(expAvgSq, like: param, "exp_avg_sq", op)
        guard step >= 1 else { throw TensorError("\(op): step must be at least 1, got \(step)") }
        // One pass over p, g, m and v (read once, written once), in parallel blocks: the moments,
        // the decoupled decay and the step together. The same roundings as PyTorch's
        // single-tensor rule: p * (1 - lr wd), then p - step_size * m / (sqrt(v) / bc2 + eps).
        let target = param.isContiguous ? param : param.contiguous()
        let g = grad.contiguous()
        let pg = g.elementPointer(as: Float.self), pm = expAvg.elementPointer(as: Float.self),
            pv = expAvgSq.elementPointer(as: Float.self), pp = target.elementPointer(as: Float.self)
        // 1 - beta in Double first (as PyTorch computes it in Python): Float(0.999) is off by
        // 1e-8, which would make 1 - b2 wrong in its fifth digit.
        let b1 = Float(beta1), b2 = Float(beta2), c1 = Float(1 - beta1), c2 = Float(1 - beta2)
        let bc2Sqrt = Float((1 - Foundation.pow(beta2, Double(step))).squareRoot())
        let e = Float(eps)
        let l2 = decoupled ? Float(0) : Float(weightDecay)
        let decay = Float(decoupled ? 1 - lr * weightDecay : 1)
        let stepSize = Float(-(lr / (1 - Foundation.pow(beta1, Double(step)))))
        parallelFor(param.numel, work: param.numel * 8) { lo, hi in
            for i in lo..<hi {
                let gi = l2 != 0 ? pg[i] + l2 * pp[i] : pg[i]
                let m = b1 * pm[i] + c1 * gi
                let v = b2 * pv[i] + c2 * gi * gi
                pm[i] = m
                pv[i] = v
                pp[i] = pp[i] * decay + stepSize * (m / (v.squareRoot() / bc2Sqrt + e))
            }
        }
        expAvg.markModified()
        expAvgSq.markModified()
        if target === param { param.markModified() } else { try withNoGrad { try param.copy_(target) } }
    }

    /// One SGD step for one tensor (PyTorch's rule: L2 weight decay added to the gradient; the
    /// momentum buffer starts as a copy of the first gradient; Nesterov looks ahead). Returns the
    /// momentum buffer to keep (nil without momentum).
    @discardableResult
    public static func sgd(param: Tensor, grad: Tensor, momentumBuffer: Tensor?, lr: Double, momentum: Double,
                           dampening: Double, nesterov: Bool, weightDecay: Double) throws -> Tensor? {
        try checkPair(param, grad, "SGD")
        if let b = momentumBuffer { try checkState(b, like: param, "momentum_buffer", "SGD") }
        return try withNoGrad {
            var d = grad
            if weightDecay != 0 { d = try d.add(param, alpha: weightDecay) }
            var buffer: Tensor? = nil
            if momentum != 0 {
                if let b = momentumBuffer {
                    try b.mul_(momentum).add_(d, alpha: 1 - dampening)
                    buffer = b
                } else {
                    buffer = try d.clone()
                }
                d = nesterov ? try d.add(buffer!, alpha: momentum) : buffer!
            }
            try param.add_(d, alpha: -lr)
            return buffer
        }
    }

    /// Scales all gradients so their joint L2 norm is at most `maxNorm`; returns the norm before
    /// clipping (as torch.nn.utils.clip_grad_norm_, coefficient max_norm / (norm + 1e-6)).
    /// Parameters without a gradient are skipped.
    @discardableResult
    public static func clipGradNorm(_ params: [Tensor], maxNorm: Double) throws -> Double {
        guard maxNorm >= 0 else { throw TensorError("clip_grad_norm_: max_norm must be non-negative, got \(maxNorm)") }
        let grads = params.compactMap { $0.grad }
        var total = 0.0
        for g in grads {
            let c = g.contiguous(), p = c.elementPointer(as: Float.self)
            var s = 0.0
            for i in 0..<c.numel { let v = Double(p[i]); s += v * v }
            total += s
        }
        total = total.squareRoot()
        let coefficient = maxNorm / (total + 1e-6)
        if coefficient < 1 {
            try withNoGrad { for g in grads { try g.mul_(coefficient) } }
        }
        return total
    }

    /// average = decay * average + (1 - decay) * param, for each pair (the EMA update).
    public static func emaUpdate(averages: [Tensor], params: [Tensor], decay: Double) throws {
        guard averages.count == params.count else {
            throw TensorError("EMA: \(averages.count) averages for \(params.count) parameters")
        }
        guard decay >= 0 && decay <= 1 else { throw TensorError("EMA: decay must be in [0, 1], got \(decay)") }
        try withNoGrad {
            for (a, p) in zip(averages, params) {
                guard a.shape == p.shape, a.dtype == p.dtype else {
                    throw TensorError("EMA: average \(formatShape(a.shape)) does not match parameter \(formatShape(p.shape))")
                }
                if a.dtype != .f32 { try a.copy_(p); continue }
                try a.mul_(decay).add_(p.detach(), alpha: 1 - decay)
            }
        }
    }

    /// Exchanges the contents of each pair of tensors in place (EMA swap-in for evaluation).
    public static func swapContents(_ a: [Tensor], _ b: [Tensor]) throws {
        guard a.count == b.count else { throw TensorError("swap: \(a.count) tensors against \(b.count)") }
        try withNoGrad {
            for (x, y) in zip(a, b) {
                guard x.shape == y.shape, x.dtype == y.dtype else {
                    throw TensorError("swap: shapes \(formatShape(x.shape)) and \(formatShape(y.shape)) differ")
                }
                let tmp = try x.clone()
                try x.copy_(y)
                try y.copy_(tmp)
            }
        }
    }
}
