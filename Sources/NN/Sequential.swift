import Tensors

/// Runs its children in order, feeding each one's first output to the next. Extra arguments
/// (offsets, a context) are passed unchanged to every child that is not row-wise, so
/// `Sequential([Linear, TransformerLayer, LayerNorm])(x, offsets)` works. Children are named
/// "1", "2", ... (state dict keys "1.weight", ...).
///
/// ```swift
/// let net = Sequential([try Linear(7, 64), Activation(.silu), try Linear(64, 1)])
/// let y = try net(x)
/// ```
public final class Sequential: Module {
    public init(_ modules: [Module]) {
        super.init()
        for m in modules { appendChild(m) }
    }

    public var count: Int { children.count }

    /// Appends a module at the end; throws when `module` contains this Sequential (a cycle).
    public func append(_ module: Module) throws { try appendChildRefusingCycles(module, operation: "Sequential:append") }

    public override var signature: Signature { Signature(["x"], optional: ["..."]) }

    public func callAsFunction(_ x: Tensor, _ extra: Tensor?...) throws -> Tensor {
        try forward([x] + extra)[0]
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        guard let first = inputs.first, var x = first else {
            throw TensorError("Sequential: argument 1 (x) is required")
        }
        let extra = Array(inputs.dropFirst())
        var outputs = [x]
        for (i, (_, child)) in children.enumerated() {
            let args: [Tensor?] = child.isRowWise ? [x] : [x] + extra
            do {
                outputs = try child.forward(args, base: base)
            } catch let e as TensorError {
                throw e.prefixed("Sequential child \(i + 1) (\(child.typeName)): ")
            }
            guard let next = outputs.first else {
                throw TensorError("Sequential child \(i + 1) (\(child.typeName)) returned no tensor")
            }
            x = next
        }
        return outputs
    }
}
