import Tensors

/// Pools each packed set into one vector: a learned class token attends to the set through
/// `depth` cross-attention blocks (pre-norm on the token, SwiGLU feed-forward), so only the
/// token is updated. This is the MPMv2 classifier head's pooling (2 blocks, 4 heads, ff_mult 1,
/// dropout 0.2, no LayerScale). Returns [B, D]; an empty set gives the token passed through
/// the feed-forward branches only.
///
/// Init: the class token ~ N(0, 1), as the reference.
///
/// ```swift
/// var o = TransformerOptions(); o.ffMult = 1; o.dropout = 0.2
/// let pool = try ClassAttentionPooling(dim: 128, heads: 4, depth: 2, options: o)
/// let v = try pool(x, offsets: offsets)     // [B, 128]
/// ```
public final class ClassAttentionPooling: Module {
    public let dim: Int
    public let depth: Int
    public let token: Tensor
    public let layers: ModuleList
    public let options: TransformerOptions

    public init(dim: Int, heads: Int, depth: Int = 2, options: TransformerOptions = TransformerOptions()) throws {
        try Init.checkSize(depth, "depth", "ClassAttentionPooling")
        self.dim = dim
        self.depth = depth
        self.options = options
        layers = ModuleList(try (0..<depth).map { _ in try TransformerLayer(dim: dim, heads: heads, options: options, cross: true) })
        token = Init.normal([1, dim])
        super.init()
        registerParameter("token", token)
        registerChild("layers", layers)
    }

    public override var extraDescription: String { "dim=\(dim), depth=\(depth), " + options.description }
    public override var signature: Signature {
        Signature(["x", "offsets"] + (options.contextDim != nil ? ["context"] : []))
    }

    public func callAsFunction(_ x: Tensor, offsets: Tensor, context: Tensor? = nil) throws -> Tensor {
        guard x.dim == 2, x.shape[1] == dim else {
            throw TensorError("ClassAttentionPooling(dim=\(dim)): x must be packed [T, \(dim)], got \(formatShape(x.shape))")
        }
        let o = try Tensor.validatedOffsets(offsets, rows: x.shape[0], op: "ClassAttentionPooling")
        let B = o.count - 1
        var g = try token.expand([B, dim])
        let gOffsets = try NNOps.unitOffsets(B)
        for case let layer as TransformerLayer in layers.modules {
            g = try layer(g, offsets: gOffsets, kv: x, kvOffsets: offsets, context: context)
        }
        return g
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        return [try self(a[0]!, offsets: a[1]!, context: a.count > 2 ? a[2] : nil)]
    }
}
