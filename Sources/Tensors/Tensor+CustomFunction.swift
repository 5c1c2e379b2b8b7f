import Foundation

/// Custom differentiable functions: an op whose forward is computed any way the caller likes
/// (a hand-written kernel, several tensor ops under `withNoGrad`) and whose backward is a
/// hand-written vector-Jacobian product. This is the public face of the nodes `Tensor.record`
/// makes for the built-in ops (Autograd.swift), for code outside this module (the MPM spline
/// kernel, the Lua `mpm.autograd.Function`).
extension Tensor {
    /// Whether an op on `inputs` is recorded right now: grad mode is on and at least one input
    /// requires grad. A kernel can test this before `custom(...)` to skip computing what only
    /// the backward needs (Jacobians, saved intermediates).
    /// ```swift
    /// let wantGrad = Tensor.isRecorded(inputs: [x, params])
    /// ```
    public static func isRecorded(inputs: [Tensor]) -> Bool {
        GradMode.isEnabled && inputs.contains { $0.requiresGrad }
    }

    /// Attaches a hand-written backward to outputs computed by the caller, and returns the
    /// outputs to use from then on (aliases of `outputs`, sharing their storage, with
    /// `gradFn = <name>`).
    ///
    /// - `inputs`: the tensors the outputs are differentiated against. Every tensor that requires
    ///   grad and that the outputs depend on must be listed (parameters included); the graph that
    ///   produced `outputs`, if any, is cut off.
    /// - `saving`: tensors the backward needs. They are kept as detached aliases together with
    ///   their storage version; when one was modified in place before the backward runs, the
    ///   backward throws the same "modified in place" error as the built-in ops.
    /// - `backward(gradOutputs, saved)`: gets one gradient per output (nil for an output no
    ///   gradient reached; the entries match the outputs' shapes) and the saved tensors in
    ///   `saving` order, and returns exactly one gradient per input, of that input's shape, or
    ///   nil for none. It runs with grad mode off, so the graph it builds is not recorded
    ///   (no second derivatives). Gradients for inputs that do not require grad are ignored.
    ///
    /// No node is recorded, and `outputs` come back cut from any graph, when grad mode is off
    /// or no input requires grad. Outputs that are not float32 never require grad (their
    /// gradient slot is always nil). Must not capture `inputs` in the closure: save what the
    /// backward needs through `saving`.
    ///
    /// ```swift
    /// // (y, z) = (x * w, x^2) with hand-written vector-Jacobian products.
    /// let (y0, z0) = try withNoGrad { (try x.mul(w), try x.mul(x)) }
    /// let out = try Tensor.custom(name: "MulSquare", inputs: [x, w], outputs: [y0, z0],
    ///                             saving: [x, w]) { g, saved in
    ///     let (x, w) = (saved[0], saved[1])
    ///     var gx = try g[0].map { try $0.mul(w) }
    ///     if let gz = g[1] {
    ///         let t = try gz.mul(x).mul(2)
    ///         gx = try gx.map { try $0.add(t) } ?? t
    ///     }
    ///     return [gx, try g[0].map { try $0.mul(x) }]
    /// }
    /// try out[0].add(out[1]).sum().backward()      // x.grad = w + 2x, w.grad = x
    /// ```
    public static func custom(name: String, inputs: [Tensor], outputs: [Tensor], saving: [Tensor] = [],
                              backward: @escaping (_ gradOutputs: [Tensor?], _ saved: [Tensor]) throws -> [Tensor?]) throws -> [Tensor] {
        guard !outputs.isEmpty else { throw TensorError("\(name): a custom function needs at least one output") }
        let results = outputs.map { $0.requiresGrad ? $0.detach() : $0 }
        let differentiable = results.map { $0.dtype == .f32 }
        guard isRecorded(inputs: inputs), differentiable.contains(true) else { return results }

        let body = customBackward(name: name, inputs: inputs, saving: saving, backward: backward)
        if results.count == 1 {
            // One output: an ordinary node, exactly like the built-in ops.
            return [record(name, results[0], inputs) { g in try body([g]) }]
        }
        return recordOutputs(name, results, inputs, body)
    }

    /// One output: `custom(name:inputs:outputs:saving:backward:)` with a single output, whose
    /// backward always receives a gradient.
    /// ```swift
    /// // y = x^3 with dy/dx = 3x^2.
    /// let y0 = try withNoGrad { try x.mul(x).mul(x) }
    /// let y = try Tensor.custom(name: "Cube", inputs: [x], output: y0, saving: [x]) { g, saved in
    ///     [try g.mul(saved[0]).mul(saved[0]).mul(3)]
    /// }
    /// ```
    public static func custom(name: String, inputs: [Tensor], output: Tensor, saving: [Tensor] = [],
                              backward: @escaping (_ gradOutput: Tensor, _ saved: [Tensor]) throws -> [Tensor?]) throws -> Tensor {
        try custom(name: name, inputs: inputs, outputs: [output], saving: saving) { g, saved in
            // A single-output node only runs when a gradient reached it.
            guard let g0 = g[0] else { return [Tensor?](repeating: nil, count: inputs.count) }
            return try backward(g0, saved)
        }[0]
    }

    /// Wraps the user's backward: checks and unpacks the saved tensors, then checks the
    /// returned gradients' count and shapes (other dtypes are converted to f32, as seeds are). Captures shapes only, never the inputs.
    private static func customBackward(name: String, inputs: [Tensor], saving: [Tensor],
                                       backward: @escaping ([Tensor?], [Tensor]) throws -> [Tensor?]) -> ([Tensor?]) throws -> [Tensor?] {
        let saved = saving.map { Saved($0, op: name) }
        let shapes = inputs.map { $0.shape }
        let wanted = inputs.map { $0.requiresGrad }
        return { gradOutputs in
            let tensors = try saved.map { try $0.get() }
            let grads = try backward(gradOutputs, tensors)
            guard grads.count == shapes.count else {
                throw TensorError("\(name) backward: returned \(grads.count) gradient\(grads.count == 1 ? "" : "s") for \(shapes.count) input\(shapes.count == 1 ? "" : "s") (return one per input, nil where there is none)")
            }
            return try grads.enumerated().map { i, g in
                guard let g, wanted[i] else { return nil }
                guard g.shape == shapes[i] else {
                    throw TensorError("\(name) backward: the gradient for input \(index: i) has shape \(formatShape(g.shape)) but the input has shape \(formatShape(shapes[i]))")
                }
                return g.dtype == .f32 ? g : g.to(.f32, copyAlways: false)
            }
        }
    }
}
