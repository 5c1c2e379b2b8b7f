import Foundation

/// Iterates a `JetDataset` in packed batches, reading by chunked hyperslabs on a background
/// thread that prepares `prefetch` batches ahead (it never touches Lua). Files larger than
/// memory stream: only one window of jets (plus a partial batch) is held at a time.
///
/// Each epoch visits every jet of the range exactly once. The order is fixed by (seed, epoch):
/// the same seed gives the same batches, and each new epoch is reshuffled. Starting an
/// iteration with `makeIterator()` uses `epoch` and then advances it.
///
/// ```swift
/// let loader = try Loader(dataset: ds, options: LoaderOptions(batchSize: 1000, shuffle: true, seed: 1))
/// for _ in 0..<10 {                              // ten epochs
///     let it = loader.makeIterator()
///     while let batch = try it.next() { train(batch) }
/// }
/// ```
public final class Loader {
    public let dataset: JetDataset
    public let options: LoaderOptions
    /// The seed in use (the option, or the one drawn when it was nil).
    public let seed: UInt64
    /// The jets visited each epoch (0-based file rows).
    public let range: Range<Int>
    /// Jets per read.
    public let blockJets: Int
    /// The epoch the next `makeIterator()` runs (starts at 0).
    public var epoch: Int = 0

    public init(dataset: JetDataset, options: LoaderOptions = LoaderOptions()) throws {
        let o = options
        let n = dataset.numJets
        guard o.batchSize >= 1 else { throw DataError("loader: batch_size must be at least 1 (got \(o.batchSize))") }
        guard o.start >= 0 && o.start <= n else {
            throw DataError("loader: start \(o.start) is outside the file's \(n) jets (\(dataset.path))")
        }
        let stop = o.stop ?? n
        guard stop >= o.start && stop <= n else {
            throw DataError("loader: stop \(stop) must lie between start \(o.start) and the number of jets \(n) (\(dataset.path))")
        }
        if let m = o.maxJets, m < 0 { throw DataError("loader: max_jets must be non-negative (got \(m))") }
        guard o.windowJets >= 1 else { throw DataError("loader: window_jets must be at least 1 (got \(o.windowJets))") }
        if let b = o.blockJets, b < 1 { throw DataError("loader: block_jets must be at least 1 (got \(b))") }
        guard o.prefetch >= 1 else { throw DataError("loader: prefetch must be at least 1 (got \(o.prefetch))") }
        if let shard = o.shard {
            guard shard.count >= 1, shard.rank >= 0, shard.rank < shard.count else {
                throw DataError("loader: shard rank must lie in 0..size-1 and size be at least 1 (got rank \(shard.rank), size \(shard.count))")
            }
            guard o.batchSize % shard.count == 0 else {
                throw DataError("loader: batch_size \(o.batchSize) must be divisible by the shard size \(shard.count)")
            }
            guard o.dropLast || shard.count == 1 else {
                throw DataError("loader: a shard needs drop_last = true (the last, smaller batch would split unevenly)")
            }
        }
        self.dataset = dataset
        self.options = o
        self.seed = o.seed ?? RandomSource.seed()
        self.range = o.start..<min(stop, o.start + min(o.maxJets ?? n, n))
        // A whole number of chunks per read, so no chunk is decompressed twice; never more than
        // the file (which also keeps block arithmetic far from overflow).
        let chunk = dataset.chunkRows
        self.blockJets = min(o.blockJets ?? chunk * max(1, (256 + chunk - 1) / chunk), max(n, 1))
    }

    /// Jets visited per epoch.
    public var numJets: Int { range.count }

    /// Batches per epoch.
    public var count: Int {
        let full = numJets / options.batchSize
        return options.dropLast || numJets % options.batchSize == 0 ? full : full + 1
    }

    func plan(epoch: Int) -> EpochPlan {
        EpochPlan(range: range, blockJets: blockJets, windowJets: options.windowJets,
                  shuffle: options.shuffle, seed: seed, epoch: epoch)
    }

    /// The jets of `epoch` in visiting order (file rows), without reading data. Batches are its
    /// consecutive slices of `batchSize` (the last one dropped when short and `dropLast`).
    public func jetOrder(epoch: Int) -> [Int] { plan(epoch: epoch).jetOrder() }

    /// Starts iterating epoch `epoch` on a background thread.
    public func iterator(epoch: Int) -> LoaderIterator {
        LoaderIterator(loader: self, plan: plan(epoch: epoch))
    }

    /// Starts iterating the current `epoch`, then advances `epoch`.
    public func makeIterator() -> LoaderIterator {
        defer { epoch += 1 }
        return iterator(epoch: epoch)
    }
}
