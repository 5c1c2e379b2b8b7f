import Tensors

/// Fixed-step integration of dx/dt = f(x, t) for sampling flow-matching models. MPMv2's CFM
/// head starts from Gaussian noise at t = 1 and integrates to the data at t = 0 (50 midpoint
/// steps). Runs without recording gradients.
///
/// ```swift
/// // The paper's velocity v = x - eps points from noise to data, so dx/dt = -v.
/// let x0 = try ODESolver.integrate(noise, from: 1, to: 0, steps: 50, method: .midpoint) { x, t in
///     try velocity(x, t).neg()
/// }
/// ```
public enum ODESolver {
    public enum Method: String, CaseIterable {
        /// x += h f(x, t): one evaluation per step, first order.
        case euler
        /// x += h f(x + h/2 f(x, t), t + h/2): two evaluations per step, second order.
        case midpoint
    }

    /// Integrates from `t0` to `t1` in `steps` equal steps. `f` gets the state and the current
    /// time and returns dx/dt with the state's shape. `shouldStop` is polled between
    /// evaluations (Ctrl-C in the host) and aborts with an error.
    public static func integrate(_ x: Tensor, from t0: Double, to t1: Double, steps: Int, method: Method = .midpoint,
                                 shouldStop: () -> Bool = { false },
                                 _ f: (Tensor, Double) throws -> Tensor) throws -> Tensor {
        guard steps >= 1 else { throw TensorError("ode: steps must be at least 1, got \(steps)") }
        guard t0.isFinite, t1.isFinite else { throw TensorError("ode: times must be finite (got \(t0) to \(t1))") }
        let h = (t1 - t0) / Double(steps)
        return try withNoGrad {
            var state = x.detach()
            func slope(_ s: Tensor, _ t: Double) throws -> Tensor {
                if shouldStop() { throw TensorError("ode: interrupted") }
                let v = try f(s, t)
                guard v.shape == s.shape else {
                    throw TensorError("ode: the velocity has shape \(formatShape(v.shape)) but the state has shape \(formatShape(s.shape))")
                }
                return v.detach()
            }
            for i in 0..<steps {
                let t = t0 + Double(i) * h
                switch method {
                case .euler:
                    state = try state.add(slope(state, t).mul(h))
                case .midpoint:
                    let half = try state.add(slope(state, t).mul(h / 2))
                    state = try state.add(slope(half, t + h / 2).mul(h))
                }
            }
            return state
        }
    }
}
