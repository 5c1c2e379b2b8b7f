import NN
import Tensors

/// VQ-VAE tokenised classification (MPMv1's task, kept in MPMv2 for comparison): a frozen,
/// separately trained `VQTokenizer` encodes the whole jets and each dropped particle's code
/// is the class Linear(decoder_dim -> codebook_size) must predict (cross-entropy, label
/// smoothing 0.1). The tokenizer is not a child module: it is not trained here and not saved
/// with the task (it has its own file). It cannot generate particles: a code only means
/// something to the tokenizer's set decoder, together with the codes of the whole jet.
///
/// ```swift
/// let task = try VQVAETask(inputDim: 128, tokenizer: trainedTokenizer)
/// ```
public final class VQVAETask: Module, ReconstructionTask {
    public let inputDim: Int
    public let tokenizer: VQTokenizer
    public let labelSmoothing: Double
    public let head: Linear

    public init(inputDim: Int, tokenizer: VQTokenizer, options: Options = Options()) throws {
        self.inputDim = inputDim
        self.tokenizer = tokenizer
        labelSmoothing = options.labelSmoothing
        tokenizer.eval()
        head = try Linear(inputDim, tokenizer.config.codebookSize)
        super.init()
        registerChild("head", head)
    }

    public var taskName: String { "vqvae" }
    public override var extraDescription: String { "in=\(inputDim), codes=\(tokenizer.config.codebookSize)" }

    /// The tokenizer's code (0-based) of each dropped particle, from its whole jet.
    public func codes(_ target: DroppedSet) throws -> Tensor {
        try tokenizer.codes(target.jetFeatures, offsets: target.jetOffsets).indexSelect(0, index: target.rows)
    }

    public func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor {
        try checkDecoded(input, target, width: inputDim)
        let logits = try head(input)
        if target.count == 0 { return try emptyLoss(logits) }
        return try Functional.crossEntropy(logits, try codes(target), labelSmoothing: labelSmoothing)
    }

    public func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction {
        throw TensorError("vqvae: this task predicts tokenizer codes and cannot generate particles (use reg, kmeans, flow or cfm)")
    }
}
