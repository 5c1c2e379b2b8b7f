import Foundation
import Testing
import Tensors
@testable import JetData

@Suite("Preprocessing")
struct PreprocessingTests {
    /// Packed features and types of every jet of a bundled file.
    static func constituents(_ name: String) throws -> SetBatch {
        let ds = try JetDataset.open(TestFiles.bundled(name))
        return try ds.read(0..<ds.numJets)
    }

    static func columnStats(_ z: [Float], feature k: Int) -> (mean: Double, std: Double) {
        let column = stride(from: k, to: z.count, by: 7).map { Double(z[$0]) }
        let m = column.reduce(0, +) / Double(column.count)
        let v = column.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(column.count)
        return (m, v.squareRoot())
    }

    @Test func matchesSklearnOnTiesAndBounds() throws {
        // Expected values from numpy/scipy running sklearn's _transform_col (normal output).
        let values: [Float] = [0, 0, 0, 1, 2, 3, 3, 10]
        let fitFeatures = try Tensor(values.flatMap { [Float](repeating: $0, count: 7) }, shape: [8, 7])
        let charged = try Tensor([Int64](repeating: 1, count: 8))
        let pre = try Preprocessing.fit(.quantile, features: fitFeatures, types: charged, quantiles: 4)
        let q = pre.quantiles(feature: 0)
        #expect(q.count == 4 && abs(q[1] - 1.0 / 3) < 1e-12 && abs(q[2] - 8.0 / 3) < 1e-12 && q[3] == 10)

        let x: [Float] = [-1, 0, 0.5, 1, 3, 5, 10, 11]
        let expected = [-5.199337582605575, -5.199337582605575, -0.36610635680056963, -0.18001236979270496,
                        0.47278912099226755, 0.7478585947633022, 5.199337582605575, 5.199337582605575]
        let z = try pre.transform(features: try Tensor(x.flatMap { [Float](repeating: $0, count: 7) }, shape: [8, 7]),
                                  types: charged, seed: 0).toFloatArray()
        for i in 0..<8 {
            #expect(abs(Double(z[i * 7]) - expected[i]) < 2e-6, "x = \(x[i]): got \(z[i * 7]), sklearn \(expected[i])")
        }

        // Tied interior quantiles [0, 1, 1, 2]: a value on the tie maps mid-way (u = 0.5 -> 0).
        let tied: [Float] = [0, 1, 1, 1, 1, 1, 1, 2]
        let tiedPre = try Preprocessing.fit(.quantile, features: try Tensor(tied.flatMap { [Float](repeating: $0, count: 7) }, shape: [8, 7]),
                                            types: charged, quantiles: 4)
        #expect(tiedPre.quantiles(feature: 2) == [0, 1, 1, 2])
        let onTie = try tiedPre.transform(features: try Tensor([Float](repeating: 1, count: 7), shape: [1, 7]),
                                          types: try Tensor([Int64(1)]), seed: 0).toFloatArray()
        #expect(abs(onTie[0]) < 1e-6)
    }

    @Test func quantileTransformIsStandardNormalOnHeldOutJets() throws {
        let train = try JetDataset.open(TestFiles.bundled("jetclass_train.h5"))
        let pre = try Preprocessing.fit(.quantile, dataset: train)
        #expect(pre.quantileCount == 500 && pre.fittedJets == train.numJets)
        for name in ["jetclass_val.h5", "jetclass_test.h5"] {
            let held = try Self.constituents(name)
            #expect(held.particleCount > 20_000)
            let z = try pre.transform(features: held.features, types: held.types, seed: 3).toFloatArray()
            #expect(z.allSatisfy { $0.isFinite && abs($0) <= 5.2 })
            for k in 0..<7 {
                let s = Self.columnStats(z, feature: k)
                #expect(abs(s.mean) < 0.05, "\(name) \(JetSchema.featureNames[k]) mean \(s.mean)")
                #expect(s.std > 0.9 && s.std < 1.1, "\(name) \(JetSchema.featureNames[k]) std \(s.std)")
            }
        }
    }

