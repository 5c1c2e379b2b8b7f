import JetData
import Tensors

/// Noise keyed by particle rather than drawn in sequence: each dropped particle's numbers come
/// from a stream keyed by (the batch's key, its jet's index in the file, its rank among the
/// jet's dropped particles, what is drawn). A particle therefore gets the same noise whichever
/// rank of `mpirun -n K` holds its jet and wherever the jet sits in the batch, so K ranks
/// reproduce the one-process run (docs/distributed.md); resuming needs no generator state.
///
/// ```swift
/// let eps = try target.normals(width: 7, stream: ParticleNoise.Stream.cfmNoise) ?? Tensor.randn([target.count, 7])
/// ```
public struct ParticleNoise: Sendable {
    /// The batch's key (MaskSplit.noiseKey).
    public let seed: UInt64
    /// [B] each jet's index in its file (SetBatch.jetIndices).
    public let jets: [Int64]

    public init(seed: UInt64, jets: [Int64]) {
        self.seed = seed
        self.jets = jets
    }

    public init(_ split: MaskSplit, jets: Tensor) {
        self.init(seed: split.noiseKey, jets: jets.toIntArray().map(Int64.init))
    }

    /// What is drawn, so two quantities of one particle are independent.
    public enum Stream: UInt64 {
        case cfmTime = 0xC0F1, cfmNoise = 0xC0F2, flowNoise = 0xF10E, ssfmTime = 0x55F1, ssfmNoise = 0x55F2
    }
}

extension DroppedSet {
    /// [B] standard normals, one per jet keyed by the jet alone, or nil when the set has no key.
    public func jetNormals(stream: ParticleNoise.Stream) throws -> Tensor? {
        guard let noise else { return nil }
        guard noise.jets.count == batchSize else {
            throw TensorError("particle noise: \(noise.jets.count) jet keys for \(batchSize) jets")
        }
        return try Tensor.make([batchSize], Float.self) { p, _ in
            for jet in 0..<batchSize {
                var random = RandomSource(seed: noise.seed, stream: [UInt64(bitPattern: noise.jets[jet]), stream.rawValue])
                p[jet] = Float(random.normal())
            }
        }
    }

    /// [count, width] standard normals keyed per particle, or nil when the set has no key.
    public func normals(width: Int, stream: ParticleNoise.Stream) throws -> Tensor? {
        guard let noise else { return nil }
        let o = offsets.toIntArray(), ranks = self.ranks.toIntArray()
        guard noise.jets.count == o.count - 1 else {
            throw TensorError("particle noise: \(noise.jets.count) jet keys for \(o.count - 1) jets")
        }
        return try Tensor.make([count, width], Float.self) { p, _ in
            for jet in 0..<(o.count - 1) {
                for row in o[jet]..<o[jet + 1] {
                    var random = RandomSource(seed: noise.seed, stream: [UInt64(bitPattern: noise.jets[jet]),
                                                                        UInt64(ranks[row]), stream.rawValue])
                    for f in 0..<width { p[row * width + f] = Float(random.normal()) }
                }
            }
        }
    }
}
