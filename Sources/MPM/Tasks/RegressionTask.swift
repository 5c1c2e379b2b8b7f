import NN
import Tensors

/// Direct regression: Linear(decoder_dim -> 7) predicts the preprocessed features of each
/// dropped particle, with an L1 loss (MPMv2's best choice). Mean-seeking: its "samples" are the
/// predictions, which is what the reconstruction figures show collapsing to the centre.
///
/// ```swift
/// let reg = try RegressionTask(inputDim: 128)
/// ```
public final class RegressionTask: Module, ReconstructionTask {
    public let inputDim: Int
    public let features: Int
    public let head: Linear

    public init(inputDim: Int, options: Options = Options()) throws {
        self.inputDim = inputDim
        features = options.features
        head = try Linear(inputDim, features)
        super.init()
        registerChild("head", head)
    }

    public var taskName: String { "reg" }
    public override var extraDescription: String { "in=\(inputDim), features=\(features), loss=l1" }

    public func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor {
        try checkDecoded(input, target, width: inputDim)
        let y = try head(input)
        if target.count == 0 { return try emptyLoss(y) }
        return try Functional.l1Loss(y, target.features)
    }

    public func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction {
        try checkDecoded(input, target, width: inputDim)
        return Reconstruction(features: try withNoGrad { try head(input) })
    }
}
