import Tensors

/// A batch of jets in packed form: the real constituents of all jets concatenated row-wise,
/// with `offsets` marking where each jet starts. Jet b owns rows offsets[b] ..< offsets[b+1].
/// No padding is stored; `padded()` gives the [B, N, F] + mask layout when a script wants it.
/// All codes are 0-based, as in the files (the Lua bindings present them 1-based).
///
/// ```swift
/// let b = try ds.read(0..<2)
/// b.features.shape        // [T, 7], T = real particles of both jets
/// b.offsets               // [0, n0, n0 + n1]
/// let p = try b.padded(length: 128)   // back to the file layout
/// ```
public final class SetBatch {
    /// Which schema the jets come from.
    public let kind: JetKind
    /// [T, 7] float32: pt, deta, dphi, d0, d0err, dz, dzerr (preprocessed when the loader says so).
    public let features: Tensor
    /// [T] int64 particle types 0..7.
    public let types: Tensor
    /// [B + 1] int64 row offsets.
    public let offsets: Tensor
    /// [B] int64 class labels.
    public let labels: Tensor
    /// [B, 5] float32 jet pt, eta, phi, mass, number of constituents.
    public let jets: Tensor
    /// [T] int64 truth vertex id of each track (BTag only).
    public let vertexIds: Tensor?
    /// [T] int64 track origin 0..3 (BTag only).
    public let trackTypes: Tensor?
    /// [B] int64 row of each jet in its file (0-based).
    public let jetIndices: Tensor
    /// The masking split, when the loader applied masking.
    public internal(set) var masking: MaskSplit?
    /// The offsets as Swift integers (B + 1 entries).
    public let offsetsArray: [Int]

    /// Number of jets B.
    public var batchSize: Int { offsetsArray.count - 1 }
    /// Number of real particles T.
    public var particleCount: Int { offsetsArray[offsetsArray.count - 1] }
    /// Real particles of jet `b`.
    public func count(ofJet b: Int) -> Int { offsetsArray[b + 1] - offsetsArray[b] }

    init(kind: JetKind, features: Tensor, types: Tensor, offsets: Tensor, labels: Tensor, jets: Tensor,
         vertexIds: Tensor?, trackTypes: Tensor?, jetIndices: Tensor, offsetsArray: [Int]) {
        self.kind = kind
        self.features = features
        self.types = types
        self.offsets = offsets
        self.labels = labels
        self.jets = jets
        self.vertexIds = vertexIds
        self.trackTypes = trackTypes
        self.jetIndices = jetIndices
        self.offsetsArray = offsetsArray
    }

    /// The same batch with other features (same shape); everything else, masking included, is shared.
    func replacingFeatures(_ features: Tensor) -> SetBatch {
        let b = SetBatch(kind: kind, features: features, types: types, offsets: offsets, labels: labels, jets: jets,
                         vertexIds: vertexIds, trackTypes: trackTypes, jetIndices: jetIndices, offsetsArray: offsetsArray)
        b.masking = masking
        return b
    }

    /// Builds a batch from tensors (e.g. generated jets), checking that they fit together.
    /// `jets` defaults to zeros with the constituent count in column 4; `jetIndices` to 0..<B.
    /// ```swift
    /// let b = try SetBatch(features: x, types: t, offsets: o, labels: l)
    /// ```
    public convenience init(kind: JetKind = .jetclass, features: Tensor, types: Tensor, offsets: Tensor,
                            labels: Tensor? = nil, jets: Tensor? = nil, vertexIds: Tensor? = nil,
                            trackTypes: Tensor? = nil, jetIndices: Tensor? = nil) throws {
        guard offsets.dim == 1, offsets.numel >= 1, offsets.dtype == .i64 else {
            throw DataError("set batch: offsets must be a 1-D int64 tensor of B+1 entries, got \(offsets.dtype.name) \(formatShape(offsets.shape))")
        }
        let o = offsets.withElements(as: Int64.self) { $0.map { Int($0) } }
        guard o[0] == 0, zip(o, o.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw DataError("set batch: offsets must start at 0 and never decrease, got \(o.prefix(8).map(String.init).joined(separator: ","))\(o.count > 8 ? ",..." : "")")
        }
        let b = o.count - 1, t = o[b]
        func need(_ x: Tensor?, _ name: String, _ shape: [Int], _ dtype: DType) throws {
            guard let x else { return }
            guard x.shape == shape, x.dtype == dtype else {
                throw DataError("set batch: \(name) is \(x.dtype.name) \(formatShape(x.shape)), expected \(dtype.name) \(formatShape(shape)) (B = \(b) jets, T = \(t) particles)")
            }
        }
        try need(features, "features", [t, JetSchema.featureCount], .f32)
        try need(types, "types", [t], .i64)
        try need(labels, "labels", [b], .i64)
        try need(jets, "jets", [b, JetSchema.jetFeatureCount], .f32)
        try need(vertexIds, "vertexIds", [t], .i64)
        try need(trackTypes, "trackTypes", [t], .i64)
        try need(jetIndices, "jetIndices", [b], .i64)
        if kind == .btag && (vertexIds == nil || trackTypes == nil) {
            throw DataError("set batch: a btag batch needs vertex ids and track types")
        }
        let defaultJets = try Tensor.make([b, JetSchema.jetFeatureCount], Float.self) { p, n in
            p.update(repeating: 0, count: n)
            for j in 0..<b { p[j * JetSchema.jetFeatureCount + 4] = Float(o[j + 1] - o[j]) }
        }
        self.init(kind: kind, features: features.contiguous(), types: types.contiguous(), offsets: offsets.contiguous(),
                  labels: try labels?.contiguous() ?? Tensor.zeros([b], dtype: .i64),
                  jets: jets?.contiguous() ?? defaultJets,
                  vertexIds: kind == .btag ? vertexIds?.contiguous() : nil,
                  trackTypes: kind == .btag ? trackTypes?.contiguous() : nil,
                  jetIndices: try jetIndices?.contiguous() ?? Tensor.arange(0, Double(b), dtype: .i64),
                  offsetsArray: o)
    }
}
