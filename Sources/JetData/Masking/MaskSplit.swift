import Tensors

/// The result of MPM masking on a packed batch: which rows the encoder sees (kept) and which it
/// must reconstruct (dropped). Indices are rows of the batch's `features` (0-based). Within each
/// jet both lists are in increasing row order, i.e. in pt order, so a dropped particle's rank
/// among the dropped ones of its jet is its position in the jet's dropped segment.
///
/// ```swift
/// let s = try Masking(fraction: .fixed(0.4)).split(batch, seed: 7)
/// let encoderInput = try batch.features.indexSelect(0, index: s.kept)
/// ```
public struct MaskSplit {
    /// [Tk] int64 rows kept.
    public let kept: Tensor
    /// [Td] int64 rows dropped.
    public let dropped: Tensor
    /// [B + 1] int64: jet b keeps kept[keptOffsets[b] ..< keptOffsets[b+1]].
    public let keptOffsets: Tensor
    /// [B + 1] int64: jet b drops dropped[droppedOffsets[b] ..< droppedOffsets[b+1]].
    public let droppedOffsets: Tensor
    /// [Td] int64: rank of each dropped particle among its jet's dropped ones (0 = highest pt).
    public let droppedRanks: Tensor
    /// The drop fraction used for this batch.
    public let fraction: Double
    /// Seed of the per-particle noise that tasks draw for this batch (CFM's time and noise),
    /// drawn with the split: every rank's slice of a global batch carries the same key, so a
    /// particle gets the same noise in one process and under MPI (ParticleNoise in MPM).
    public let noiseKey: UInt64
}
