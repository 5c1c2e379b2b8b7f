import Tensors

extension SetBatch {
    /// The jets `range` (0-based) of this batch as a batch of their own, with fresh copies of
    /// their rows and the masking split restricted to them (rows renumbered from 0). A loader
    /// shard uses it so that every rank cuts its part out of the same prepared batch.
    ///
    /// ```swift
    /// let firstHalf = try batch.jets(0..<(batch.batchSize / 2))
    /// ```
    public func jets(_ range: Range<Int>) throws -> SetBatch {
        guard range.lowerBound >= 0, range.upperBound <= batchSize else {
            throw DataError("set batch: jets \(range.lowerBound)..<\(range.upperBound) outside the batch's \(batchSize)")
        }
        let o = offsetsArray
        let first = o[range.lowerBound], rows = o[range.upperBound] - first
        func rowsOf<T: TensorElement>(_ t: Tensor, _ type: T.Type) throws -> Tensor {
            try t.narrow(0, start: first, length: rows).contiguousCopy(as: T.self)
        }
        func jetsOf<T: TensorElement>(_ t: Tensor, _ type: T.Type) throws -> Tensor {
            try t.narrow(0, start: range.lowerBound, length: range.count).contiguousCopy(as: T.self)
        }
        let newOffsets = o[range.lowerBound...range.upperBound].map { $0 - first }
        let b = SetBatch(kind: kind, features: try rowsOf(features, Float.self), types: try rowsOf(types, Int64.self),
                         offsets: try Self.int64(newOffsets[...]), labels: try jetsOf(labels, Int64.self),
                         jets: try jetsOf(jets, Float.self), vertexIds: try vertexIds.map { try rowsOf($0, Int64.self) },
                         trackTypes: try trackTypes.map { try rowsOf($0, Int64.self) },
                         jetIndices: try jetsOf(jetIndices, Int64.self), offsetsArray: newOffsets)
        if let m = masking {
            let kept = m.keptOffsets.toIntArray(), dropped = m.droppedOffsets.toIntArray()
            let k0 = kept[range.lowerBound], k1 = kept[range.upperBound]
            let d0 = dropped[range.lowerBound], d1 = dropped[range.upperBound]
            b.masking = MaskSplit(
                kept: try Self.int64(m.kept.toIntArray()[k0..<k1].map { $0 - first }[...]),
                dropped: try Self.int64(m.dropped.toIntArray()[d0..<d1].map { $0 - first }[...]),
                keptOffsets: try Self.int64(kept[range.lowerBound...range.upperBound].map { $0 - k0 }[...]),
                droppedOffsets: try Self.int64(dropped[range.lowerBound...range.upperBound].map { $0 - d0 }[...]),
                droppedRanks: try Self.int64(m.droppedRanks.toIntArray()[d0..<d1]),
                fraction: m.fraction, noiseKey: m.noiseKey)
        }
        return b
    }

    private static func int64(_ values: ArraySlice<Int>) throws -> Tensor {
        try Tensor.make([values.count], Int64.self) { p, _ in
            for (i, v) in values.enumerated() { p[i] = Int64(v) }
        }
    }
}
