import Tensors

/// LayerNorm whose scale and shift come from a context vector (adaptive LayerNorm, as DiT):
/// y = norm(x) * (1 + scale) + shift with [scale, shift] = Linear(ctx_dim -> 2D)(context).
/// The context is per set [B, C] (expanded over each set's rows) or per row [T, C].
///
/// Init: the modulation Linear starts at zero (weight and bias), so the block starts as a plain
/// LayerNorm without affine parameters and learns how the context should act.
///
/// ```swift
/// let norm = try AdaptiveLayerNorm(dim: 256, contextDim: 64)
/// let y = try norm(x, offsets: o, context: timeEmbedding)    // context [B, 64]
/// ```
public final class AdaptiveLayerNorm: Module {
    public let dim: Int
    public let contextDim: Int
    public let eps: Double
    public let modulation: Linear

    public init(dim: Int, contextDim: Int, eps: Double = 1e-5) throws {
        try Init.checkSize(dim, "dim", "AdaptiveLayerNorm")
        try Init.checkSize(contextDim, "ctx_dim", "AdaptiveLayerNorm")
        self.dim = dim
        self.contextDim = contextDim
        self.eps = eps
        let m = try Linear(contextDim, 2 * dim)
        try withNoGrad {
            try m.weight.fill_(0)
            try m.bias?.fill_(0)
        }
        modulation = m
        super.init()
        registerChild("modulation", modulation)
    }

    public override var extraDescription: String { "\(dim), ctx_dim=\(contextDim)" }
    public override var signature: Signature { Signature(["x", "offsets", "context"]) }

    public func callAsFunction(_ x: Tensor, offsets: Tensor, context: Tensor) throws -> Tensor {
        guard x.dim == 2, x.shape[1] == dim else {
            throw TensorError("AdaptiveLayerNorm(\(dim)): x must be packed [T, \(dim)], got \(formatShape(x.shape))")
        }
        guard context.dim == 2, context.shape[1] == contextDim else {
            throw TensorError("AdaptiveLayerNorm(\(dim)): context must be [B, \(contextDim)] or [T, \(contextDim)], got \(formatShape(context.shape))")
        }
        _ = try Tensor.validatedOffsets(offsets, rows: x.shape[0], op: "AdaptiveLayerNorm")
        let rows = try NNOps.perRow(try modulation(context), offsets: offsets, rows: x.shape[0],
                                    op: "AdaptiveLayerNorm", what: "context")
        let parts = try rows.chunk(2, dim: 1)
        let normed = try NNOps.layerNorm(x, weight: nil, bias: nil, eps: eps)
        return try normed.mul(parts[0].add(1)).add(parts[1])
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        return [try self(a[0]!, offsets: a[1]!, context: a[2]!)]
    }
}
