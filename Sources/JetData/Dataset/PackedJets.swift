import Tensors

/// Jets held packed in Swift arrays: what one block read from a file, or one loader window,
/// holds before batches are cut from it. Jet j owns particles starts[j] ..< starts[j+1].
struct PackedJets {
    var kind: JetKind
    var features: [Float] = []
    var types: [Int64] = []
    var vertexIds: [Int64] = []
    var trackTypes: [Int64] = []
    var starts: [Int] = [0]
    var labels: [Int64] = []
    var jets: [Float] = []
    var indices: [Int64] = []

    init(kind: JetKind) { self.kind = kind }

    var count: Int { labels.count }
    var particleCount: Int { starts[starts.count - 1] }
    var hasTracks: Bool { kind == .btag }

    /// Appends all jets of `other`.
    mutating func append(_ other: PackedJets) {
        let base = particleCount
        features += other.features
        types += other.types
        vertexIds += other.vertexIds
        trackTypes += other.trackTypes
        starts += other.starts.dropFirst().map { $0 + base }
        labels += other.labels
        jets += other.jets
        indices += other.indices
    }

    /// The jets at `positions`, in that order (repeats allowed).
    func subset<C: Collection>(_ positions: C) -> PackedJets where C.Element == Int {
        var out = PackedJets(kind: kind)
        let total = positions.reduce(0) { $0 + starts[$1 + 1] - starts[$1] }
        out.features.reserveCapacity(total * JetSchema.featureCount)
        out.types.reserveCapacity(total)
        out.starts.reserveCapacity(positions.count + 1)
        for j in positions {
            let a = starts[j], b = starts[j + 1]
            out.features += features[(a * JetSchema.featureCount)..<(b * JetSchema.featureCount)]
            out.types += types[a..<b]
            if hasTracks {
                out.vertexIds += vertexIds[a..<b]
                out.trackTypes += trackTypes[a..<b]
            }
            out.starts.append(out.starts[out.starts.count - 1] + b - a)
            out.labels.append(labels[j])
            out.jets += jets[(j * JetSchema.jetFeatureCount)..<((j + 1) * JetSchema.jetFeatureCount)]
            out.indices.append(indices[j])
        }
        return out
    }

    /// A packed batch of the jets at `positions`, in that order, copied into new tensors.
    func batch<C: Collection>(_ positions: C) throws -> SetBatch where C.Element == Int {
        let b = positions.count
        var offsets = [Int64](repeating: 0, count: b + 1)
        var k = 0
        for j in positions {
            offsets[k + 1] = offsets[k] + Int64(starts[j + 1] - starts[j])
            k += 1
        }
        let t = Int(offsets[b])
        let f = JetSchema.featureCount, jf = JetSchema.jetFeatureCount

        func gather<T: TensorElement>(_ source: [T], width: Int, perJet: Bool, _ type: T.Type, shape: [Int]) throws -> Tensor {
            try Tensor.make(shape, T.self) { out, _ in
                source.withUnsafeBufferPointer { src in
                    var row = 0
                    for j in positions {
                        let a = perJet ? j : starts[j]
                        let n = perJet ? 1 : starts[j + 1] - starts[j]
                        if n > 0 { (out + row * width).update(from: src.baseAddress! + a * width, count: n * width) }
                        row += n
                    }
                }
            }
        }
        return try SetBatch(
            kind: kind,
            features: gather(features, width: f, perJet: false, Float.self, shape: [t, f]),
            types: gather(types, width: 1, perJet: false, Int64.self, shape: [t]),
            offsets: Tensor(offsets, shape: [b + 1]),
            labels: gather(labels, width: 1, perJet: true, Int64.self, shape: [b]),
            jets: gather(jets, width: jf, perJet: true, Float.self, shape: [b, jf]),
            vertexIds: hasTracks ? gather(vertexIds, width: 1, perJet: false, Int64.self, shape: [t]) : nil,
            trackTypes: hasTracks ? gather(trackTypes, width: 1, perJet: false, Int64.self, shape: [t]) : nil,
            jetIndices: gather(indices, width: 1, perJet: true, Int64.self, shape: [b]),
            offsetsArray: offsets.map { Int($0) })
    }
}
