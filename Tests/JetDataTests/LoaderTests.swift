import Foundation
import Testing
import Tensors
@testable import JetData

@Suite("Loader")
struct LoaderTests {
    /// A 203-jet file with 16-row chunks: windows of 40 jets force streaming with carry-over.
    static func makeFile(_ dir: String, n: Int = 203) throws -> (JetDataset, ReferenceJets) {
        let ref = ReferenceJets(kind: .jetclass, n: n, p: 12, seed: 21)
        try ref.write(to: dir + "/loader.h5", chunkRows: 16)
        return (try JetDataset.open(dir + "/loader.h5"), ref)
    }

    static func collect(_ it: LoaderIterator) throws -> [SetBatch] {
        var out: [SetBatch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    @Test func visitsEveryJetOncePerEpochInThePlannedOrder() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let (ds, _) = try Self.makeFile(dir)
        let loader = try Loader(dataset: ds, options: LoaderOptions(batchSize: 17, shuffle: true, seed: 9, windowJets: 40, prefetch: 2))
        #expect(loader.count == 12)   // 11 full batches of 17 and one of 16
        var orders: [[Int]] = []
        for epoch in 0..<3 {
            let batches = try Self.collect(loader.makeIterator())
            #expect(batches.count == loader.count)
            #expect(batches.dropLast().allSatisfy { $0.batchSize == 17 } && batches.last?.batchSize == 16)
            let seen = batches.flatMap { $0.jetIndices.toInt64Array().map { Int($0) } }
            #expect(seen.sorted() == Array(0..<203), "epoch \(epoch) must visit every jet exactly once")
            #expect(seen == loader.jetOrder(epoch: epoch))
            orders.append(seen)
        }
        #expect(loader.epoch == 3)
        #expect(orders[0] != orders[1] && orders[1] != orders[2], "each epoch is reshuffled")
        #expect(orders[0] != Array(0..<203), "shuffled")
    }

    @Test func sameSeedSameBatches() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let (ds, _) = try Self.makeFile(dir)
        let o = LoaderOptions(batchSize: 25, shuffle: true, seed: 1234, windowJets: 64)
        let a = try Self.collect(try Loader(dataset: ds, options: o).iterator(epoch: 4))
        let b = try Self.collect(try Loader(dataset: ds, options: o).iterator(epoch: 4))
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) {
            #expect(x.jetIndices.toInt64Array() == y.jetIndices.toInt64Array())
            #expect(x.features.toFloatArray() == y.features.toFloatArray())
        }
        var other = o
        other.seed = 1235
        #expect(try Loader(dataset: ds, options: other).jetOrder(epoch: 4) != a.flatMap { $0.jetIndices.toInt64Array().map { Int($0) } })

