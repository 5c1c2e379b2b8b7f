import Foundation
import Tensors

/// Writes results to HDF5, atomically (a temporary file in the same folder, renamed when
/// complete): jets in the reference padded schema (generated jets, reconstructions), or any
/// named tensors (embeddings, predictions, labels). The files load in h5py and, for jets, back
/// into `JetDataset`.
///
/// ```swift
/// try JetWriter.writeJets([generated], to: "gen.h5", recomputeJets: true)
/// try JetWriter.writeTensors([("embeddings", z), ("labels", b.labels)], to: "emb.h5",
///                            attributes: ["backbone": .string("cfm-200k")])
/// ```
public enum JetWriter {
    /// Writes `batches` (concatenated, one kind) as a jet file with `length` slots per jet
    /// (default 128 for JetClass, 15 for BTag). Features must be in physical units. With
    /// `recomputeJets`, the `jets` columns are summed from the constituents (see
    /// `JetKinematics`) instead of copied.
    public static func writeJets(_ batches: [SetBatch], to path: String, length: Int? = nil, recomputeJets: Bool = false,
                                 attributes: [String: H5AttributeValue] = [:]) throws {
        guard let kind = batches.first?.kind else { throw DataError("write: no jets to write to \(path)") }
        guard batches.allSatisfy({ $0.kind == kind }) else {
            throw DataError("write: cannot mix jetclass and btag batches in one file (\(path))")
        }
        let slots = length ?? (kind == .jetclass ? 128 : 15)
        guard slots >= 1 else { throw DataError("write: length must be at least 1 (got \(slots))") }
        let n = batches.reduce(0) { $0 + $1.batchSize }
        guard checkedElementCount([n, slots, 7], limit: 1 << 34) != nil else {
            throw DataError("write: \(n) jets x \(slots) slots is too large for one file (\(path))")
        }
        var csts = [Float](repeating: 0, count: n * slots * 7)
        var ids = [Int64](repeating: 0, count: n * slots)
        var mask = [Bool](repeating: false, count: n * slots)
        var vtx = kind == .btag ? [Int64](repeating: -1, count: n * slots) : []
        var trk = kind == .btag ? [Int64](repeating: -1, count: n * slots) : []
        var labels: [Int64] = [], jets: [Float] = []
        labels.reserveCapacity(n)
        jets.reserveCapacity(n * 5)
        var row = 0
        for batch in batches {
            let o = batch.offsetsArray
            if let j = (0..<batch.batchSize).first(where: { batch.count(ofJet: $0) > slots }) {
                throw DataError("write: a jet has \(batch.count(ofJet: j)) particles, more than the \(slots) slots of the file (\(path)); pass a larger length")
            }
            batch.features.withElements(as: Float.self) { f in
                for j in 0..<batch.batchSize where o[j + 1] > o[j] {
                    let dst = (row + j) * slots * 7
                    for i in 0..<((o[j + 1] - o[j]) * 7) { csts[dst + i] = f[o[j] * 7 + i] }
                }
                if recomputeJets {
                    for k in JetKinematics.sum(features: f, offsets: o) {
                        jets += [Float(k.pt), Float(k.eta), Float(k.phi), Float(k.mass), Float(k.count)]
                    }
                }
            }
            func scatter(_ t: Tensor?, into a: inout [Int64]) {
                guard let t else { return }
                t.withElements(as: Int64.self) { v in
                    for j in 0..<batch.batchSize {
                        for s in 0..<(o[j + 1] - o[j]) { a[(row + j) * slots + s] = v[o[j] + s] }
                    }
                }
            }
            scatter(batch.types, into: &ids)
            scatter(batch.vertexIds, into: &vtx)
            scatter(batch.trackTypes, into: &trk)
            for j in 0..<batch.batchSize {
                for s in 0..<(o[j + 1] - o[j]) { mask[(row + j) * slots + s] = true }
            }
            labels += batch.labels.toInt64Array()
            if !recomputeJets { jets += batch.jets.toFloatArray() }
            row += batch.batchSize
        }
        try H5File.createAtomically(path) { f in
            let o = H5WriteOptions(chunkRows: 512, gzipLevel: 4)
            try f.write("csts", csts, shape: [n, slots, 7], options: o)
            try f.dataset("csts").setAttribute("columns", .string(JetSchema.featureNames.joined(separator: ", ")))
            try f.write("csts_id", ids, shape: [n, slots], options: o)
            try f.dataset("csts_id").setAttribute("classes", .string(numbered(JetSchema.particleTypes)))
            try f.write("mask", mask, shape: [n, slots], options: o)
            try f.write("labels", labels, shape: [n], options: o)
            try f.dataset("labels").setAttribute("classes", .string(numbered(kind.classNames)))
            try f.write("jets", jets, shape: [n, 5], options: o)
            try f.dataset("jets").setAttribute("columns", .string(JetSchema.jetFeatureNames.joined(separator: ", ")))
            if kind == .btag {
                try f.write("vtx_id", vtx, shape: [n, slots], options: o)
                try f.write("track_type", trk, shape: [n, slots], options: o)
                try f.dataset("track_type").setAttribute("classes", .string(numbered(JetSchema.trackOrigins)))
            }
            try f.setAttribute("kind", .string(kind.rawValue))
            try f.setAttribute("n_jets", .int(Int64(n)))
            try f.setAttribute("generator", .string("mpmlua"))
            for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try f.setAttribute(name, value) }
        }
    }

    /// Writes each tensor as a dataset of the same shape and dtype (bool as h5py bool). Names may
    /// contain '/' to make groups.
    public static func writeTensors(_ tensors: [(String, Tensor)], to path: String,
                                    attributes: [String: H5AttributeValue] = [:]) throws {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard !name.isEmpty, !name.hasPrefix("/"), !name.hasSuffix("/"), !name.contains("//") else {
                throw DataError("write: '\(name)' is not a valid dataset name")
            }
            guard seen.insert(name).inserted else { throw DataError("write: dataset '\(name)' is given twice") }
        }
        try H5File.createAtomically(path) { f in
            for (name, t) in tensors {
                switch t.dtype {
                case .f32: try t.withElements(as: Float.self) { try f.write(name, $0, shape: t.shape) }
                case .i64: try t.withElements(as: Int64.self) { try f.write(name, $0, shape: t.shape) }
                case .bool: try t.withElements(as: Bool.self) { try f.write(name, $0, shape: t.shape) }
                }
            }
            for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try f.setAttribute(name, value) }
        }
    }

    /// "0 photon, 1 negative hadron, ..." as the reference files label their codes.
    static func numbered(_ names: [String]) -> String {
        names.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ")
    }
}
