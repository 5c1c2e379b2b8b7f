/// The visiting order of one epoch, computed without reading any data.
///
/// The jet range is cut into blocks aligned with the file's chunks (one read each). With
/// shuffling, the block order is a seed-and-epoch-determined permutation; consecutive blocks in
/// that order form windows of about `windowJets` jets, and the jets inside each window are
/// permuted again. Batches are consecutive slices of the resulting order, so a batch may span
/// two windows (the producer carries the leftover jets over). Every jet appears exactly once.
struct EpochPlan {
    /// Block ranges of each window, in reading order.
    let windows: [[Range<Int>]]
    let shuffle: Bool
    let seed: UInt64
    let epoch: Int

    init(range: Range<Int>, blockJets: Int, windowJets: Int, shuffle: Bool, seed: UInt64, epoch: Int) {
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = epoch
        // Block boundaries at multiples of blockJets in file coordinates, so blocks match chunks.
        var blocks: [Range<Int>] = []
        var a = range.lowerBound
        while a < range.upperBound {
            let b = min(range.upperBound, (a / blockJets + 1) * blockJets)
            blocks.append(a..<b)
            a = b
        }
        if shuffle {
            var r = RandomSource(seed: seed, stream: [UInt64(truncatingIfNeeded: epoch), 0xB10C])
            r.shuffle(&blocks)
        }
        var windows: [[Range<Int>]] = []
        var current: [Range<Int>] = []
        var size = 0
        for block in blocks {
            current.append(block)
            size += block.count
            if size >= windowJets {
                windows.append(current)
                current = []
                size = 0
            }
        }
        if !current.isEmpty { windows.append(current) }
        self.windows = windows
    }

    /// Order of the jets within window `w`, as positions into the window's jets (blocks
    /// concatenated in reading order).
    func permutation(window w: Int, count: Int) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        var r = RandomSource(seed: seed, stream: [UInt64(truncatingIfNeeded: epoch), 0x817D0, UInt64(w)])
        return r.permutation(count)
    }

    /// The whole epoch's jet order (file indices); for tests and inspection.
    func jetOrder() -> [Int] {
        var order: [Int] = []
        for (w, blocks) in windows.enumerated() {
            let jets = blocks.flatMap { Array($0) }
            order += permutation(window: w, count: jets.count).map { jets[$0] }
        }
        return order
    }
}
