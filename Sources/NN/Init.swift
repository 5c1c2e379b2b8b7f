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

    /// The most elements one parameter may have (2^36, 256 GiB of float32): beyond it, and before
    /// the element count could overflow, construction fails with a message instead of trapping.
    public static let maxElements = 1 << 36

    /// Throws unless `shape` has a representable, allocatable number of elements.
    public static func checkShape(_ shape: [Int], _ what: String, _ module: String) throws {
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: Swift.max(d, 0))
            guard !overflow, p <= maxElements else {
                throw TensorError("\(module): \(what) of shape \(formatShape(shape)) is too large (more than \(maxElements) elements)")
            }
            n = p
        }
    }

    /// Throws unless `value` is a positive size, naming the module and argument.
    static func checkSize(_ value: Int, _ what: String, _ module: String) throws {
        guard value >= 1 else { throw TensorError("\(module): \(what) must be at least 1, got \(value)") }
        guard value <= maxElements else { throw TensorError("\(module): \(what) \(value) is too large") }
    }
}
