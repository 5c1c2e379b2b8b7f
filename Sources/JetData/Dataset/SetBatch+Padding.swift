import Tensors

/// A batch in the padded reference layout: [B, N, ...] arrays plus a bool mask. Padding holds
/// the values the reference files use: 0 for features and types, -1 for vertex ids and track
/// origins.
///
/// ```swift
/// let p = try batch.padded(length: 128)
/// p.features.shape   // [B, 128, 7]
/// let again = try SetBatch(padded: p)
/// ```
public struct PaddedJets {
    public var kind: JetKind
    /// [B, N, 7] float32.
    public var features: Tensor
    /// [B, N] int64.
    public var types: Tensor
    /// [B, N] bool, true for real constituents.
    public var mask: Tensor
    /// [B] int64.
    public var labels: Tensor
    /// [B, 5] float32.
    public var jets: Tensor
    /// [B, N] int64 (BTag only).
    public var vertexIds: Tensor?
    /// [B, N] int64 (BTag only).
    public var trackTypes: Tensor?

    public init(kind: JetKind, features: Tensor, types: Tensor, mask: Tensor, labels: Tensor, jets: Tensor,
                vertexIds: Tensor? = nil, trackTypes: Tensor? = nil) {
        self.kind = kind
        self.features = features
        self.types = types
        self.mask = mask
        self.labels = labels
        self.jets = jets
        self.vertexIds = vertexIds
        self.trackTypes = trackTypes
    }
}

extension SetBatch {
    /// The padded layout with `length` slots per jet (default: the longest jet). Real particles
    /// fill the first slots of each jet in packed order.
    public func padded(length: Int? = nil) throws -> PaddedJets {
        let b = batchSize, f = JetSchema.featureCount
        let longest = (0..<b).map { count(ofJet: $0) }.max() ?? 0
        let n = length ?? longest
        guard n >= longest else {
            throw DataError("padded: length \(n) is shorter than the longest jet (\(longest) particles)")
        }
        guard checkedElementCount([b, n, f], limit: 1 << 34) != nil else {
            throw DataError("padded: \(b) jets x \(n) slots is too large")
        }
        let o = offsetsArray
        func scatter<T: TensorElement>(_ source: Tensor, _ type: T.Type, width: Int, pad: T) throws -> Tensor {
            let shape = width == 1 ? [b, n] : [b, n, width]
            return try source.withElements(as: T.self) { src in
                try Tensor.make(shape, T.self) { out, total in
                    out.update(repeating: pad, count: total)
                    for j in 0..<b where o[j + 1] > o[j] {
                        (out + j * n * width).update(from: src.baseAddress! + o[j] * width, count: (o[j + 1] - o[j]) * width)
                    }
                }
            }
        }
        let mask = try Tensor.make([b, n], Bool.self) { out, total in
            out.update(repeating: false, count: total)
            for j in 0..<b { (out + j * n).update(repeating: true, count: o[j + 1] - o[j]) }
        }
        return PaddedJets(kind: kind,
                          features: try scatter(features, Float.self, width: f, pad: 0),
                          types: try scatter(types, Int64.self, width: 1, pad: 0),
                          mask: mask, labels: labels, jets: jets,
                          vertexIds: try vertexIds.map { try scatter($0, Int64.self, width: 1, pad: -1) },
                          trackTypes: try trackTypes.map { try scatter($0, Int64.self, width: 1, pad: -1) })
    }

    /// Packs a padded batch: the slots where `mask` is true, in slot order.
    public convenience init(padded p: PaddedJets) throws {
        guard p.mask.dim == 2, p.mask.dtype == .bool else {
            throw DataError("pack: mask must be a [B, N] bool tensor, got \(p.mask.dtype.name) \(formatShape(p.mask.shape))")
        }
        let b = p.mask.shape[0], n = p.mask.shape[1], f = JetSchema.featureCount
        func need(_ x: Tensor?, _ name: String, _ shape: [Int], _ dtype: DType) throws {
            guard let x else { return }
            guard x.shape == shape, x.dtype == dtype else {
                throw DataError("pack: \(name) is \(x.dtype.name) \(formatShape(x.shape)), expected \(dtype.name) \(formatShape(shape)) to match mask \(formatShape(p.mask.shape))")
            }
        }
        try need(p.features, "features", [b, n, f], .f32)
        try need(p.types, "types", [b, n], .i64)
        try need(p.vertexIds, "vertexIds", [b, n], .i64)
        try need(p.trackTypes, "trackTypes", [b, n], .i64)
        let m = p.mask.withElements(as: Bool.self) { Array($0) }
        var offsets = [Int64](repeating: 0, count: b + 1)
        for j in 0..<b { offsets[j + 1] = offsets[j] + Int64(m[(j * n)..<((j + 1) * n)].reduce(0) { $0 + ($1 ? 1 : 0) }) }
        let t = Int(offsets[b])
        func gather<T: TensorElement>(_ source: Tensor, _ type: T.Type, width: Int) throws -> Tensor {
            try source.withElements(as: T.self) { src in
                try Tensor.make(width == 1 ? [t] : [t, width], T.self) { out, _ in
                    var row = 0
                    for slot in 0..<(b * n) where m[slot] {
                        (out + row * width).update(from: src.baseAddress! + slot * width, count: width)
                        row += 1
                    }
                }
            }
        }
        try self.init(kind: p.kind,
                      features: gather(p.features, Float.self, width: f),
                      types: gather(p.types, Int64.self, width: 1),
                      offsets: Tensor(offsets, shape: [b + 1]),
                      labels: p.labels, jets: p.jets,
                      vertexIds: p.vertexIds.map { try gather($0, Int64.self, width: 1) },
                      trackTypes: p.trackTypes.map { try gather($0, Int64.self, width: 1) })
    }
}
