import Tensors

/// Attaches gradients computed by a kernel to a value computed without recording, for ops whose
/// output row n depends only on row n of each input (elementwise in the leading dims).
///
/// The Tensors target records custom backward nodes only internally, so a kernel living in
/// this target uses the first-order surrogate
///
///     out = value + Σ_i Σ_last ((input_i - input_i.detach()) * jacobian_i)
///
/// whose value is exactly `value` (the added term is an exact zero) and whose gradient with
/// respect to input_i is `upstream * jacobian_i` — the vector-Jacobian product. The Jacobians
/// are detached tensors the kernel filled in. Second derivatives are not supported (none of
/// the MPM losses needs them).
///
/// ```swift
/// // y = x^2 computed by a kernel, dy/dx = 2x:
/// let y = try CustomGradient.attach(value: y0, inputs: [(x, try x.detach().mul(2), false)])
/// ```
enum CustomGradient {
    /// `inputs`: (tensor, Jacobian of the output with respect to it, whether the Jacobian has
    /// an extra trailing dim to sum over: parameters [N, P] feeding an output [N]).
    static func attach(value: Tensor, inputs: [(tensor: Tensor, jacobian: Tensor, reduceLast: Bool)]) throws -> Tensor {
        try attach(values: [value], inputs: inputs.map { ($0.tensor, [$0.jacobian], $0.reduceLast) })[0]
    }

    /// Several outputs of one kernel at once; `jacobians[k]` belongs to `values[k]`. The
    /// difference input - input.detach() is formed once per input and shared.
    static func attach(values: [Tensor], inputs: [(tensor: Tensor, jacobians: [Tensor], reduceLast: Bool)]) throws -> [Tensor] {
        guard GradMode.isEnabled else { return values }
        var out = values
        for (t, js, reduce) in inputs where t.requiresGrad {
            let delta = try t.sub(t.detach())
            for (k, j) in js.enumerated() {
                var term = try delta.mul(j)
                if reduce { term = try term.sum(dims: [-1]) }
                out[k] = try out[k].add(term)
            }
        }
        return out
    }

    /// True when recording is on and any of `tensors` requires grad.
    static func needed(_ tensors: [Tensor]) -> Bool {
        GradMode.isEnabled && tensors.contains { $0.requiresGrad }
    }
}
