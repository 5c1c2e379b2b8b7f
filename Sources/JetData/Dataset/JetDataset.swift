import Tensors
import Foundation

/// A jet file in the reference (MPMv2) HDF5 schema, opened read-only and validated.
///
/// `open` checks every dataset the kind needs: presence, shape against the jet count N and the
/// padded length P of `csts`, and dtype class (floats for `csts`/`jets`, integers or h5py bool for
/// the rest). `jets` may be float32 or float64 (read as float32). Reads return packed
/// `SetBatch`es; values stay 0-based as in the file.
///
/// ```swift
/// let ds = try JetDataset.open("data/jetclass_train.h5")    // kind detected
/// print(ds.kind, ds.numJets, ds.maxParticles)                // jetclass 4000 128
/// let batch = try ds.read(0..<100)                           // jets 0...99, packed
/// ```
public final class JetDataset {
    /// The file path, as given.
    public let path: String
    /// Which schema the file follows.
    public let kind: JetKind
    /// Number of jets N.
    public let numJets: Int
    /// Padded constituent slots per jet P (128 for JetClass, 15 for BTag).
    public let maxParticles: Int
    /// Rows per HDF5 chunk of `csts` (1 when not chunked): the natural block for streaming reads.
    public let chunkRows: Int

    let file: H5File
    let csts: H5Dataset
    let cstsId: H5Dataset
    let mask: H5Dataset
    let labels: H5Dataset
    let jets: H5Dataset
    let vtxId: H5Dataset?
    let trackType: H5Dataset?

    /// Opens and validates `path`. With `kind` nil the kind comes from the file's `kind`
    /// attribute, else from the presence of `vtx_id` and `track_type` (BTag), else JetClass.
    public static func open(_ path: String, kind: JetKind? = nil) throws -> JetDataset {
        let file = try H5File.open(path)
        let resolved = try kind ?? detectKind(file)
        return try JetDataset(file: file, kind: resolved)
    }

    static func detectKind(_ file: H5File) throws -> JetKind {
        if let text = try file.attribute("kind")?.stringValue, let k = JetKind(rawValue: text.lowercased()) {
            return k
        }
        return file.contains("vtx_id") && file.contains("track_type") ? .btag : .jetclass
    }

    private init(file: H5File, kind: JetKind) throws {
        self.file = file
        self.kind = kind
        self.path = file.filePath
        for name in kind.requiredDatasets where !file.contains(name) {
            let hint = kind == .btag && (name == "vtx_id" || name == "track_type") ? " (needed for kind 'btag')" : ""
            throw DataError("\(path) has no dataset '\(name)'\(hint)")
        }
        csts = try file.dataset("csts")
        guard csts.shape.count == 3, csts.shape[2] == JetSchema.featureCount else {
            let n = csts.shape.first.map(String.init) ?? "N"
            let p = csts.shape.count > 1 ? String(csts.shape[1]) : "P"
            throw DataError("\(path): dataset 'csts' has shape \(csts.shapeDescription), expected (\(n),\(p),7) (N jets, P slots, 7 features)")
        }
        let n = csts.shape[0], p = csts.shape[1]
        // Reads allocate whole padded blocks; a corrupt or foreign file must not make them huge.
        guard p >= 1 && p <= 1 << 16 else {
            throw DataError("\(path): dataset 'csts' has \(p) constituent slots per jet, expected between 1 and 65536")
        }
        numJets = n
        maxParticles = p
        chunkRows = max(1, csts.chunkShape?.first ?? 1)
        cstsId = try file.dataset("csts_id")
        mask = try file.dataset("mask")
        labels = try file.dataset("labels")
        jets = try file.dataset("jets")
        vtxId = kind == .btag ? try file.dataset("vtx_id") : nil
        trackType = kind == .btag ? try file.dataset("track_type") : nil

        try check(csts, shape: [n, p, 7], float: true)
        try check(cstsId, shape: [n, p], float: false)
        try check(mask, shape: [n, p], float: false)
        try check(labels, shape: [n], float: false)
        try check(jets, shape: [n, JetSchema.jetFeatureCount], float: true)
        if let vtxId { try check(vtxId, shape: [n, p], float: false) }
        if let trackType { try check(trackType, shape: [n, p], float: false) }
    }

    /// Checks one dataset's shape and dtype class, naming the dataset and both shapes.
    private func check(_ ds: H5Dataset, shape: [Int], float: Bool) throws {
        guard ds.shape == shape else {
            throw DataError("\(path): dataset '\(ds.displayPath)' has shape \(ds.shapeDescription), expected \(formatShape(shape, .tuple)) to match 'csts' \(csts.shapeDescription)")
        }
        if float {
            guard ds.dtype.isFloat else {
                throw DataError("\(path): dataset '\(ds.displayPath)' has dtype \(ds.dtype), expected float32 or float64")
            }
        } else {
            guard ds.dtype.isIntegral else {
                let expected = ds.displayPath == "mask" ? "bool" : "an integer type (int64 in the reference files)"
                throw DataError("\(path): dataset '\(ds.displayPath)' has dtype \(ds.dtype), expected \(expected)")
            }
        }
    }

    /// Class names for this file's labels (0-based).
    public var classNames: [String] { kind.classNames }
}
