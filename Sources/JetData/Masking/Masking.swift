import Foundation
import Tensors

/// MPM masking: in every jet of n real particles, floor(fraction * n) are dropped, chosen
/// uniformly at random; the encoder sees the rest. The fraction is fixed (the paper's 0.4), or
/// drawn once per batch (U(0, 0.8) for set-to-set flow matching), or given by a sampler.
///
/// floor is taken of the double product fraction * n (as numpy would), so 0.4 drops 2 of 5,
/// 4 of 10 and 0 of 2.
///
/// ```swift
/// let masking = try Masking(fraction: .fixed(0.4))
/// let split = try masking.split(batch, seed: 3)
/// split.dropped          // rows of batch.features to reconstruct
/// split.droppedRanks     // 0 for the hardest dropped particle of each jet, 1 for the next ...
/// ```
public struct Masking {
    /// How the drop fraction is chosen for a batch.
    public enum Fraction {
        /// The same fraction for every batch.
        case fixed(Double)
        /// Uniform on [low, high], drawn once per batch.
        case uniform(Double, Double)
        /// Any rule, drawn once per batch from the batch's random stream; must return 0...1.
        case sampler((inout RandomSource) -> Double)
    }

    public let fraction: Fraction

    public init(fraction: Fraction = .fixed(0.4)) throws {
        switch fraction {
        case .fixed(let f):
            guard f >= 0 && f <= 1 else { throw DataError("masking: fraction must lie in [0, 1] (got \(f))") }
        case .uniform(let a, let b):
            guard a >= 0 && b <= 1 && a <= b else {
                throw DataError("masking: a fraction range must satisfy 0 <= low <= high <= 1 (got \(a), \(b))")
            }
        case .sampler:
            break
        }
        self.fraction = fraction
    }

    /// The fraction for one batch.
    func drawFraction(_ random: inout RandomSource) throws -> Double {
        switch fraction {
        case .fixed(let f): return f
        case .uniform(let a, let b): return a + (b - a) * random.uniform()
        case .sampler(let sample):
            let f = sample(&random)
            guard f >= 0 && f <= 1 else { throw DataError("masking: the fraction sampler returned \(f), outside [0, 1]") }
            return f
        }
    }

    /// Splits `batch` with randomness fixed by `seed`.
    public func split(_ batch: SetBatch, seed: UInt64) throws -> MaskSplit {
        var random = RandomSource(seed: seed)
        return try split(offsets: batch.offsetsArray, random: &random)
    }

    /// A copy of `batch` carrying its split in `masking`.
    public func apply(to batch: SetBatch, seed: UInt64) throws -> SetBatch {
        let out = batch.replacingFeatures(batch.features)
        out.masking = try split(batch, seed: seed)
        return out
    }

    /// Splits jets given by row offsets (B + 1 entries) using `random`.
    func split(offsets o: [Int], random: inout RandomSource) throws -> MaskSplit {
        let f = try drawFraction(&random)
        let b = o.count - 1
        var dropCounts = [Int](repeating: 0, count: b)
        for j in 0..<b { dropCounts[j] = Int((f * Double(o[j + 1] - o[j])).rounded(.down)) }
        let totalDropped = dropCounts.reduce(0, +)
        let total = o[b]
        var kept = [Int64](), dropped = [Int64](), ranks = [Int64]()
        kept.reserveCapacity(total - totalDropped)
        dropped.reserveCapacity(totalDropped)
        ranks.reserveCapacity(totalDropped)
        var keptOffsets = [Int64](repeating: 0, count: b + 1)
        var droppedOffsets = [Int64](repeating: 0, count: b + 1)
        // Scratch buffers sized for the longest jet, reused for every jet.
        let longest = (0..<b).map { o[$0 + 1] - o[$0] }.max() ?? 0
        var slots = [Int](repeating: 0, count: longest)
        var isDropped = [Bool](repeating: false, count: longest)
        for j in 0..<b {
            let n = o[j + 1] - o[j], k = dropCounts[j]
            // Partial Fisher-Yates: the first k slots of a random permutation are dropped.
            for s in 0..<n { slots[s] = s; isDropped[s] = false }
            for i in 0..<k {
                slots.swapAt(i, i + random.below(n - i))
                isDropped[slots[i]] = true
            }
            // Rows in increasing order = pt order, so the rank is the position among the dropped.
            var rank: Int64 = 0
            for s in 0..<n {
                if isDropped[s] {
                    dropped.append(Int64(o[j] + s))
                    ranks.append(rank)
                    rank += 1
                } else {
                    kept.append(Int64(o[j] + s))
                }
            }
            keptOffsets[j + 1] = Int64(kept.count)
            droppedOffsets[j + 1] = Int64(dropped.count)
        }
        return MaskSplit(kept: try Tensor(kept, shape: [kept.count]),
                         dropped: try Tensor(dropped, shape: [dropped.count]),
                         keptOffsets: try Tensor(keptOffsets, shape: [b + 1]),
                         droppedOffsets: try Tensor(droppedOffsets, shape: [b + 1]),
                         droppedRanks: try Tensor(ranks, shape: [ranks.count]),
                         fraction: f, noiseKey: random.next())
    }
}
