import Foundation
import Tensors

/// Applying the fitted transform and its inverse.
extension Preprocessing {
    /// Transformed copy of packed features [T, 7]; `types` [T] marks the neutral particles whose
    /// impact parameters become N(0,1) noise drawn from `seed`.
    /// ```swift
    /// let z = try pre.transform(features: b.features, types: b.types, seed: 7)
    /// ```
    public func transform(features: Tensor, types: Tensor, seed: UInt64) throws -> Tensor {
        try checkInputs(features, types, op: "transform")
        let out = try features.contiguousCopy(as: Float.self)
        let t = features.shape[0]
        types.withElements(as: Int64.self) { ty in
            var random = RandomSource(seed: seed)
            transformInPlace(out.elementPointer(as: Float.self), types: ty.baseAddress, count: t, random: &random)
        }
        return out
    }

    /// A copy of `batch` with transformed features (everything else shared).
    public func transform(_ batch: SetBatch, seed: UInt64) throws -> SetBatch {
        let z = try transform(features: batch.features, types: batch.types, seed: seed)
        return batch.replacingFeatures(z)
    }

    /// Physical-unit copy of transformed features [T, 7]. With `types`, neutral particles get
    /// their impact parameters back as exact zeros.
    /// ```swift
    /// let x = try pre.inverse(features: decoded, types: b.types)
    /// ```
    public func inverse(features: Tensor, types: Tensor? = nil) throws -> Tensor {
        guard features.dim == 2, features.shape[1] == JetSchema.featureCount else {
            throw DataError("preprocessing inverse: features must be [T, 7], got \(formatShape(features.shape))")
        }
        if let types, types.shape != [features.shape[0]] {
            throw DataError("preprocessing inverse: types must be [T] = [\(features.shape[0])], got \(formatShape(types.shape))")
        }
        let out = try features.contiguousCopy(as: Float.self)
        let p = out.elementPointer(as: Float.self)
        let f = JetSchema.featureCount, t = features.shape[0]
        let ty: [Int64]? = types.map { $0.withElements(as: Int64.self) { Array($0) } }
        parallelFor(t, grain: 4096) { lo, hi in
            for i in lo..<hi {
                for k in 0..<f {
                    if let ty, Preprocessing.isNeutralImpactParameter(feature: k, type: ty[i]) {
                        p[i * f + k] = 0
                        continue
                    }
                    let y = Double(p[i * f + k])
                    p[i * f + k] = Float(method == .quantile ? maps[k].inverse(y) : y * std[k] + mean[k])
                }
            }
        }
        return out
    }

    /// Transforms `count` rows in place. The noise for neutral impact parameters is drawn in row
    /// order first, so the result does not depend on how the rows are split across threads.
    func transformInPlace(_ p: UnsafeMutablePointer<Float>, types: UnsafePointer<Int64>?, count t: Int,
                          random: inout RandomSource) {
        let f = JetSchema.featureCount
        let ip = JetSchema.impactParameterFeatures
        var noiseRows: [Int] = []
        if let types {
            for i in 0..<t where Preprocessing.isNeutral(types[i]) { noiseRows.append(i) }
        }
        var noise = [Float](repeating: 0, count: noiseRows.count * ip.count)
        for j in 0..<noise.count { noise[j] = Float(random.normal()) }
        parallelFor(t, grain: 4096) { lo, hi in
            if method == .quantile {
                // Feature-major loops keep one quantile table hot in cache.
                for k in 0..<f {
                    let map = maps[k]
                    for i in lo..<hi { p[i * f + k] = Float(map.forward(Double(p[i * f + k]))) }
                }
            } else {
                for k in 0..<f {
                    let m = mean[k], s = std[k]
                    for i in lo..<hi { p[i * f + k] = Float((Double(p[i * f + k]) - m) / s) }
                }
            }
        }
        for (j, i) in noiseRows.enumerated() {
            for (m, k) in ip.enumerated() { p[i * f + k] = noise[j * ip.count + m] }
        }
    }

    func checkInputs(_ features: Tensor, _ types: Tensor, op: String) throws {
        guard features.dim == 2, features.shape[1] == JetSchema.featureCount else {
            throw DataError("preprocessing \(op): features must be [T, 7], got \(formatShape(features.shape))")
        }
        guard types.shape == [features.shape[0]] else {
            throw DataError("preprocessing \(op): types must be [T] = [\(features.shape[0])], got \(formatShape(types.shape))")
        }
    }
}
