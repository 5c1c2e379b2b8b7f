/// Reading jets: a contiguous range (one hyperslab per dataset) or any list of jet indices.
/// Real constituents are the slots where `mask` is true, kept in slot order (pt-descending in
/// reference files); padding is dropped.
extension JetDataset {
    /// Jets `range` (0-based, end excluded) as a packed batch.
    /// ```swift
    /// let b = try ds.read(100..<200)     // b.offsets has 101 entries
    /// ```
    public func read(_ range: Range<Int>) throws -> SetBatch {
        try checkRange(range)
        let block = try readPacked(range)
        return try block.batch(0..<block.count)
    }

    /// The jets at `indices` (0-based, any order, repeats allowed) as a packed batch in that order.
    /// Indices are read in sorted runs, so neighbouring jets share one hyperslab read.
    /// ```swift
    /// let b = try ds.read(indices: [7, 3, 3, 900])
    /// ```
    public func read(indices: [Int]) throws -> SetBatch {
        for i in indices where i < 0 || i >= numJets {
            throw DataError("\(path): jet index \(i) is out of range for \(numJets) jets (valid 0..\(numJets - 1))")
        }
        let sorted = Array(Set(indices)).sorted()
        var store = PackedJets(kind: kind)
        var position: [Int: Int] = [:]
        var i = 0
        while i < sorted.count {
            var j = i + 1
            while j < sorted.count && sorted[j] == sorted[j - 1] + 1 { j += 1 }
            for (k, index) in sorted[i..<j].enumerated() { position[index] = store.count + k }
            store.append(try readPacked(sorted[i]..<(sorted[j - 1] + 1)))
            i = j
        }
        return try store.batch(indices.map { position[$0] ?? 0 })
    }

    func checkRange(_ range: Range<Int>) throws {
        guard range.lowerBound >= 0, range.upperBound <= numJets else {
            throw DataError("\(path): jets \(range.lowerBound)..<\(range.upperBound) are out of range for \(numJets) jets")
        }
    }

    /// Reads jets `rows` padded from every dataset, then packs the real constituents.
    func readPacked(_ rows: Range<Int>) throws -> PackedJets {
        let p = maxParticles, f = JetSchema.featureCount
        let cstsPadded = try csts.read(Float.self, rows: rows)
        let idPadded = try cstsId.read(Int64.self, rows: rows)
        let maskValues = try mask.read(Int64.self, rows: rows)
        if let bad = maskValues.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw DataError("\(path): jet \(rows.lowerBound + bad / p) has mask value \(maskValues[bad]) in slot \(bad % p) of 'mask' (valid 0 or 1)")
        }
        let maskPadded = maskValues.map { $0 == 1 }
        let vtxPadded = try vtxId?.read(Int64.self, rows: rows) ?? []
        let trkPadded = try trackType?.read(Int64.self, rows: rows) ?? []

        var out = PackedJets(kind: kind)
        out.labels = try labels.read(Int64.self, rows: rows)
        let classes = Int64(kind.classNames.count)
        if let bad = out.labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw DataError("\(path): jet \(rows.lowerBound + bad) has label \(out.labels[bad]) in 'labels' (valid 0..\(classes - 1) for \(kind.rawValue) jets)")
        }
        out.jets = try jets.read(Float.self, rows: rows)
        out.indices = rows.map { Int64($0) }
        let real = maskPadded.reduce(0) { $0 + ($1 ? 1 : 0) }
        out.features.reserveCapacity(real * f)
        out.types.reserveCapacity(real)
        out.starts.reserveCapacity(rows.count + 1)
        if kind == .btag {
            out.vertexIds.reserveCapacity(real)
            out.trackTypes.reserveCapacity(real)
        }
        for j in 0..<rows.count {
            for s in 0..<p where maskPadded[j * p + s] {
                let slot = j * p + s
                let type = idPadded[slot]
                guard type >= 0 && type < Int64(JetSchema.particleTypes.count) else {
                    throw DataError("\(path): jet \(rows.lowerBound + j) has particle type \(type) in slot \(s) of 'csts_id' (valid 0..7)")
                }
                if let k = (0..<f).first(where: { !cstsPadded[slot * f + $0].isFinite }) {
                    throw DataError("\(path): jet \(rows.lowerBound + j) has \(cstsPadded[slot * f + k]) in feature '\(JetSchema.featureNames[k])' of slot \(s) of 'csts' (features must be finite)")
                }
                out.types.append(type)
                out.features += cstsPadded[(slot * f)..<(slot * f + f)]
                if kind == .btag {
                    let origin = trkPadded[slot]
                    guard origin >= 0 && origin < Int64(JetSchema.trackOrigins.count) else {
                        throw DataError("\(path): jet \(rows.lowerBound + j) has track_type \(origin) in slot \(s) (valid 0..3 for real tracks)")
                    }
                    out.vertexIds.append(vtxPadded[slot])
                    out.trackTypes.append(origin)
                }
            }
            out.starts.append(out.types.count)
        }
        return out
    }
}
