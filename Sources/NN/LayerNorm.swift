import Tensors

/// Normalises the last dim to zero mean and unit (biased) variance, then scales and shifts:
/// y = (x - mean) / sqrt(var + eps) * weight + bias.
///
/// Init (PyTorch's default): weight ones, bias zeros. `affine: false` has neither.
///
/// ```swift
/// let norm = try LayerNorm(128)
/// let y = try norm(x)           // [T, 128]
/// ```
public final class LayerNorm: Module {
    public let dim: Int
    public let eps: Double
    public let weight: Tensor?
    public let bias: Tensor?

    public init(_ dim: Int, eps: Double = 1e-5, affine: Bool = true, bias: Bool = true) throws {
        try Init.checkSize(dim, "normalized_shape", "LayerNorm")
        guard eps > 0 else { throw TensorError("LayerNorm: eps must be positive, got \(eps)") }
        self.dim = dim
        self.eps = eps
        weight = affine ? Init.constant([dim], 1) : nil
        self.bias = affine && bias ? Init.constant([dim], 0) : nil
        super.init()
        if let w = weight { registerParameter("weight", w) }
        if let b = self.bias { registerParameter("bias", b) }
    }

    public override var extraDescription: String { "\(dim), eps=\(eps), affine=\(weight != nil)" }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.dim >= 1, x.shape[x.dim - 1] == dim else {
            throw TensorError("LayerNorm(\(dim)): input has shape \(formatShape(x.shape)), expected last dim \(dim)")
        }
        return try NNOps.layerNorm(x, weight: weight, bias: bias, eps: eps)
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        [try self(arguments(inputs)[0]!)]
    }
}
