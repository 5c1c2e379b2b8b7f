import Foundation
import JetData
@testable import MPM
import NN
import Tensors
import XCTest

/// Bundled jets, preprocessed and masked as in pre-training, shared by the tests.
enum TestData {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func bundled(_ name: String) -> String { root.appendingPathComponent("data/\(name)").path }

    nonisolated(unsafe) static var cachedPreprocessing: Preprocessing?

    /// Quantile preprocessing fitted on the first 1000 training jets.
    static func preprocessing() throws -> Preprocessing {
        if let p = cachedPreprocessing { return p }
        let p = try Preprocessing.fit(.quantile, dataset: try JetDataset.open(bundled("jetclass_train.h5")), jets: 1000, quantiles: 200)
        cachedPreprocessing = p
        return p
    }

    /// `count` batches of `batchSize` jets (fixed order), masked with `fraction`.
    static func batches(_ count: Int, batchSize: Int = 32, fraction: Masking.Fraction = .fixed(0.4), seed: UInt64 = 1) throws -> [MaskedJets] {
        var o = LoaderOptions(batchSize: batchSize, shuffle: false, seed: seed, maxJets: count * batchSize)
        o.preprocessing = try preprocessing()
        o.masking = try Masking(fraction: fraction)
        o.prefetch = 1
        let loader = try Loader(dataset: try JetDataset.open(bundled("jetclass_train.h5")), options: o)
        var out: [MaskedJets] = []
        let it = loader.makeIterator()
        while let b = try it.next() { out.append(try MaskedJets(b)) }
        return out
    }
}

/// A few Adam steps on `params` minimising `loss()`; returns the losses.
func adamSteps(_ params: [Tensor], steps: Int, lr: Double = 1e-3, _ loss: (Int) throws -> Tensor) throws -> [Double] {
    let m = try params.map { try Tensor.zeros($0.shape) }, v = try params.map { try Tensor.zeros($0.shape) }
    var history: [Double] = []
    for step in 1...steps {
        for p in params { p.grad = nil }
        let l = try loss(step)
        try l.backward()
        history.append(try l.item())
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            try OptimKernels.adam(param: p, grad: g, expAvg: m[i], expAvgSq: v[i], step: step, lr: lr,
                                  beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: true)
        }
    }
    return history
}

func mean(_ xs: ArraySlice<Double>) -> Double { xs.reduce(0, +) / Double(xs.count) }
