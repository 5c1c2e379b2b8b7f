import Tensors

/// Parameter initialisers, matching PyTorch's defaults. All draw from the default generator, so
/// `manualSeed` fixes every initial weight.
///
/// ```swift
/// let w = Init.uniform([64, 7], bound: 1 / Double(7).squareRoot())
/// ```
public enum Init {
    /// U(-bound, bound): PyTorch's Linear default, kaiming_uniform(a = sqrt 5), reduces to
    /// bound = 1/sqrt(fan_in) for the weight, and the bias uses the same bound.
    public static func uniform(_ shape: [Int], bound: Double) -> Tensor {
        // Shapes come from validated sizes, for which rand cannot fail.
        let t = (try? Tensor.rand(shape)) ?? Tensor(scalar: Float(0))
        return (try? t.mul(2 * bound).sub(bound)) ?? t
    }

    /// N(0, std^2): Embedding uses std 1; registers, class and mask tokens std 1 scaled down.
    public static func normal(_ shape: [Int], std: Double = 1) -> Tensor {
        (try? Tensor.normal(shape, mean: 0, std: std)) ?? Tensor(scalar: Float(0))
    }

    /// A constant tensor (LayerNorm ones and zeros, LayerScale init).
    public static func constant(_ shape: [Int], _ value: Double) -> Tensor {
        (try? Tensor.full(shape, value: value)) ?? Tensor(scalar: Float(0))
    }

    /// Throws unless `value` is a positive size, naming the module and argument.
    static func checkSize(_ value: Int, _ what: String, _ module: String) throws {
        guard value >= 1 else { throw TensorError("\(module): \(what) must be at least 1, got \(value)") }
    }
}
