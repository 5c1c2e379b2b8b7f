import Foundation
import Tensors

/// Gaussian Fourier features of a scalar (a diffusion or flow time): [sin(2 pi x w), cos(2 pi x w)]
/// with fixed frequencies w ~ N(0, scale^2), dim/2 of them (Tancik et al.; Song et al.'s
/// time embedding). The frequencies are a buffer: saved in the state dict, never trained.
/// Input [N] or [N, 1] gives [N, dim].
///
/// ```swift
/// let emb = try FourierEmbedding(dim: 64, scale: 16)
/// let e = try emb(t)            // [B] -> [B, 64]
/// ```
public final class FourierEmbedding: Module {
    public let dim: Int
    public let scale: Double
    public let frequencies: Tensor

    public init(dim: Int, scale: Double = 16) throws {
        guard dim >= 2, dim % 2 == 0 else { throw TensorError("FourierEmbedding: dim must be even and at least 2, got \(dim)") }
        guard scale > 0 else { throw TensorError("FourierEmbedding: scale must be positive, got \(scale)") }
        self.dim = dim
        self.scale = scale
        frequencies = Init.normal([dim / 2], std: scale)
        super.init()
        registerBuffer("frequencies", frequencies)
    }

    public override var extraDescription: String { "\(dim), scale=\(scale)" }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let v = x.dim >= 2 && x.shape[x.dim - 1] == 1 ? x : try x.unsqueeze(-1)
        let angle = try v.to(.f32).mul(frequencies).mul(2 * Double.pi)
        return try Tensor.cat([angle.sin(), angle.cos()], dim: -1)
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] { [try self(arguments(inputs)[0]!)] }
}
