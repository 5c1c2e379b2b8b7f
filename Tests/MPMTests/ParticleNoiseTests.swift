import XCTest
@testable import JetData
@testable import MPM
@testable import Tensors

/// CFM's time and noise keyed per particle (ParticleNoise): a rank's slice of a global batch
/// draws for its particles exactly what the whole batch draws for them, and the draws are
/// standard normals that differ between particles, streams and batches.
final class ParticleNoiseTests: XCTestCase {
    private func loaderBatches(_ count: Int, shard: LoaderOptions.Shard? = nil) throws -> [SetBatch] {
        var o = LoaderOptions(batchSize: 32, shuffle: true, seed: 3, dropLast: true, maxJets: 32 * count)
        o.preprocessing = try TestData.preprocessing()
        o.masking = try Masking(fraction: .uniform(0.2, 0.6))
        o.shard = shard
        o.prefetch = 1
        let it = try Loader(dataset: try JetDataset.open(TestData.bundled("jetclass_train.h5")), options: o).makeIterator()
        var out: [SetBatch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    func testShardsDrawWhatTheWholeBatchDraws() throws {
        let whole = try loaderBatches(2)
        let halves = try (0..<2).map { try loaderBatches(2, shard: LoaderOptions.Shard(rank: $0, count: 2)) }
        for (i, batch) in whole.enumerated() {
            let target = try MaskedJets(batch).target()
            let eps = try XCTUnwrap(try target.normals(width: 7, stream: .cfmNoise)).toFloatArray()
            let time = try XCTUnwrap(try target.normals(width: 1, stream: .cfmTime)).toFloatArray()
            let split = target.offsets.toIntArray()[16]  // the dropped rows of rank 0's 16 jets
            let parts = try halves.map { try MaskedJets($0[i]).target() }
            XCTAssertEqual(try parts[0].normals(width: 7, stream: .cfmNoise)!.toFloatArray(), Array(eps[..<(split * 7)]))
            XCTAssertEqual(try parts[1].normals(width: 7, stream: .cfmNoise)!.toFloatArray(), Array(eps[(split * 7)...]))
            XCTAssertEqual(try parts[1].normals(width: 1, stream: .cfmTime)!.toFloatArray(), Array(time[split...]))
            XCTAssertNotEqual(Array(eps.prefix(7)), Array(time.prefix(7)), "streams are independent")
            let jets = try XCTUnwrap(try target.jetNormals(stream: .ssfmTime)).toFloatArray()
            XCTAssertEqual(try parts[0].jetNormals(stream: .ssfmTime)!.toFloatArray(), Array(jets[..<16]), "per-jet draws too")
            XCTAssertEqual(try parts[1].jetNormals(stream: .ssfmTime)!.toFloatArray(), Array(jets[16...]))
            // Standard normals: mean ~0, variance ~1 over a batch's few thousand draws.
            let mean = eps.reduce(0, +) / Float(eps.count)
            let variance = eps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(eps.count)
            XCTAssertEqual(mean, 0, accuracy: 0.1)
            XCTAssertEqual(variance, 1, accuracy: 0.15)
        }
        let first = try MaskedJets(whole[0]).target().normals(width: 7, stream: .cfmNoise)!.toFloatArray()
        let second = try MaskedJets(whole[1]).target().normals(width: 7, stream: .cfmNoise)!.toFloatArray()
        XCTAssertNotEqual(Array(first.prefix(7)), Array(second.prefix(7)), "each batch has its own key")
    }

    func testSetWithoutKeyDrawsNothing() throws {
        let b = try loaderBatches(1)[0]
        let m = b.masking!
        let jets = try MaskedJets(features: b.features, types: b.types, offsets: b.offsets, kept: m.kept,
                                  keptOffsets: m.keptOffsets, dropped: m.dropped, droppedOffsets: m.droppedOffsets,
                                  droppedRanks: m.droppedRanks)
        XCTAssertNil(try jets.target().normals(width: 7, stream: .cfmNoise))
    }
}
