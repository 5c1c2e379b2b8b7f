import Foundation
import Testing
import Tensors
@testable import JetData

@Suite("Masking")
struct MaskingTests {
    /// A batch of jets with the given particle counts (features are row numbers).
    static func batch(_ counts: [Int]) throws -> SetBatch {
        var offsets: [Int64] = [0]
        for c in counts { offsets.append(offsets.last! + Int64(c)) }
        let t = Int(offsets.last!)
        return try SetBatch(features: try Tensor((0..<(t * 7)).map { Float($0 / 7) }, shape: [t, 7]),
                            types: try Tensor.zeros([t], dtype: .i64), offsets: try Tensor(offsets))
    }

    @Test func dropsFloorOfFractionPerJetAndRanksByPt() throws {
        let counts = [0, 1, 2, 5, 10, 37, 128]
        let b = try Self.batch(counts)
        let split = try Masking(fraction: .fixed(0.4)).split(b, seed: 1)
        let kept = split.kept.toInt64Array(), dropped = split.dropped.toInt64Array()
        let ko = split.keptOffsets.toInt64Array().map { Int($0) }, doff = split.droppedOffsets.toInt64Array().map { Int($0) }
        let ranks = split.droppedRanks.toInt64Array()
        #expect(split.fraction == 0.4)
        for (j, n) in counts.enumerated() {
            let k = Int((0.4 * Double(n)).rounded(.down))
            #expect(doff[j + 1] - doff[j] == k, "jet \(j) of \(n) particles drops \(k)")
            #expect(ko[j + 1] - ko[j] == n - k)
            let rows = Set(b.offsetsArray[j]..<b.offsetsArray[j + 1]).map(Int64.init)
            let mine = Array(kept[ko[j]..<ko[j + 1]]) + Array(dropped[doff[j]..<doff[j + 1]])
            #expect(Set(mine) == Set(rows) && mine.count == n, "kept and dropped partition jet \(j)")
            #expect(Array(dropped[doff[j]..<doff[j + 1]]) == dropped[doff[j]..<doff[j + 1]].sorted())
            #expect(Array(kept[ko[j]..<ko[j + 1]]) == kept[ko[j]..<ko[j + 1]].sorted())
            #expect(Array(ranks[doff[j]..<doff[j + 1]]) == (0..<k).map(Int64.init))
        }
        #expect(Array(doff.prefix(4)) == [0, 0, 0, 0] && doff[4] == 2 && doff[5] == 6)
    }

    @Test func everySlotIsEquallyLikely() throws {
        let b = try Self.batch([10])
        let masking = try Masking(fraction: .fixed(0.4))
        var hits = [Int](repeating: 0, count: 10)
        let trials = 20_000
        for seed in 0..<trials {
            for r in try masking.split(b, seed: UInt64(seed)).dropped.toInt64Array() { hits[Int(r)] += 1 }
        }
        for (slot, h) in hits.enumerated() {
            let p = Double(h) / Double(trials)
            #expect(abs(p - 0.4) < 0.02, "slot \(slot) dropped with frequency \(p), expected 0.4")
        }
    }

    @Test func seededAndSampledFractions() throws {
        let b = try Self.batch([20, 30, 40])
        let m = try Masking(fraction: .fixed(0.4))
        #expect(try m.split(b, seed: 9).dropped.toInt64Array() == m.split(b, seed: 9).dropped.toInt64Array())
        #expect(try m.split(b, seed: 9).dropped.toInt64Array() != m.split(b, seed: 10).dropped.toInt64Array())

        let ranged = try Masking(fraction: .uniform(0, 0.8))
        var fractions: [Double] = []
        for seed in 0..<200 {
            let s = try ranged.split(b, seed: UInt64(seed))
            fractions.append(s.fraction)
            let d = s.droppedOffsets.toInt64Array()
            #expect(d == [0, Int64(20 * s.fraction), Int64(20 * s.fraction) + Int64(30 * s.fraction),
                          Int64(20 * s.fraction) + Int64(30 * s.fraction) + Int64(40 * s.fraction)],
                    "one fraction per batch, floor per jet")
        }
        #expect(fractions.allSatisfy { $0 >= 0 && $0 <= 0.8 })
        #expect(fractions.min()! < 0.1 && fractions.max()! > 0.7)

        let sampled = try Masking(fraction: .sampler { r in r.uniform() < 0.5 ? 0.25 : 0.5 })
        let seen = Set(try (0..<50).map { try sampled.split(b, seed: UInt64($0)).fraction })
        #expect(seen == [0.25, 0.5])
        let bad = try Masking(fraction: .sampler { _ in 2 })
        TestFiles.expectError(["fraction sampler returned 2.0"]) { _ = try bad.split(b, seed: 0) }
        TestFiles.expectError(["masking: fraction must lie in [0, 1] (got 1.5)"]) { _ = try Masking(fraction: .fixed(1.5)) }
        TestFiles.expectError(["0 <= low <= high <= 1"]) { _ = try Masking(fraction: .uniform(0.6, 0.2)) }
    }

    @Test func loaderMasksEveryBatchReproducibly() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let ref = ReferenceJets(kind: .btag, n: 120, p: 15, seed: 4)
        try ref.write(to: dir + "/m.h5")
        let ds = try JetDataset.open(dir + "/m.h5")
        let o = LoaderOptions(batchSize: 32, shuffle: true, seed: 2, masking: try Masking(fraction: .fixed(0.4)))
        func run() throws -> [[Int64]] {
            let it = try Loader(dataset: ds, options: o).iterator(epoch: 0)
            var out: [[Int64]] = []
            while let b = try it.next() {
                let s = try #require(b.masking)
                #expect(s.keptOffsets.shape == [b.batchSize + 1])
                #expect(s.kept.numel + s.dropped.numel == b.particleCount)
                out.append(s.dropped.toInt64Array())
            }
            return out
        }
        let first = try run()
        #expect(first.count == 4)
        #expect(try run() == first)
    }
}
