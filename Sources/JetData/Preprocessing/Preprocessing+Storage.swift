/// Saving and loading a fitted transform as HDF5, readable from h5py:
///
/// | name | kind | content |
/// |---|---|---|
/// | `method` | attribute | "quantile" or "standardise" |
/// | `feature_names` | attribute | the 7 feature names |
/// | `neutral_types` | attribute | particle types excluded from the impact-parameter fits |
/// | `fitted_jets`, `fitted_particles` | attributes | how much data the fit saw |
/// | `quantiles` | dataset (7, Q) float64 | quantile method |
/// | `references` | dataset (Q,) float64 | quantile method: probabilities 0 ... 1 |
/// | `mean`, `std` | datasets (7,) float64 | standardise method |
///
/// ```swift
/// try pre.save("runs/preprocessing.h5")
/// let same = try Preprocessing.load("runs/preprocessing.h5")
/// ```
extension Preprocessing {
    /// Writes the transform to `path` (atomically).
    public func save(_ path: String) throws {
        try H5File.createAtomically(path) { f in try save(to: f) }
    }

    /// Writes the transform into a group (e.g. inside a checkpoint).
    public func save(to group: H5Group) throws {
        try group.setAttribute("format", .string("mpmlua preprocessing 1"))
        try group.setAttribute("method", .string(method.rawValue))
        try group.setAttribute("feature_names", .strings(JetSchema.featureNames))
        try group.setAttribute("neutral_types", .ints(JetSchema.neutralTypes.sorted()))
        try group.setAttribute("fitted_jets", .int(Int64(fittedJets)))
        try group.setAttribute("fitted_particles", .int(Int64(fittedParticles)))
        let f = JetSchema.featureCount
        switch method {
        case .quantile:
            let q = quantileCount
            try group.write("quantiles", maps.flatMap(\.quantiles), shape: [f, q], options: H5WriteOptions(gzipLevel: nil))
            try group.write("references", maps[0].references, shape: [q], options: H5WriteOptions(gzipLevel: nil))
        case .standardise:
            try group.write("mean", mean, shape: [f], options: H5WriteOptions(gzipLevel: nil))
            try group.write("std", std, shape: [f], options: H5WriteOptions(gzipLevel: nil))
        }
    }

    /// Reads a transform saved by `save`.
    public static func load(_ path: String) throws -> Preprocessing {
        try load(from: H5File.open(path))
    }

    /// Reads a transform from a group.
    public static func load(from group: H5Group) throws -> Preprocessing {
        let whereText = group.where_
        guard let name = try group.attribute("method")?.stringValue else {
            throw DataError("\(whereText) is not a preprocessing file (no 'method' attribute)")
        }
        guard let method = Method(rawValue: name) else {
            throw DataError("\(whereText): unknown preprocessing method '\(name)' (expected quantile or standardise)")
        }
        let jets = Int(try group.attribute("fitted_jets")?.intValue ?? 0)
        let particles = Int(try group.attribute("fitted_particles")?.intValue ?? 0)
        let f = JetSchema.featureCount
        switch method {
        case .quantile:
            let qd = try group.dataset("quantiles")
            guard qd.shape.count == 2, qd.shape[0] == f, qd.shape[1] >= 2 else {
                throw DataError("\(group.filePath): dataset 'quantiles' has shape \(qd.shapeDescription), expected (7,Q) with Q >= 2")
            }
            let q = qd.shape[1]
            let rd = try group.dataset("references")
            guard rd.shape == [q] else {
                throw DataError("\(group.filePath): dataset 'references' has shape \(rd.shapeDescription), expected (\(q),)")
            }
            let values = try qd.read(Double.self)
            let refs = try rd.read(Double.self)
            guard zip(refs, refs.dropFirst()).allSatisfy({ $0 < $1 }), refs.first == 0, refs.last == 1 else {
                throw DataError("\(group.filePath): 'references' must increase from 0 to 1")
            }
            var maps: [QuantileMap] = []
            for k in 0..<f {
                let column = Array(values[(k * q)..<((k + 1) * q)])
                guard column.allSatisfy(\.isFinite), zip(column, column.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                    throw DataError("\(group.filePath): quantiles of feature \(JetSchema.featureNames[k]) are not finite and non-decreasing")
                }
                maps.append(QuantileMap(quantiles: column, references: refs))
            }
            return Preprocessing(method: method, maps: maps, mean: [], std: [], fittedJets: jets, fittedParticles: particles)
        case .standardise:
            let mean = try group.dataset("mean").read(Double.self)
            let std = try group.dataset("std").read(Double.self)
            guard mean.count == f, std.count == f, std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
                throw DataError("\(group.filePath): 'mean' and 'std' must hold 7 finite values each, std positive")
            }
            return Preprocessing(method: method, maps: [], mean: mean, std: std, fittedJets: jets, fittedParticles: particles)
        }
    }
}
