import Foundation
import JetData
@testable import MPM
import NN
import Tensors
import XCTest
import TestSupport

/// Every built-in task on a tiny model: finite-difference gradients, and the loss falls when
/// training on the bundled jets.
final class TaskTests: XCTestCase {
    static let decoderDim = 16, encoderDim = 32

    func tinyTokenizer() throws -> VQTokenizer {
        var c = VQTokenizer.Config()
        c.dim = 16; c.depth = 1; c.heads = 2; c.codebookSize = 32; c.codeDim = 8
        return try VQTokenizer(config: c)
    }

    /// One of each task, sized for the tiny preset.
    func makeTasks(centroidsFrom jets: [MaskedJets]) throws -> [ReconstructionTask] {
        let d = TaskTests.decoderDim
        let all = try Tensor.cat(jets.map { $0.features })
        let centroids = try KMeans.fit(all, k: 64, iterations: 10, seed: 3).centroids
        let tokenizer = try tinyTokenizer()
        try tokenizer.initialiseCodebook(jets[0].features, offsets: jets[0].offsets, seed: 1)
        return [
            try IDTask(inputDim: d),
            try RegressionTask(inputDim: d),
            try KMeansTask(inputDim: d, centroids: centroids),
            try VQVAETask(inputDim: d, tokenizer: tokenizer),
            try FlowTask(inputDim: d, options: .with { $0.contextDim = 16; $0.couplings = 2; $0.width = 16 }),
            try CFMTask(inputDim: d, options: .with { $0.contextDim = 16; $0.hidden = 32; $0.depth = 2 }),
            try SSFMTask(encoderDim: TaskTests.encoderDim, options: .with { $0.dim = 16; $0.depth = 1; $0.heads = 2; $0.contextDim = 8 }),
        ]
    }

    func testGradientsMatchFiniteDifferences() throws {
        manualSeed(2)
        let jets = try TestData.batches(2, batchSize: 6)
        let target = try jets[0].target()
        target.encodedOffsets = try offsetsFor(jets[0].keptOffsets.toIntArray().enumerated().map { _ in 0 }.dropLast().enumerated()
            .map { b, _ in jets[0].keptOffsets.toIntArray()[b + 1] - jets[0].keptOffsets.toIntArray()[b] + 2 })
        for task in try makeTasks(centroidsFrom: jets) {
            let rows = task.input == .decoded ? target.count : target.encodedOffsets!.toIntArray().last!
            let width = task.input == .decoded ? TaskTests.decoderDim : TaskTests.encoderDim
            let x = try Tensor.randn([rows, width], generator: Generator(seed: 4))
            // A probe on the first weight of the task's first layer, plus the input.
            let firstWeight = task.namedParameters().first { $0.name.hasSuffix("weight") }!.tensor
            // Fixed randomness (noise, times) in every evaluation.
            try gradCheck([("input", x), ("\(task.taskName).weight", firstWeight)], eps: 1e-2, tol: 3e-2, maxPerTensor: 12) {
                manualSeed(11)
                return try task.loss(x, target: target)
            }
        }
    }

    func testLossFallsOnBundledJets() throws {
        let jets = try TestData.batches(4, batchSize: 32)
        for task in try makeTasks(centroidsFrom: jets) {
            manualSeed(5)
            let model = try MPMModel(config: MPMConfig.preset("tiny")!)
            let params = model.parameters() + task.parameters()
            let losses = try adamSteps(params, steps: 60, lr: 3e-3) { step in
                let out = try model(jets[step % jets.count], decode: task.input == .decoded)
                return try task.loss(task.input == .decoded ? out.decoded! : out.encoded, target: out.target)
            }
            let first = mean(losses.prefix(8)), last = mean(losses.suffix(8))
            print("loss falls: \(task.taskName) \(first) -> \(last)")
            XCTAssert(losses.allSatisfy { $0.isFinite }, "\(task.taskName): non-finite loss")
            XCTAssertLessThan(last, first - 0.05 * Swift.abs(first), "\(task.taskName): loss \(first) -> \(last)")
        }
    }

    func testSamplesHaveTheTargetShape() throws {
        manualSeed(3)
        let jets = try TestData.batches(2, batchSize: 8)
        let model = try MPMModel(config: MPMConfig.preset("tiny")!)
        var o = SampleOptions()
        o.steps = 4
        for task in try makeTasks(centroidsFrom: jets) {
            let out = try model(jets[0])
            let input = task.input == .decoded ? out.decoded! : out.encoded
            if task is VQVAETask {
                XCTAssertThrowsError(try task.sample(input, target: out.target, options: o))
                continue
            }
            let r = try task.sample(input, target: out.target, options: o)
            if let f = r.features { XCTAssertEqual(f.shape, [out.target.count, 7], task.taskName) }
            if let t = r.types {
                XCTAssertEqual(t.shape, [out.target.count], task.taskName)
                XCTAssert(t.toInt64Array().allSatisfy { $0 >= 0 && $0 < 8 })
            }
            XCTAssert(r.features != nil || r.types != nil, task.taskName)
        }
    }

    func testVQTokenizerTrainsAndResetsDeadCodes() throws {
        manualSeed(6)
        let jets = try TestData.batches(3, batchSize: 32)
        let vq = try tinyTokenizer()
        try vq.initialiseCodebook(jets[0].features, offsets: jets[0].offsets, seed: 2)
        let losses = try adamSteps(vq.parameters(), steps: 40, lr: 3e-3) { step in
            try vq.losses(jets[step % 3].features, offsets: jets[step % 3].offsets).total
        }
        XCTAssertLessThan(mean(losses.suffix(6)), mean(losses.prefix(6)))
        // Force every code dead but one: the reset moves them onto latents of the batch.
        try withNoGrad { _ = try vq.usage.fill_(0) }
        let reset = try vq.resetDeadCodes(jets[0].features, offsets: jets[0].offsets)
        XCTAssertEqual(reset, 32)
        let norms = try vq.codebook.square().sum(dims: [1]).sqrt().toFloatArray()
        for n in norms { XCTAssertEqual(n, 1, accuracy: 1e-3) }
    }

    func testEmptyDroppedSetGivesZeroLoss() throws {
        manualSeed(7)
        let jets = try TestData.batches(1, batchSize: 4, fraction: .fixed(0))[0]
        let model = try MPMModel(config: MPMConfig.preset("tiny")!)
        let out = try model(jets)
        XCTAssertEqual(out.target.count, 0)
        for task in try makeTasks(centroidsFrom: try TestData.batches(2, batchSize: 16)) {
            let l = try task.loss(task.input == .decoded ? out.decoded! : out.encoded, target: out.target)
            XCTAssertEqual(try l.item(), 0, task.taskName)
        }
    }
}
