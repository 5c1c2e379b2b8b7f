import Foundation
import Tensors

/// A fitted per-feature transform of the 7 constituent features, as the reference applies before
/// training: a quantile transform to a standard normal (500 quantiles, clipped to about ±5.2,
/// sklearn's `QuantileTransformer(output_distribution="normal")`), or plain standardisation.
///
/// Neutral particles (photons and neutral hadrons) have no track, so their impact parameters
/// (features 3...6) are zeros that carry no information: they are left out when fitting those
/// four features, and after the transform their four values are replaced by N(0,1) noise, as
/// the reference does. `inverse` maps back to physical units and puts the zeros back.
///
/// ```swift
/// let pre = try Preprocessing.fit(.quantile, dataset: train, jets: 100_000)
/// try pre.save("preprocessing.h5")
/// let z = try pre.transform(features: batch.features, types: batch.types, seed: 1)
/// let x = try pre.inverse(features: z, types: batch.types)      // ≈ batch.features
/// ```
public final class Preprocessing {
    /// Which transform.
    public enum Method: String, Sendable, CaseIterable {
        case quantile
        case standardise
    }

    public let method: Method
    /// Quantile maps, one per feature (quantile method).
    let maps: [QuantileMap]
    /// Per-feature mean and standard deviation (standardise method).
    public let mean: [Double]
    public let std: [Double]
    /// Jets and constituents the transform was fitted on (for the record).
    public let fittedJets: Int
    public let fittedParticles: Int

    init(method: Method, maps: [QuantileMap], mean: [Double], std: [Double], fittedJets: Int, fittedParticles: Int) {
        self.method = method
        self.maps = maps
        self.mean = mean
        self.std = std
        self.fittedJets = fittedJets
        self.fittedParticles = fittedParticles
    }

    /// Number of quantiles per feature (0 for standardisation).
    public var quantileCount: Int { maps.first?.quantiles.count ?? 0 }
    /// Fitted quantiles of feature `k` (empty for standardisation).
    public func quantiles(feature k: Int) -> [Double] { k < maps.count ? maps[k].quantiles : [] }

    /// Whether feature `k` of a particle of type `type` is a meaningless impact parameter.
    @inline(__always) static func isNeutralImpactParameter(feature k: Int, type: Int64) -> Bool {
        k >= JetSchema.impactParameterFeatures.lowerBound && isNeutral(type)
    }

    /// Photon (0) or neutral hadron (2); a comparison, not a Set lookup, as it runs per value.
    @inline(__always) static func isNeutral(_ type: Int64) -> Bool {
        type == 0 || type == 2
    }
}

// MARK: Fitting

extension Preprocessing {
    /// Fits on the constituents of the first `jets` jets of `dataset` (all of them when nil).
    public static func fit(_ method: Method, dataset: JetDataset, jets: Int? = nil, quantiles: Int = 500) throws -> Preprocessing {
        let n = jets ?? dataset.numJets
        guard n >= 1 && n <= dataset.numJets else {
            throw DataError("preprocessing: cannot fit on \(n) jets, \(dataset.path) has \(dataset.numJets)")
        }
        var features: [Float] = []
        var types: [Int64] = []
        var a = 0
        // Read in blocks so the padded buffers stay small for large fits.
        while a < n {
            let b = min(n, a + 8192)
            let block = try dataset.readPacked(a..<b)
            features += block.features
            types += block.types
            a = b
        }
        return try fit(method, features: features, types: types, jets: n, quantiles: quantiles)
    }

    /// Fits on packed features [T, 7] with their types [T].
    public static func fit(_ method: Method, features: Tensor, types: Tensor, quantiles: Int = 500) throws -> Preprocessing {
        guard features.dim == 2, features.shape[1] == JetSchema.featureCount else {
            throw DataError("preprocessing: features must be [T, 7], got \(formatShape(features.shape))")
        }
        guard types.shape == [features.shape[0]] else {
            throw DataError("preprocessing: types must be [T] = [\(features.shape[0])], got \(formatShape(types.shape))")
        }
        return try fit(method,
                       features: features.withElements(as: Float.self) { Array($0) },
                       types: types.withElements(as: Int64.self) { Array($0) },
                       jets: 0, quantiles: quantiles)
    }

    static func fit(_ method: Method, features: [Float], types: [Int64], jets: Int, quantiles: Int) throws -> Preprocessing {
        let f = JetSchema.featureCount, t = types.count
        guard quantiles >= 2 else { throw DataError("preprocessing: quantiles must be at least 2 (got \(quantiles))") }
        guard t > 0 else { throw DataError("preprocessing: no constituents to fit on") }
        var maps: [QuantileMap] = []
        var mean: [Double] = [], std: [Double] = []
        for k in 0..<f {
            var column: [Float] = []
            column.reserveCapacity(t)
            for i in 0..<t where !isNeutralImpactParameter(feature: k, type: types[i]) {
                let v = features[i * f + k]
                guard v.isFinite else {
                    throw DataError("preprocessing: feature \(JetSchema.featureNames[k]) of constituent \(i) is \(v)")
                }
                column.append(v)
            }
            guard !column.isEmpty else {
                throw DataError("preprocessing: no charged constituents to fit feature \(JetSchema.featureNames[k]) on")
            }
            switch method {
            case .quantile:
                maps.append(QuantileMap.fit(column, count: quantiles))
            case .standardise:
                let m = column.reduce(0.0) { $0 + Double($1) } / Double(column.count)
                let v = column.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(column.count)
                mean.append(m)
                std.append(v > 0 ? v.squareRoot() : 1)
            }
        }
        return Preprocessing(method: method, maps: maps, mean: mean, std: std, fittedJets: jets, fittedParticles: t)
    }
}