        // Without a seed, the loader draws one from the Tensors generator: manualSeed fixes it.
        var unseeded = o
        unseeded.seed = nil
        manualSeed(77)
        let s1 = try Loader(dataset: ds, options: unseeded).seed
        manualSeed(77)
        let s2 = try Loader(dataset: ds, options: unseeded).seed
        #expect(s1 == s2)
    }

    @Test func batchesHoldTheRightJets() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let (ds, ref) = try Self.makeFile(dir)
        let loader = try Loader(dataset: ds, options: LoaderOptions(batchSize: 30, shuffle: true, seed: 3, windowJets: 50))
        for batch in try Self.collect(loader.makeIterator()) {
            let indices = batch.jetIndices.toInt64Array().map { Int($0) }
            let direct = try ds.read(indices: indices)
            let same = batch.features.toFloatArray() == direct.features.toFloatArray()
                && batch.types.toInt64Array() == direct.types.toInt64Array()
                && batch.offsets.toInt64Array() == direct.offsets.toInt64Array()
            #expect(same, "loader batch differs from a direct read of the same jets")
            #expect(batch.labels.toInt64Array() == indices.map { ref.labels[$0] })
        }
    }

    @Test func appliesPreprocessingDeterministically() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let (ds, _) = try Self.makeFile(dir)
        let pre = try Preprocessing.fit(.quantile, dataset: ds, quantiles: 50)
        let o = LoaderOptions(batchSize: 40, shuffle: true, seed: 8, windowJets: 64, preprocessing: pre)
        let a = try Self.collect(try Loader(dataset: ds, options: o).iterator(epoch: 1))
        let b = try Self.collect(try Loader(dataset: ds, options: o).iterator(epoch: 1))
        for (x, y) in zip(a, b) {
            let raw = try ds.read(indices: x.jetIndices.toInt64Array().map { Int($0) })
            let physical = try pre.inverse(features: x.features, types: x.types).toFloatArray()
            let close = zip(physical, raw.features.toFloatArray()).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) }
            #expect(close, "loader features are not the transform of the file's features")
            #expect(x.features.toFloatArray() == y.features.toFloatArray(), "noise must be fixed by seed, epoch and batch")
        }
    }

    @Test func rangeOptionsAndDropLast() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let (ds, _) = try Self.makeFile(dir)
        let plain = try Loader(dataset: ds, options: LoaderOptions(batchSize: 50, start: 10, stop: 150))
        let batches = try Self.collect(plain.makeIterator())
        #expect(batches.map(\.batchSize) == [50, 50, 40])
        #expect(batches.flatMap { $0.jetIndices.toInt64Array() } == (10..<150).map(Int64.init))

        let dropped = try Loader(dataset: ds, options: LoaderOptions(batchSize: 50, dropLast: true, start: 10, stop: 150))
        #expect(dropped.count == 2)
        #expect(try Self.collect(dropped.makeIterator()).map(\.batchSize) == [50, 50])

        let limited = try Loader(dataset: ds, options: LoaderOptions(batchSize: 8, shuffle: true, seed: 5, maxJets: 20, start: 100))
        #expect(limited.range == 100..<120 && limited.count == 3)
        let seen = try Self.collect(limited.makeIterator()).flatMap { $0.jetIndices.toInt64Array() }
        #expect(seen.sorted() == (100..<120).map(Int64.init))

        let tooBig = try Loader(dataset: ds, options: LoaderOptions(batchSize: 500, dropLast: true))
        #expect(tooBig.count == 0)
        #expect(try tooBig.makeIterator().next() == nil)
    }

    @Test func rejectsBadOptions() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let (ds, _) = try Self.makeFile(dir)
        TestFiles.expectError(["loader: batch_size must be at least 1 (got 0)"]) {
            _ = try Loader(dataset: ds, options: LoaderOptions(batchSize: 0))
        }
        TestFiles.expectError(["loader: stop 300 must lie between start 0 and the number of jets 203"]) {
            _ = try Loader(dataset: ds, options: LoaderOptions(stop: 300))
        }
        TestFiles.expectError(["loader: start -1"]) { _ = try Loader(dataset: ds, options: LoaderOptions(start: -1)) }
        TestFiles.expectError(["max_jets must be non-negative"]) { _ = try Loader(dataset: ds, options: LoaderOptions(maxJets: -3)) }
        // Extreme values are clamped, never overflow.
        let huge = try Loader(dataset: ds, options: LoaderOptions(batchSize: Int.max, maxJets: Int.max, start: 5, blockJets: Int.max))
        #expect(huge.range == 5..<203 && huge.count == 1)
        #expect(try huge.makeIterator().next()?.batchSize == 198)
    }

    @Test func stopsEarlyAndReportsReadErrors() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let (ds, _) = try Self.makeFile(dir, n: 2000)
        // Abandoning an epoch after one batch must not hang or leak the thread's queue.
        for _ in 0..<20 {
            let it = try Loader(dataset: ds, options: LoaderOptions(batchSize: 10, prefetch: 1)).makeIterator()
            #expect(try it.next()?.batchSize == 10)
        }
        // Damage the compressed data of a copy (HDF5 shares caches between handles of one file,
        // so the open original would still serve its cached chunks): opening works, reading throws.
        let path = dir + "/damaged.h5"
        try FileManager.default.copyItem(atPath: dir + "/loader.h5", toPath: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let mid = bytes.count / 2
        for i in (mid - 4000)..<(mid + 4000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
        try bytes.write(to: URL(fileURLWithPath: path))
        let damaged = try JetDataset.open(path)
        let it = try Loader(dataset: damaged, options: LoaderOptions(batchSize: 100)).makeIterator()
        TestFiles.expectError(["damaged.h5", "cannot read"]) { while try it.next() != nil {} }
        #expect(try it.next() == nil)
    }
}
