import Tensors

/// What a reconstruction task compares its output with: the dropped particles of a batch,
/// packed jet by jet in pt order, plus the whole jets they came from (the VQ-VAE tokenizer
/// encodes full jets) and, for tasks reading the encoder output, its offsets.
///
/// ```swift
/// let loss = try task.loss(out.decoded!, target: out.target)
/// out.target.features     // [Td, 7]
/// ```
public final class DroppedSet {
    /// [Td, F] features of the dropped particles.
    public let features: Tensor
    /// [Td] int64 types, 0-based.
    public let types: Tensor
    /// [B + 1] int64: jet b dropped rows offsets[b] ..< offsets[b+1] of `features`.
    public let offsets: Tensor
    /// [Td] int64 pt rank among the dropped particles of the jet (0 = highest pt).
    public let ranks: Tensor
    /// [Td] int64 row of each dropped particle in the full jets (`jetFeatures`).
    public let rows: Tensor
    /// The full jets: [T, F], [T], [B + 1].
    public let jetFeatures: Tensor
    public let jetTypes: Tensor
    public let jetOffsets: Tensor
    /// [B + 1] offsets of the encoder output (registers included), set by the model.
    public var encodedOffsets: Tensor?
    /// Key of the per-particle noise (`normals(width:stream:)`); nil: the default generator.
    public let noise: ParticleNoise?

    public init(features: Tensor, types: Tensor, offsets: Tensor, ranks: Tensor, rows: Tensor,
                jetFeatures: Tensor, jetTypes: Tensor, jetOffsets: Tensor, encodedOffsets: Tensor? = nil,
                noise: ParticleNoise? = nil) {
        self.features = features
        self.types = types
        self.offsets = offsets
        self.ranks = ranks
        self.rows = rows
        self.jetFeatures = jetFeatures
        self.jetTypes = jetTypes
        self.jetOffsets = jetOffsets
        self.encodedOffsets = encodedOffsets
        self.noise = noise
    }

    /// Number of dropped particles.
    public var count: Int { features.shape[0] }
    /// Number of jets.
    public var batchSize: Int { offsets.numel - 1 }
}
