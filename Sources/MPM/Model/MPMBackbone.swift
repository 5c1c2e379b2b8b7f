import NN
import Tensors

/// The part of an MPM model that downstream tasks keep: the particle embedding
/// (Linear(F -> D) of the continuous features plus Embedding(types -> D)) and the transformer
/// encoder with its learned registers. It runs on packed sets; registers are prepended to every
/// set inside.
///
/// ```swift
/// let bb = model.backbone
/// let (h, o) = try bb.encode(features, types: types, offsets: offsets)   // registers first in each set
/// let x = try bb(features, types: types, offsets: offsets)               // [T, D], registers removed
/// ```
public final class MPMBackbone: Module {
    public let config: MPMConfig
    public let featureEmbedding: Linear
    public let typeEmbedding: Embedding
    public let encoder: TransformerEncoder

    public init(config: MPMConfig) throws {
        try config.validate()
        self.config = config
        featureEmbedding = try Linear(config.inputFeatures, config.encoderDim)
        typeEmbedding = try Embedding(config.particleTypes, config.encoderDim)
        encoder = try TransformerEncoder(dim: config.encoderDim, depth: config.encoderDepth, heads: config.encoderHeads,
                                         registers: config.registers, registerStd: 1e-3, finalNorm: true,
                                         options: config.transformerOptions)
        super.init()
        registerChild("feature_embedding", featureEmbedding)
        registerChild("type_embedding", typeEmbedding)
        registerChild("encoder", encoder)
    }

    public override var extraDescription: String {
        "dim=\(config.encoderDim), depth=\(config.encoderDepth), heads=\(config.encoderHeads), registers=\(config.registers)"
    }
    public override var signature: Signature { Signature(["features", "types", "offsets"]) }

    /// Per-particle embedding [T, D] of features [T, F] and 0-based types [T].
    public func embed(_ features: Tensor, types: Tensor, typeBase: IndexBase = .zero) throws -> Tensor {
        guard features.dim == 2, features.shape[1] == config.inputFeatures else {
            throw TensorError("MPM backbone: features must be [T, \(config.inputFeatures)], got \(formatShape(features.shape))")
        }
        guard types.dim == 1, types.numel == features.shape[0] else {
            throw TensorError("MPM backbone: types must be [T] = [\(features.shape[0])], got \(formatShape(types.shape))")
        }
        return try featureEmbedding(features).add(typeEmbedding(types, indexBase: typeBase))
    }

    /// The encoder output with the registers in front of every set, and that layout's offsets
    /// ([T + B*R, D] and [B + 1]).
    public func encode(_ features: Tensor, types: Tensor, offsets: Tensor, typeBase: IndexBase = .zero) throws -> (Tensor, Tensor) {
        try encoder.encode(try embed(features, types: types, typeBase: typeBase), offsets: offsets)
    }

    /// The encoder output of the particles only, in the input's layout [T, D].
    public func callAsFunction(_ features: Tensor, types: Tensor, offsets: Tensor, typeBase: IndexBase = .zero) throws -> Tensor {
        let (h, o) = try encode(features, types: types, offsets: offsets, typeBase: typeBase)
        if config.registers == 0 { return h }
        return try NNOps.dropLeadingRows(h, offsets: o, count: config.registers, op: "MPM backbone").0
    }

    /// Generic forward (the Lua call): [particles [T, D], with registers [T + B*R, D], their
    /// offsets]. Types count from the caller's `base` (1 from Lua).
    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        let (h, o) = try encode(a[0]!, types: a[1]!, offsets: a[2]!, typeBase: base)
        let particles = config.registers == 0 ? h
            : try NNOps.dropLeadingRows(h, offsets: o, count: config.registers, op: "MPM backbone").0
        return [particles, h, o]
    }
}
