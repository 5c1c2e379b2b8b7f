/// How a `Loader` walks a dataset. Messages name options the way Lua scripts spell them
/// (`batch_size`), since that is where users set them.
///
/// ```swift
/// var o = LoaderOptions(batchSize: 1000)
/// o.shuffle = true
/// o.seed = 42
/// let loader = try Loader(dataset: ds, options: o)
/// ```
public struct LoaderOptions {
    /// Jets per batch.
    public var batchSize: Int
    /// Visit jets in a seed-determined random order, different every epoch.
    public var shuffle: Bool
    /// Seed of the order, masking and noise; nil draws one from the Tensors default generator
    /// when the loader is made (so `manual_seed` makes runs reproducible).
    public var seed: UInt64?
    /// Skip the last batch when it is smaller than `batchSize`.
    public var dropLast: Bool
    /// Use only the first `maxJets` jets of [start, stop) (the same jets every epoch).
    public var maxJets: Int?
    /// First jet (0-based, inclusive).
    public var start: Int
    /// End jet (0-based, exclusive); nil means the end of the file.
    public var stop: Int?
    /// Jets held in memory at once and shuffled together (the streaming window).
    public var windowJets: Int
    /// Jets per read; nil means one HDF5 chunk of the file (at least 256 jets).
    public var blockJets: Int?
    /// Batches prepared ahead by the background thread.
    public var prefetch: Int
    /// Feature transform applied to every batch (in the background thread).
    public var preprocessing: Preprocessing?
    /// MPM masking applied to every batch (in the background thread).
    public var masking: Masking?
    /// Data parallelism: each batch of `batchSize` jets is prepared whole (same order, masking
    /// and preprocessing noise on every rank) and this rank keeps its `1 / count` of the jets,
    /// rank r the jets [r * B / count, (r + 1) * B / count). Needs `dropLast` and a batch size
    /// divisible by `count`.
    public var shard: Shard?

    /// One rank's part of every batch (`rank` 0-based, `count` ranks in all).
    public struct Shard: Equatable {
        public var rank: Int
        public var count: Int
        public init(rank: Int, count: Int) { self.rank = rank; self.count = count }
    }

    public init(batchSize: Int = 1000, shuffle: Bool = false, seed: UInt64? = nil, dropLast: Bool = false,
                maxJets: Int? = nil, start: Int = 0, stop: Int? = nil, windowJets: Int = 50_000,
                blockJets: Int? = nil, prefetch: Int = 4, preprocessing: Preprocessing? = nil,
                masking: Masking? = nil) {
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.maxJets = maxJets
        self.start = start
        self.stop = stop
        self.windowJets = windowJets
        self.blockJets = blockJets
        self.prefetch = prefetch
        self.preprocessing = preprocessing
        self.masking = masking
    }
}
