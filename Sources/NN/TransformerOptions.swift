import Tensors

/// Settings shared by the transformer blocks (TransformerLayer, TransformerDecoderLayer,
/// TransformerEncoder, ClassAttentionPooling).
///
/// ```swift
/// var o = TransformerOptions(); o.ffMult = 2; o.layerscaleInit = 1e-3   // MPMv2 encoder
/// let layer = try TransformerLayer(dim: 512, heads: 8, options: o)
/// ```
public struct TransformerOptions {
    /// SwiGLU hidden width = ffMult * dim.
    public var ffMult: Double = 2
    /// LayerScale init on both residual branches; nil for no LayerScale.
    public var layerscaleInit: Double? = nil
    /// Width of a context vector driving adaptive LayerNorms; nil for plain LayerNorms.
    public var contextDim: Int? = nil
    /// Dropout on attention weights and on the SwiGLU hidden layer (train mode only).
    public var dropout: Double = 0
    /// Biases in every Linear.
    public var bias: Bool = true
    /// LayerNorm epsilon.
    public var eps: Double = 1e-5

    public init() {}

    /// The pre-norm of a residual branch: adaptive when a context width is set.
    func makeNorm(_ dim: Int) throws -> Module {
        if let c = contextDim { return try AdaptiveLayerNorm(dim: dim, contextDim: c, eps: eps) }
        return try LayerNorm(dim, eps: eps)
    }

    func makeScale(_ dim: Int) throws -> LayerScale? {
        try layerscaleInit.map { try LayerScale(dim: dim, initValue: $0) }
    }

    var description: String {
        // 2 rather than 2.0: the multiplier is almost always whole.
        var s = "ff_mult=" + (ffMult.rounded() == ffMult && Swift.abs(ffMult) < 1e9 ? String(Int(ffMult)) : String(ffMult))
        if let l = layerscaleInit { s += ", layerscale_init=\(l)" }
        if let c = contextDim { s += ", ctx_dim=\(c)" }
        if dropout > 0 { s += ", dropout=\(dropout)" }
        return s
    }
}

/// x + scale(branch(norm(x))) with an optional LayerScale; shared by the transformer blocks.
struct Residual {
    let norm: Module
    let scale: LayerScale?

    func normed(_ x: Tensor, offsets: Tensor, context: Tensor?, owner: String) throws -> Tensor {
        if let ada = norm as? AdaptiveLayerNorm {
            guard let context else { throw TensorError("\(owner): this block has adaptive LayerNorm (ctx_dim=\(ada.contextDim)) and needs a context") }
            return try ada(x, offsets: offsets, context: context)
        }
        return try norm.forward([x])[0]
    }

    func add(_ x: Tensor, _ branch: Tensor) throws -> Tensor {
        guard let scale else { return try x.add(branch) }
        return try Functional.scaledResidual(x, branch, scale: scale.gamma)
    }
}
