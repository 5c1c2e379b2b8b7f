import Tensors

/// A pre-norm transformer block on packed sets:
///   x = x + ls1 * attn(norm1(x))      (self-attention, or cross-attention to a kv set)
///   x = x + ls2 * ff(norm2(x))        (SwiGLU feed-forward)
/// LayerScale (ls) is optional with a configurable init; with `contextDim` the norms are
/// adaptive LayerNorms driven by a context vector per set. In cross mode the kv set is used
/// as given (not normalised), as in the MPMv2 reference.
///
/// ```swift
/// var o = TransformerOptions(); o.layerscaleInit = 1e-3
/// let layer = try TransformerLayer(dim: 512, heads: 8, options: o)
/// let y = try layer(x, offsets: offsets)
/// ```
public final class TransformerLayer: Module {
    public let dim: Int
    public let options: TransformerOptions
    public let cross: Bool
    public let attn: MultiheadAttention
    public let ff: SwiGLU
    let branch1: Residual
    let branch2: Residual

    public init(dim: Int, heads: Int, options: TransformerOptions = TransformerOptions(), cross: Bool = false, kvDim: Int? = nil) throws {
        self.dim = dim
        self.options = options
        self.cross = cross
        let norm1 = try options.makeNorm(dim), norm2 = try options.makeNorm(dim)
        attn = try MultiheadAttention(dim: dim, heads: heads, cross: cross, kvDim: kvDim, dropout: options.dropout, bias: options.bias)
        ff = try SwiGLU(dim: dim, mult: options.ffMult, dropout: options.dropout, bias: options.bias)
        branch1 = Residual(norm: norm1, scale: try options.makeScale(dim))
        branch2 = Residual(norm: norm2, scale: try options.makeScale(dim))
        super.init()
        registerChild("norm1", norm1)
        registerChild("attn", attn)
        if let s = branch1.scale { registerChild("ls1", s) }
        registerChild("norm2", norm2)
        registerChild("ff", ff)
        if let s = branch2.scale { registerChild("ls2", s) }
    }

    public override var extraDescription: String {
        "dim=\(dim), heads=\(attn.heads)" + (cross ? ", cross=true" : "") + ", " + options.description
    }

    public override var signature: Signature {
        var r = ["x", "offsets"]
        if cross { r += ["kv", "kv_offsets"] }
        if options.contextDim != nil { r.append("context") }
        return Signature(r)
    }

    public func callAsFunction(_ x: Tensor, offsets: Tensor, kv: Tensor? = nil, kvOffsets: Tensor? = nil,
                               context: Tensor? = nil) throws -> Tensor {
        let owner = "TransformerLayer(dim=\(dim))"
        var h = try branch1.normed(x, offsets: offsets, context: context, owner: owner)
        h = try attn(h, offsets: offsets, kv: kv, kvOffsets: kvOffsets)
        let y = try branch1.add(x, h)
        let f = try ff(try branch2.normed(y, offsets: offsets, context: context, owner: owner))
        return try branch2.add(y, f)
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        var i = 2
        var kv: Tensor?, kvo: Tensor?, ctx: Tensor?
        if cross { kv = a[2]; kvo = a[3]; i = 4 }
        if options.contextDim != nil { ctx = a[i] }
        return [try self(a[0]!, offsets: a[1]!, kv: kv, kvOffsets: kvo, context: ctx)]
    }
}