    @Test(arguments: [Preprocessing.Method.quantile, .standardise])
    func inverseRecoversPhysicalValues(method: Preprocessing.Method) throws {
        let b = try Self.constituents("jetclass_val.h5")
        let pre = try Preprocessing.fit(method, features: b.features, types: b.types)
        let z = try pre.transform(features: b.features, types: b.types, seed: 11)
        let back = try pre.inverse(features: z, types: b.types).toFloatArray()
        let x = b.features.toFloatArray()
        let types = b.types.toInt64Array()
        var worst = 0.0
        for i in 0..<types.count {
            for k in 0..<7 {
                let scale = method == .quantile
                    ? (pre.quantiles(feature: k).last! - pre.quantiles(feature: k).first!) : pre.std[k]
                let err = abs(Double(back[i * 7 + k]) - Double(x[i * 7 + k])) / (scale * 1e-4 + abs(Double(x[i * 7 + k])) * 1e-4)
                worst = max(worst, err)
                if k >= 3 && JetSchema.neutralTypes.contains(types[i]) {
                    #expect(back[i * 7 + k] == 0, "neutral impact parameters come back as zeros")
                }
            }
        }
        #expect(worst <= 1, "inverse(transform(x)) differs from x by \(worst) x tolerance")
        if method == .standardise {
            let s = Self.columnStats(z.toFloatArray(), feature: 0)
            #expect(abs(s.mean) < 1e-4 && abs(s.std - 1) < 1e-4)
        }
    }

    @Test func neutralImpactParametersAreExcludedAndReplacedByNoise() throws {
        // Charged d0 in [1, 2]; neutral d0 are zeros that must not enter the fit.
        var features: [Float] = []
        var types: [Int64] = []
        for i in 0..<2000 {
            let neutral = i % 2 == 0
            types.append(neutral ? (i % 4 == 0 ? 0 : 2) : 3)
            let ip: Float = neutral ? 0 : 1 + Float(i) / 2000
            features += [Float(i + 1), 0.1, -0.1, ip, ip, ip, ip]
        }
        let x = try Tensor(features, shape: [2000, 7]), t = try Tensor(types)
        let pre = try Preprocessing.fit(.quantile, features: x, types: t)
        #expect(pre.quantiles(feature: 3).first! >= 1, "neutral zeros were used in the d0 fit")
        let z = try pre.transform(features: x, types: t, seed: 5).toFloatArray()
        let neutralD0 = (0..<2000).filter { $0 % 2 == 0 }.map { Double(z[$0 * 7 + 3]) }
        let m = neutralD0.reduce(0, +) / 1000
        let sd = (neutralD0.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 1000).squareRoot()
        #expect(abs(m) < 0.15 && abs(sd - 1) < 0.1, "neutral d0 should be N(0,1) noise: mean \(m), std \(sd)")
        // The noise is fixed by the seed.
        #expect(try pre.transform(features: x, types: t, seed: 5).toFloatArray() == z)
        #expect(try pre.transform(features: x, types: t, seed: 6).toFloatArray() != z)
    }

    @Test(arguments: [Preprocessing.Method.quantile, .standardise])
    func savesAndLoads(method: Preprocessing.Method) throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let b = try Self.constituents("btag_train.h5")
        let pre = try Preprocessing.fit(method, features: b.features, types: b.types, quantiles: 100)
        try pre.save(dir + "/pre.h5")
        let loaded = try Preprocessing.load(dir + "/pre.h5")
        #expect(loaded.method == method)
        #expect(loaded.fittedParticles == b.particleCount)
        let a = try pre.transform(features: b.features, types: b.types, seed: 1).toFloatArray()
        let c = try loaded.transform(features: b.features, types: b.types, seed: 1).toFloatArray()
        #expect(a == c)

        TestFiles.expectError(["is not a preprocessing file"]) { _ = try Preprocessing.load(TestFiles.bundled("btag_train.h5")) }
        TestFiles.expectError(["features must be [T, 7], got [3,5]"]) {
            _ = try pre.transform(features: try Tensor.zeros([3, 5]), types: try Tensor.zeros([3], dtype: .i64), seed: 0)
        }
        TestFiles.expectError(["types must be [T] = [3], got [4]"]) {
            _ = try pre.transform(features: try Tensor.zeros([3, 7]), types: try Tensor.zeros([4], dtype: .i64), seed: 0)
        }
    }
}
