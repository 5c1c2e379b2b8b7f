import Tensors

/// Multiplies each channel by a learned scale (CaiT's LayerScale), initialised to a small
/// constant so a residual branch starts near zero (MPMv2 uses 1e-3).
///
/// ```swift
/// let ls = try LayerScale(dim: 512, initValue: 1e-3)
/// let y = try ls(branch)        // branch * gamma
/// ```
public final class LayerScale: Module {
    public let dim: Int
    public let gamma: Tensor

    public init(dim: Int, initValue: Double) throws {
        try Init.checkSize(dim, "dim", "LayerScale")
        self.dim = dim
        gamma = Init.constant([dim], initValue)
        super.init()
        registerParameter("gamma", gamma)
    }

    public override var extraDescription: String { "\(dim)" }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.mul(gamma) }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] { [try self(arguments(inputs)[0]!)] }
}
