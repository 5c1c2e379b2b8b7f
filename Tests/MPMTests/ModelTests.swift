import Foundation
import JetData
@testable import MPM
import NN
import Tensors
import XCTest

final class ModelTests: XCTestCase {
    func tinyModel(seed: UInt64 = 1) throws -> MPMModel {
        manualSeed(seed)
        return try MPMModel(config: MPMConfig.preset("tiny")!)
    }

    func testShapesAndDroppedOrder() throws {
        let model = try tinyModel()
        let jets = try TestData.batches(1, batchSize: 16)[0]
        let out = try model(jets)
        let td = jets.dropped.numel, tk = jets.kept.numel
        XCTAssertEqual(out.decoded!.shape, [td, 16])
        XCTAssertEqual(out.encoded.shape, [tk + 16 * 2, 32])
        XCTAssertEqual(out.target.features.shape, [td, 7])
        XCTAssertEqual(out.target.features.toFloatArray(), try jets.features.indexSelect(0, index: jets.dropped).toFloatArray())
        // 40% of each jet is dropped (floor).
        let o = jets.offsets.toIntArray(), d = jets.droppedOffsets.toIntArray()
        for b in 0..<16 { XCTAssertEqual(d[b + 1] - d[b], Int(0.4 * Double(o[b + 1] - o[b]))) }
    }

    func testPresetsAndParameterCounts() throws {
        let paper = try MPMModel(config: MPMConfig.preset("paper")!)
        let enc = paper.backbone.parameterCount
        // 8 layers of D=512: qkv+out 4*D^2, SwiGLU D->4D and 2D->D = 6*D^2, plus biases and norms.
        XCTAssertGreaterThan(enc, 8 * 10 * 512 * 512)
        XCTAssertLessThan(enc, 8 * 10 * 512 * 512 + 200_000)
        XCTAssertEqual(paper.maskTokens.shape, [128, 128])
        XCTAssertEqual(paper.backbone.encoder.registers!.shape, [8, 512])
        XCTAssertNil(MPMConfig.preset("huge"))
        var bad = MPMConfig.preset("small")!
        bad.encoderHeads = 5
        XCTAssertThrowsError(try MPMModel(config: bad)) { XCTAssert("\($0)".contains("divisible"), "\($0)") }
    }

    /// Jets are independent in a packed batch: decoding two jets together equals decoding each alone.
    func testJetsDoNotInteract() throws {
        let model = try tinyModel()
        let jets = try TestData.batches(1, batchSize: 3)[0]
        let together = try model(jets).decoded!.toFloatArray()
        var alone: [Float] = []
        let o = jets.offsets.toIntArray(), k = jets.keptOffsets.toIntArray(), d = jets.droppedOffsets.toIntArray()
        let kept = jets.kept.toIntArray(), dropped = jets.dropped.toIntArray(), ranks = jets.droppedRanks.toIntArray()
        for b in 0..<3 {
            func t(_ v: [Int]) throws -> Tensor { try Tensor(v.map(Int64.init), shape: [v.count]) }
            let single = try MaskedJets(
                features: try jets.features.narrow(0, start: o[b], length: o[b + 1] - o[b]),
                types: try jets.types.narrow(0, start: o[b], length: o[b + 1] - o[b]),
                offsets: try t([0, o[b + 1] - o[b]]),
                kept: try t(kept[k[b]..<k[b + 1]].map { $0 - o[b] }), keptOffsets: try t([0, k[b + 1] - k[b]]),
                dropped: try t(dropped[d[b]..<d[b + 1]].map { $0 - o[b] }), droppedOffsets: try t([0, d[b + 1] - d[b]]),
                droppedRanks: try t(Array(ranks[d[b]..<d[b + 1]])))
            alone += try model(single).decoded!.toFloatArray()
        }
        XCTAssertEqual(together.count, alone.count)
        for (a, b) in zip(together, alone) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    /// The encoder is a set function: reordering the kept particles changes nothing.
    func testKeptOrderDoesNotMatter() throws {
        let model = try tinyModel()
        let jets = try TestData.batches(1, batchSize: 4)[0]
        let kept = jets.kept.toIntArray(), ko = jets.keptOffsets.toIntArray()
        var shuffled: [Int64] = []
        for b in 0..<4 { shuffled += kept[ko[b]..<ko[b + 1]].reversed().map(Int64.init) }
        let other = try MaskedJets(features: jets.features, types: jets.types, offsets: jets.offsets,
                                   kept: try Tensor(shuffled, shape: [shuffled.count]), keptOffsets: jets.keptOffsets,
                                   dropped: jets.dropped, droppedOffsets: jets.droppedOffsets, droppedRanks: jets.droppedRanks)
        for (a, b) in zip(try model(jets).decoded!.toFloatArray(), try model(other).decoded!.toFloatArray()) {
            XCTAssertEqual(a, b, accuracy: 1e-4)
        }
    }

    /// Different ranks get different mask tokens: the decoder can tell dropped slots apart.
    func testMaskTokensBreakTheDegeneracy() throws {
        let model = try tinyModel()
        let jets = try TestData.batches(1, batchSize: 2)[0]
        let out = try model(jets).decoded!
        let d = jets.droppedOffsets.toIntArray()
        XCTAssertGreaterThan(d[1], 1)
        let first = try out.select(0, 0).toFloatArray(), second = try out.select(0, 1).toFloatArray()
        XCTAssertGreaterThan(zip(first, second).map { Swift.abs($0 - $1) }.max()!, 1e-6)
    }

    func testGradientReachesEveryParameter() throws {
        let model = try tinyModel()
        let task = try IDTask(inputDim: 16)
        let jets = try TestData.batches(1, batchSize: 8)[0]
        let out = try model(jets)
        try task.loss(out.decoded!, target: out.target).backward()
        for (name, p) in model.namedParameters() {
            let g = p.grad?.toFloatArray() ?? []
            XCTAssertTrue(g.contains { $0 != 0 }, "no gradient reaches \(name)")
        }
    }

    func testInputErrors() throws {
        let jets = try TestData.batches(1, batchSize: 2)[0]
        XCTAssertThrowsError(try MaskedJets(features: jets.features, types: jets.types, offsets: jets.offsets, kept: jets.kept,
                                            keptOffsets: jets.keptOffsets, dropped: jets.kept, droppedOffsets: jets.droppedOffsets,
                                            droppedRanks: jets.droppedRanks)) { XCTAssert("\($0)".contains("MPM"), "\($0)") }
    }
}
