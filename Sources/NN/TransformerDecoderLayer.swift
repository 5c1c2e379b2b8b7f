import Tensors

/// A pre-norm decoder block on packed sets: self-attention, cross-attention to another packed
/// set (the memory, e.g. the encoder output), then a SwiGLU feed-forward, each a residual
/// branch with optional LayerScale and optional adaptive LayerNorm (how the SSFM decoder takes
/// its time embedding).
///
/// ```swift
/// var o = TransformerOptions(); o.contextDim = 64
/// let layer = try TransformerDecoderLayer(dim: 256, heads: 4, kvDim: 256, options: o)
/// let y = try layer(x, offsets: xo, memory: enc, memoryOffsets: eo, context: tEmb)
/// ```
public final class TransformerDecoderLayer: Module {
    public let dim: Int
    public let options: TransformerOptions
    public let selfAttn: MultiheadAttention
    public let crossAttn: MultiheadAttention
    public let ff: SwiGLU
    let branch1: Residual
    let branch2: Residual
    let branch3: Residual

    public init(dim: Int, heads: Int, kvDim: Int? = nil, options: TransformerOptions = TransformerOptions()) throws {
        self.dim = dim
        self.options = options
        let n1 = try options.makeNorm(dim), n2 = try options.makeNorm(dim), n3 = try options.makeNorm(dim)
        selfAttn = try MultiheadAttention(dim: dim, heads: heads, dropout: options.dropout, bias: options.bias)
        crossAttn = try MultiheadAttention(dim: dim, heads: heads, cross: true, kvDim: kvDim, dropout: options.dropout, bias: options.bias)
        ff = try SwiGLU(dim: dim, mult: options.ffMult, dropout: options.dropout, bias: options.bias)
        branch1 = Residual(norm: n1, scale: try options.makeScale(dim))
        branch2 = Residual(norm: n2, scale: try options.makeScale(dim))
        branch3 = Residual(norm: n3, scale: try options.makeScale(dim))
        super.init()
        registerChild("norm1", n1)
        registerChild("self_attn", selfAttn)
        if let s = branch1.scale { registerChild("ls1", s) }
        registerChild("norm2", n2)
        registerChild("cross_attn", crossAttn)
        if let s = branch2.scale { registerChild("ls2", s) }
        registerChild("norm3", n3)
        registerChild("ff", ff)
        if let s = branch3.scale { registerChild("ls3", s) }
    }

    public override var extraDescription: String {
        "dim=\(dim), heads=\(selfAttn.heads), kv_dim=\(crossAttn.kvDim), " + options.description
    }

    public override var signature: Signature {
        Signature(["x", "offsets", "memory", "memory_offsets"] + (options.contextDim != nil ? ["context"] : []))
    }

    public func callAsFunction(_ x: Tensor, offsets: Tensor, memory: Tensor, memoryOffsets: Tensor,
                               context: Tensor? = nil) throws -> Tensor {
        let owner = "TransformerDecoderLayer(dim=\(dim))"
        var y = try branch1.add(x, selfAttn(branch1.normed(x, offsets: offsets, context: context, owner: owner), offsets: offsets))
        y = try branch2.add(y, crossAttn(branch2.normed(y, offsets: offsets, context: context, owner: owner),
                                         offsets: offsets, kv: memory, kvOffsets: memoryOffsets))
        return try branch3.add(y, ff(branch3.normed(y, offsets: offsets, context: context, owner: owner)))
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        return [try self(a[0]!, offsets: a[1]!, memory: a[2]!, memoryOffsets: a[3]!, context: a.count > 4 ? a[4] : nil)]
    }
}
