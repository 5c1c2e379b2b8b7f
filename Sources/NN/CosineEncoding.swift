import Foundation
import Tensors

/// Encodes a scalar (a time t, a count) as `dim` cosines of increasing frequency:
/// cos(pi * f_k * (x - min) / (max - min)), with f_k = e^k (k = 0..dim-1, "exponential", the
/// default) or f_k = k + 1 ("linear"). Input [N] or [N, 1] gives [N, dim]; a wider last dim
/// gains a new last dim of size `dim`. No parameters. The MPMv2 CFM head encodes t with 16 dims.
///
/// (The reference writes (x + min) / (max + min); both agree for min = 0, the value MPMv2 uses,
/// and this form maps [min, max] onto [0, pi] for any min.)
///
/// ```swift
/// let enc = try CosineEncoding(dim: 16)
/// let e = try enc(t)            // t [B] in [0, 1] -> [B, 16]
/// ```
public final class CosineEncoding: Module {
    public enum Scaling: String { case exponential, linear }

    public let dim: Int
    public let minValue: Double
    public let maxValue: Double
    public let scaling: Scaling
    let frequencies: Tensor

    public init(dim: Int, minValue: Double = 0, maxValue: Double = 1, scaling: Scaling = .exponential) throws {
        try Init.checkSize(dim, "dim", "CosineEncoding")
        guard maxValue > minValue else {
            throw TensorError("CosineEncoding: max (\(maxValue)) must be greater than min (\(minValue))")
        }
        self.dim = dim
        self.minValue = minValue
        self.maxValue = maxValue
        self.scaling = scaling
        let f: [Float] = (0..<dim).map { k in
            let fk = scaling == .exponential ? Foundation.exp(Double(k)) : Double(k + 1)
            return Float(Double.pi * fk / (maxValue - minValue))
        }
        frequencies = try Tensor(f, shape: [dim])
        super.init()
    }

    public override var extraDescription: String { "\(dim), min=\(minValue), max=\(maxValue), \(scaling.rawValue)" }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let v = x.dim >= 1 && x.shape[x.dim - 1] == 1 && x.dim >= 2 ? x : try x.unsqueeze(-1)
        return try v.to(.f32).sub(minValue).mul(frequencies).cos()
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] { [try self(arguments(inputs)[0]!)] }
}
