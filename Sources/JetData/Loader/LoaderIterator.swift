import Tensors
import Foundation

/// One epoch of a `Loader` in progress. A background thread reads windows, cuts batches and
/// queues them; `next()` takes them in order. Dropping the iterator (or `cancel()`) stops the
/// thread at its next batch. A read error ends the epoch: `next()` throws it.
///
/// ```swift
/// let it = loader.makeIterator()
/// while let b = try it.next() { print(b.batchSize) }
/// ```
public final class LoaderIterator {
    private let queue: BatchQueue
    private var done = false
    /// Batches handed out so far in this epoch.
    public private(set) var batchesTaken = 0
    /// The epoch this iterator runs.
    public let epoch: Int

    init(loader: Loader, plan: EpochPlan) {
        queue = BatchQueue(capacity: loader.options.prefetch)
        epoch = plan.epoch
        let producer = BatchProducer(loader: loader, plan: plan, queue: queue)
        let thread = Thread { producer.run() }
        thread.name = "mpm data loader"
        thread.stackSize = 4 << 20
        thread.start()
    }

    deinit { queue.cancel() }

    /// The next batch, or nil when the epoch is over.
    public func next() throws -> SetBatch? {
        guard !done else { return nil }
        guard let item = queue.take() else {
            done = true
            return nil
        }
        switch item {
        case .success(let batch):
            batchesTaken += 1
            return batch
        case .failure(let error):
            done = true
            queue.cancel()
            throw error
        }
    }

    /// Stops the background thread and ends the epoch.
    public func cancel() {
        done = true
        queue.cancel()
    }
}

/// The background half: reads each window of the plan, permutes it, cuts batches (carrying a
/// partial batch over to the next window) and prepares them. Holds no reference to the iterator,
/// so dropping the iterator cancels the queue and ends this thread.
final class BatchProducer {
    let dataset: JetDataset
    let options: LoaderOptions
    let plan: EpochPlan
    let queue: BatchQueue
    let seed: UInt64

    init(loader: Loader, plan: EpochPlan, queue: BatchQueue) {
        self.dataset = loader.dataset
        self.options = loader.options
        self.plan = plan
        self.queue = queue
        self.seed = loader.seed
    }

    func run() {
        do {
            try produce()
        } catch {
            _ = queue.put(.failure(error))
        }
        queue.finish()
    }

    private func produce() throws {
        let size = options.batchSize
        var carry = PackedJets(kind: dataset.kind)
        var batchIndex = 0
        // The next window is read on another thread while this one's batches are prepared, so
        // decompression overlaps preprocessing and masking (two windows are held at most).
        var next = plan.windows.isEmpty ? nil : WindowRead(dataset: dataset, blocks: plan.windows[0], queue: queue)
        for w in plan.windows.indices {
            guard let current = next else { return }
            let window = try current.wait()
            next = w + 1 < plan.windows.count ? WindowRead(dataset: dataset, blocks: plan.windows[w + 1], queue: queue) : nil
            if queue.isCancelled { return }
            let permutation = plan.permutation(window: w, count: window.count)
            var store = carry
            let base = store.count
            store.append(window)
            let order = Array(0..<base) + permutation.map { $0 + base }
            var at = 0
            while order.count - at >= size {
                let batch = try prepare(store.batch(order[at..<(at + size)]), index: batchIndex)
                guard queue.put(.success(batch)) else { return }
                batchIndex += 1
                at += size
            }
            carry = store.subset(order[at...])
        }
        if carry.count > 0 && !options.dropLast {
            let batch = try prepare(carry.batch(0..<carry.count), index: batchIndex)
            _ = queue.put(.success(batch))
        }
    }

    /// Applies the configured per-batch work; its randomness is keyed by (seed, epoch, batch).
    private func prepare(_ batch: SetBatch, index: Int) throws -> SetBatch {
        if let pre = options.preprocessing {
            // The batch is fresh and owned here, so its features are transformed in place.
            var random = RandomSource(seed: seed, stream: [UInt64(truncatingIfNeeded: plan.epoch), 0x9E9E, UInt64(index)])
            let types = batch.types.elementPointer(as: Int64.self)
            pre.transformInPlace(batch.features.elementPointer(as: Float.self), types: types,
                                 count: batch.particleCount, random: &random)
        }
        if let masking = options.masking {
            var random = RandomSource(seed: seed, stream: [UInt64(truncatingIfNeeded: plan.epoch), 0x3A5C, UInt64(index)])
            batch.masking = try masking.split(offsets: batch.offsetsArray, random: &random)
        }
        if let shard = options.shard, shard.count > 1 {
            let part = batch.batchSize / shard.count
            return try batch.jets(shard.rank * part ..< (shard.rank + 1) * part)
        }
        return batch
    }
}

/// One window's blocks read and packed on a background queue; `wait` returns them or rethrows
/// the read error. Stops early (with a partial window nobody uses) once the epoch is cancelled.
final class WindowRead {
    private let finished = DispatchSemaphore(value: 0)
    private var result: Result<PackedJets, Error> = .failure(DataError("loader: window read did not run"))

    init(dataset: JetDataset, blocks: [Range<Int>], queue: BatchQueue) {
        DispatchQueue.global().async { [self] in
            result = Result {
                var window = PackedJets(kind: dataset.kind)
                for block in blocks where !queue.isCancelled { window.append(try dataset.readPacked(block)) }
                return window
            }
            finished.signal()
        }
    }

    func wait() throws -> PackedJets {
        finished.wait()
        return try result.get()
    }
}
