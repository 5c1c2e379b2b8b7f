import JetData
import Tensors

/// A packed batch of jets with its MPM split: what the backbone reads. Rows are particles of
/// all jets concatenated (jet b owns rows offsets[b] ..< offsets[b+1]); `kept` and `dropped`
/// are rows of that layout, jet by jet in pt order, with their own offsets. Types are 0-based.
///
/// ```swift
/// let jets = try MaskedJets(batch)            // a loader batch with masking applied
/// let out = try model(jets)
/// ```
public struct MaskedJets {
    /// [T, F] float32 (preprocessed) features.
    public let features: Tensor
    /// [T] int64 particle types, 0-based.
    public let types: Tensor
    /// [B + 1] int64 row offsets of the jets.
    public let offsets: Tensor
    /// [Tk] int64 rows the encoder sees.
    public let kept: Tensor
    public let keptOffsets: Tensor
    /// [Td] int64 rows to reconstruct.
    public let dropped: Tensor
    public let droppedOffsets: Tensor
    /// [Td] int64 rank of each dropped particle among its jet's dropped ones (0 = highest pt).
    public let droppedRanks: Tensor
    /// Key of the tasks' per-particle noise (nil: they draw from the default generator).
    public var noise: ParticleNoise?

    /// Number of jets.
    public var batchSize: Int { offsets.numel - 1 }

    public init(features: Tensor, types: Tensor, offsets: Tensor, kept: Tensor, keptOffsets: Tensor,
                dropped: Tensor, droppedOffsets: Tensor, droppedRanks: Tensor, noise: ParticleNoise? = nil) throws {
        let op = "MPM"
        guard features.dim == 2, features.dtype == .f32 else {
            throw TensorError("\(op): features must be float32 [T, F], got \(features.dtype.name) \(formatShape(features.shape))")
        }
        let t = features.shape[0]
        func ints(_ x: Tensor, _ name: String, _ count: Int?) throws {
            guard x.dtype == .i64, x.dim == 1 else {
                throw TensorError("\(op): \(name) must be a 1-D int64 tensor, got \(x.dtype.name) \(formatShape(x.shape))")
            }
            if let count, x.numel != count {
                throw TensorError("\(op): \(name) has \(x.numel) entries, expected \(count)")
            }
        }
        try ints(types, "types", t)
        try ints(offsets, "offsets", nil)
        guard offsets.numel >= 1 else { throw TensorError("\(op): offsets must have B + 1 >= 1 entries") }
        let b = offsets.numel - 1
        try ints(kept, "kept", nil); try ints(dropped, "dropped", nil)
        try ints(keptOffsets, "kept_offsets", b + 1); try ints(droppedOffsets, "dropped_offsets", b + 1)
        try ints(droppedRanks, "dropped_ranks", dropped.numel)
        let o = offsets.toIntArray(), ko = keptOffsets.toIntArray(), dof = droppedOffsets.toIntArray()
        guard o.first == 0, o.last == t else {
            throw TensorError("\(op): offsets must run from 0 to the number of particles \(t), got \(o.first ?? -1) ... \(o.last ?? -1)")
        }
        guard ko.first == 0, ko.last == kept.numel, dof.first == 0, dof.last == dropped.numel else {
            throw TensorError("\(op): kept_offsets and dropped_offsets must run from 0 to the number of kept (\(kept.numel)) and dropped (\(dropped.numel)) rows")
        }
        for j in 0..<b {
            let n = o[j + 1] - o[j], nk = ko[j + 1] - ko[j], nd = dof[j + 1] - dof[j]
            guard n >= 0, nk >= 0, nd >= 0, nk + nd == n else {
                throw TensorError("\(op): jet \(j + 1) has \(n) particles but \(nk) kept and \(nd) dropped")
            }
        }
        let rows = kept.toIntArray() + dropped.toIntArray()
        guard rows.allSatisfy({ $0 >= 0 && $0 < t }) else {
            throw TensorError("\(op): kept and dropped rows must lie in 0..<\(t)")
        }
        guard droppedRanks.toIntArray().allSatisfy({ $0 >= 0 }) else { throw TensorError("\(op): dropped_ranks must be non-negative") }
        self.features = features.contiguous()
        self.types = types.contiguous()
        self.offsets = offsets
        self.kept = kept
        self.keptOffsets = keptOffsets
        self.dropped = dropped
        self.droppedOffsets = droppedOffsets
        self.droppedRanks = droppedRanks
        self.noise = noise
    }

    /// The jets of a loader batch that carries its masking split.
    public init(_ batch: SetBatch) throws {
        guard let m = batch.masking else {
            throw TensorError("MPM: the batch has no masking split (give the loader a masking option)")
        }
        try self.init(features: batch.features, types: batch.types, offsets: batch.offsets, kept: m.kept,
                      keptOffsets: m.keptOffsets, dropped: m.dropped, droppedOffsets: m.droppedOffsets,
                      droppedRanks: m.droppedRanks, noise: ParticleNoise(m, jets: batch.jetIndices))
    }

    /// The dropped particles: the reconstruction target.
    public func target() throws -> DroppedSet {
        DroppedSet(features: try features.indexSelect(0, index: dropped),
                   types: try types.indexSelect(0, index: dropped),
                   offsets: droppedOffsets, ranks: droppedRanks, rows: dropped,
                   jetFeatures: features, jetTypes: types, jetOffsets: offsets, noise: noise)
    }
}
