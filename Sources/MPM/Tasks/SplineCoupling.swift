import NN
import Tensors

/// One rational-quadratic spline coupling block (nflows/normflows `PiecewiseRationalQuadratic
/// CouplingTransform` with linear tails): the features selected by an alternating mask are
/// transformed by a spline whose parameters come from a residual network of the other
/// features and a context vector; the rest pass through. The network (nflows' ResidualNet)
/// is Linear(in -> width), `blocks` residual blocks (SiLU, Linear, SiLU, Linear), then a final
/// Linear to 3K-1 parameters per transformed feature, initialised to zero with the derivative
/// biases at the identity, so every block starts as the identity map.
///
/// ```swift
/// let block = try SplineCoupling(features: 7, contextDim: 128, even: true)
/// let (z, logdet) = try block(x, context: ctx)                  // data -> noise direction
/// let (x2, _) = try block(z, context: ctx, inverse: true)       // and back
/// ```
public final class SplineCoupling: Module {
    public let features: Int
    public let transformed: [Int]
    public let identity: [Int]
    public let spline: RationalQuadraticSpline.Options
    public let initial: Linear
    public let blocks: ModuleList
    public let final: Linear
    let transformedIndex: Tensor
    let identityIndex: Tensor
    let restoreIndex: Tensor

    /// `even`: transform features 0, 2, 4, ... (nflows' alternating mask), else 1, 3, 5, ...
    public init(features: Int, contextDim: Int, even: Bool, width: Int = 64, blocks blockCount: Int = 2,
                spline: RationalQuadraticSpline.Options = RationalQuadraticSpline.Options()) throws {
        guard features >= 2 else { throw TensorError("flow: a coupling needs at least 2 features, got \(features)") }
        guard blockCount >= 0 else { throw TensorError("flow: blocks must be at least 0, got \(blockCount)") }
        self.features = features
        let transformed = Array(stride(from: even ? 0 : 1, to: features, by: 2))
        let identity = (0..<features).filter { !transformed.contains($0) }
        self.transformed = transformed
        self.identity = identity
        var s = spline
        // nflows scales the raw widths and heights by 1/sqrt(hidden width).
        s.widthHeightScale = 1 / Double(width).squareRoot()
        self.spline = s
        initial = try Linear(identity.count + contextDim, width)
        var list: [Module] = []
        for _ in 0..<blockCount {
            let second = try Linear(width, width)
            // nflows starts each residual block near zero (U(-1e-3, 1e-3) on its last layer).
            try withNoGrad {
                _ = try second.weight.uniform_(-1e-3, 1e-3)
                _ = try second.bias?.uniform_(-1e-3, 1e-3)
            }
            list.append(Sequential([Activation(.silu), try Linear(width, width), Activation(.silu), second]))
        }
        blocks = ModuleList(list)
        let final = try Linear(width, transformed.count * s.parameterCount)
        try zeroInit(final)
        // Derivative slots of every transformed feature start at the identity value.
        let p = s.parameterCount
        var bias = [Float](repeating: 0, count: transformed.count * p)
        for f in 0..<transformed.count { for j in (2 * s.bins)..<p { bias[f * p + j] = Float(s.identityDerivative) } }
        try withNoGrad { _ = try final.bias!.copy_(try Tensor(bias, shape: [bias.count])) }
        self.final = final
        transformedIndex = try Tensor(transformed.map(Int64.init), shape: [transformed.count])
        identityIndex = try Tensor(identity.map(Int64.init), shape: [identity.count])
        // Columns of cat([transformed, identity]) back to the original order.
        let order = transformed + identity
        var restore = [Int64](repeating: 0, count: features)
        for (position, feature) in order.enumerated() { restore[feature] = Int64(position) }
        restoreIndex = try Tensor(restore, shape: [features])
        super.init()
        registerChild("initial", initial)
        registerChild("blocks", blocks)
        registerChild("final", final)
    }

    public override var extraDescription: String {
        "features=\(features), transformed=\(transformed), bins=\(spline.bins), tail_bound=\(spline.tailBound)"
    }

    /// Spline parameters [N, |transformed|, 3K-1] from the pass-through features and context.
    func parameters(_ passThrough: Tensor, context: Tensor) throws -> Tensor {
        var h = try initial(try Tensor.cat([passThrough, context], dim: 1))
        for case let block as Sequential in blocks.modules { h = try h.add(try block.forward([h])[0]) }
        return try final(h).reshape([-1, transformed.count, spline.parameterCount])
    }

    /// Transforms x [N, F]; returns the output and log|det J| per row [N]. `inverse` runs the
    /// spline backwards (the log-determinant is then that of the inverse map).
    public func callAsFunction(_ x: Tensor, context: Tensor, inverse: Bool = false) throws -> (Tensor, Tensor) {
        let a = try x.indexSelect(1, index: transformedIndex)
        let b = try x.indexSelect(1, index: identityIndex)
        let p = try parameters(b, context: context)
        let (y, logdet) = try RationalQuadraticSpline.transform(a.contiguous(), params: p, inverse: inverse, options: spline)
        let out = try Tensor.cat([y, b], dim: 1).indexSelect(1, index: restoreIndex)
        return (out, try logdet.sum(dims: [1]))
    }
}
