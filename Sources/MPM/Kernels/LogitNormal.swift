import Tensors

/// Times for flow-matching training drawn from the logit-normal distribution (Esser et al.,
/// used by MPMv2's CFM head): t = sigmoid(mean + std * z), z ~ N(0, 1). It concentrates t
/// around the middle of [0, 1], where the velocity is hardest to learn, and never returns
/// exactly 0 or 1.
///
/// ```swift
/// let t = try LogitNormal.sample([1000])          // [1000] in (0, 1)
/// ```
public enum LogitNormal {
    public static func sample(_ shape: [Int], mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws -> Tensor {
        guard std >= 0, mean.isFinite, std.isFinite else {
            throw TensorError("logit_normal: mean must be finite and std non-negative (got mean \(mean), std \(std))")
        }
        return try Tensor.normal(shape, mean: mean, std: std, generator: generator).sigmoid()
    }
}
