import NN
import Tensors

/// Set-to-set flow matching (MPMv2's SSFM): a time-conditioned transformer decoder generates
/// the whole dropped set at once, cross-attending to the encoder output. Each dropped particle
/// is x0 = [7 features, one-hot type (8)]; one t per jet (logit-normal), x_t = (1 - t) x0 + t eps,
/// and the decoder's output is regressed on the velocity x0 - eps (MSE). The decoder: x_t ->
/// Linear(15 -> dim), `depth` blocks of self-attention over the jet's dropped set,
/// cross-attention to Linear(encoder_dim -> dim) of the encoder output (registers included),
/// SwiGLU; t enters every block through adaptive LayerNorms driven by an MLP of its cosine
/// embedding. No mask tokens are needed: the loss is on denoising, not on positions.
///
/// The drop fraction is sampled per batch by the loader's masking; MPMv2 draws the encoder's
/// share Df = M/N ~ U(0, 0.8) (so 20% to 100% of each jet is generated; at Df = 0 the decoder
/// is a pure jet generator). Sampling integrates from noise at t = 1 to t = 0 and takes the
/// type as the argmax of the one-hot part.
///
/// ```swift
/// let ssfm = try SSFMTask(encoderDim: 512)                       // paper size: dim 256, 6 layers
/// let loss = try ssfm.loss(out.encoded, target: out.target)
/// ```
public final class SSFMTask: Module, ReconstructionTask {
    public let encoderDim: Int
    public let features: Int
    public let types: Int
    public let dim: Int
    public let timeDim: Int
    public let memory: Linear
    public let inputLayer: Linear
    public let timeEncoding: CosineEncoding
    public let timeNetwork: MLP
    public let layers: ModuleList
    public let finalNorm: LayerNorm
    public let outputLayer: Linear

    public init(encoderDim: Int, options: Options = Options()) throws {
        let features = options.features, types = options.types, dim = options.dim, heads = options.heads
        let timeDim = options.timeDim, contextDim = options.contextDim
        guard options.depth >= 1 else { throw TensorError("ssfm: depth must be at least 1, got \(options.depth)") }
        self.encoderDim = encoderDim
        self.features = features
        self.types = types
        self.dim = dim
        self.timeDim = timeDim
        memory = try Linear(encoderDim, dim)
        inputLayer = try Linear(features + types, dim)
        timeEncoding = try CosineEncoding(dim: timeDim)
        timeNetwork = try MLP(inFeatures: timeDim, outFeatures: contextDim, hidden: contextDim, depth: 1, activation: .silu)
        var o = TransformerOptions()
        o.ffMult = 2
        o.contextDim = contextDim
        layers = ModuleList(try (0..<options.depth).map { _ in try TransformerDecoderLayer(dim: dim, heads: heads, kvDim: dim, options: o) })
        finalNorm = try LayerNorm(dim)
        outputLayer = try Linear(dim, features + types)
        super.init()
        registerChild("memory", memory)
        registerChild("input_layer", inputLayer)
        registerChild("time_encoding", timeEncoding)
        registerChild("time_network", timeNetwork)
        registerChild("layers", layers)
        registerChild("final_norm", finalNorm)
        registerChild("output_layer", outputLayer)
    }

    public var taskName: String { "ssfm" }
    public override var extraDescription: String { "encoder_dim=\(encoderDim), dim=\(dim), depth=\(layers.modules.count)" }

    /// Checks the encoder output against the target's offsets and returns them.
    func memoryOffsets(_ encoded: Tensor, _ target: DroppedSet) throws -> Tensor {
        guard encoded.dim == 2, encoded.shape[1] == encoderDim else {
            throw TensorError("ssfm: the encoder output must be [T, \(encoderDim)], got \(formatShape(encoded.shape))")
        }
        guard let o = target.encodedOffsets else {
            throw TensorError("ssfm: the target has no encoded_offsets (pass the model's out.target)")
        }
        guard o.numel == target.batchSize + 1 else {
            throw TensorError("ssfm: encoded_offsets has \(o.numel) entries for \(target.batchSize) jets")
        }
        return o
    }

    /// The velocity of every dropped particle [Td, F + types] given x_t, one time per jet
    /// [B], and the projected encoder output.
    public func velocity(_ xt: Tensor, t: Tensor, target: DroppedSet, memory mem: Tensor, memoryOffsets: Tensor) throws -> Tensor {
        let ctx = try timeNetwork(try timeEncoding(t))
        var h = try inputLayer(xt)
        for case let layer as TransformerDecoderLayer in layers.modules {
            h = try layer(h, offsets: target.offsets, memory: mem, memoryOffsets: memoryOffsets, context: ctx)
        }
        return try outputLayer(try finalNorm(h))
    }

    /// [features, one-hot type] of the dropped particles.
    func cleanState(_ target: DroppedSet) throws -> Tensor {
        try Tensor.cat([target.features, try target.types.oneHot(numClasses: types).to(.f32)], dim: 1)
    }

    public func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor {
        let mo = try memoryOffsets(input, target)
        let mem = try memory(input)
        if target.count == 0 { return try emptyLoss(mem) }
        let x0 = try cleanState(target)
        // Keyed per jet and particle when the batch carries a noise key (ParticleNoise).
        let t = try target.jetNormals(stream: .ssfmTime)?.sigmoid() ?? LogitNormal.sample([target.batchSize])
        let tRows = try t.unsqueeze(1).segmentExpand(offsets: target.offsets)
        let eps = try target.normals(width: x0.shape[1], stream: .ssfmNoise) ?? Tensor.randn(x0.shape)
        let xt = try x0.mul(tRows.rsub(1)).add(eps.mul(tRows))
        let v = try velocity(xt, t: t, target: target, memory: mem, memoryOffsets: mo)
        return try Functional.mseLoss(v, try x0.sub(eps))
    }

    public func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction {
        let mo = try memoryOffsets(input, target)
        return try withNoGrad {
            let mem = try memory(input)
            let start = try Tensor.randn([target.count, features + types], generator: options.generator)
            let b = target.batchSize
            let x0 = try ODESolver.integrate(start, from: 1, to: 0, steps: options.steps, method: options.method,
                                             shouldStop: options.shouldStop) { x, t in
                try velocity(x, t: try Tensor.full([b], value: t), target: target, memory: mem, memoryOffsets: mo).neg()
            }
            let f = try x0.narrow(1, start: 0, length: features).contiguous()
            let ty = try x0.narrow(1, start: features, length: types).argmax(dim: 1)
            return Reconstruction(features: f, types: ty)
        }
    }
}
