import Tensors

/// y = x W^T + b on the last dim: [..., in] -> [..., out].
///
/// Init (PyTorch's default): W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
///
/// ```swift
/// let embed = try Linear(7, 128)
/// let h = try embed(x)          // [T, 7] -> [T, 128]
/// ```
public final class Linear: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
        try Init.checkSize(inFeatures, "in_features", "Linear")
        try Init.checkSize(outFeatures, "out_features", "Linear")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        try Init.checkShape([outFeatures, inFeatures], "weight", "Linear")
        let bound = 1 / Double(inFeatures).squareRoot()
        weight = Init.uniform([outFeatures, inFeatures], bound: bound)
        self.bias = bias ? Init.uniform([outFeatures], bound: bound) : nil
        super.init()
        registerParameter("weight", weight)
        if let b = self.bias { registerParameter("bias", b) }
    }

    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias != nil)"
    }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.dim >= 1, x.shape[x.dim - 1] == inFeatures else {
            throw TensorError("Linear(\(inFeatures) -> \(outFeatures)): input has shape \(formatShape(x.shape)), expected last dim \(inFeatures)")
        }
        return try Functional.linear(x, weight: weight, bias: bias)
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        [try self(arguments(inputs)[0]!)]
    }
}
