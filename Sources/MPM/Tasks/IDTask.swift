import NN
import Tensors

/// Particle identification: Linear(decoder_dim -> 8) logits, cross-entropy with label
/// smoothing 0.1 against the dropped particles' types. MPMv2 adds it with weight 0.3 to every
/// continuous task.
///
/// ```swift
/// let id = try IDTask(inputDim: 128)
/// let loss = try id.loss(decoded, target: target)
/// ```
public final class IDTask: Module, ReconstructionTask {
    public let inputDim: Int
    public let classes: Int
    public let labelSmoothing: Double
    public let head: Linear

    public init(inputDim: Int, options: Options = Options()) throws {
        guard options.labelSmoothing >= 0 && options.labelSmoothing < 1 else {
            throw TensorError("id: label_smoothing must be in [0, 1), got \(options.labelSmoothing)")
        }
        self.inputDim = inputDim
        classes = options.classes
        labelSmoothing = options.labelSmoothing
        head = try Linear(inputDim, classes)
        super.init()
        registerChild("head", head)
    }

    public var taskName: String { "id" }
    public override var extraDescription: String { "in=\(inputDim), classes=\(classes), smoothing=\(labelSmoothing)" }

    public func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor {
        try checkDecoded(input, target, width: inputDim)
        let logits = try head(input)
        if target.count == 0 { return try emptyLoss(logits) }
        return try Functional.crossEntropy(logits, target.types, labelSmoothing: labelSmoothing)
    }

    public func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction {
        try checkDecoded(input, target, width: inputDim)
        return try withNoGrad {
            let logits = try head(input)
            if !options.stochastic || target.count == 0 { return Reconstruction(types: try logits.argmax(dim: 1)) }
            let p = try logits.softmax(dim: 1)
            return Reconstruction(types: try p.multinomial(numSamples: 1, replacement: true, generator: options.generator).reshape([-1]))
        }
    }
}
