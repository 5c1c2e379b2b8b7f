import NN
import Tensors

/// K-means tokenised classification: each dropped particle's target is the index of its
/// nearest centroid (of the 7 preprocessed features; `KMeans.fit`, MPMv2 uses K = 16384) and
/// Linear(decoder_dim -> K) predicts it with cross-entropy, label smoothing 0.1. The centroids
/// are a buffer, saved with the task. Sampling draws a centroid from the predicted
/// probabilities and returns its features.
///
/// ```swift
/// let fit = try KMeans.fit(features, k: 512, seed: 1)
/// let task = try KMeansTask(inputDim: 128, centroids: fit.centroids)
/// ```
public final class KMeansTask: Module, ReconstructionTask {
    public let inputDim: Int
    public let centroids: Tensor
    public let labelSmoothing: Double
    public let head: Linear

    public init(inputDim: Int, centroids: Tensor, options: Options = Options()) throws {
        guard centroids.dim == 2, centroids.dtype == .f32, centroids.shape[0] >= 1 else {
            throw TensorError("kmeans: centroids must be float32 [K, F], got \(centroids.dtype.name) \(formatShape(centroids.shape))")
        }
        self.inputDim = inputDim
        self.centroids = try centroids.detach().clone()
        labelSmoothing = options.labelSmoothing
        head = try Linear(inputDim, centroids.shape[0])
        super.init()
        registerBuffer("centroids", self.centroids)
        registerChild("head", head)
    }

    public var taskName: String { "kmeans" }
    public var k: Int { centroids.shape[0] }
    public override var extraDescription: String { "in=\(inputDim), k=\(k), smoothing=\(labelSmoothing)" }

    /// The nearest-centroid code (0-based) of each row of `features`.
    public func codes(_ features: Tensor) throws -> Tensor { try KMeans.assign(features, centroids: centroids).codes }

    public func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor {
        try checkDecoded(input, target, width: inputDim)
        let logits = try head(input)
        if target.count == 0 { return try emptyLoss(logits) }
        return try Functional.crossEntropy(logits, try codes(target.features), labelSmoothing: labelSmoothing)
    }

    public func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction {
        try checkDecoded(input, target, width: inputDim)
        return try withNoGrad {
            let logits = try head(input)
            let chosen: Tensor
            if !options.stochastic || target.count == 0 {
                chosen = try logits.argmax(dim: 1)
            } else {
                chosen = try logits.softmax(dim: 1).multinomial(numSamples: 1, replacement: true, generator: options.generator).reshape([-1])
            }
            return Reconstruction(features: try centroids.indexSelect(0, index: chosen))
        }
    }
}
