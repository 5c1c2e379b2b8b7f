import Foundation
@testable import MPM
import NN
import Tensors
import XCTest
import TestSupport

/// Generative heads against a mean-seeking head on a toy conditional distribution with two
/// modes (Appendix E's point): the first feature is ±1.5 + 0.5 N(0, 1) with equal odds, the
/// other six are 0.5 N(0, 1), and the context carries no information. Bounds (a perfect sampler
/// puts 43.3% within 0.75 of each mode and 2.3% in |x| < 0.5):
///   CFM and flow samples: at least 33% near each mode, at most 8% in the gap |x| < 0.5;
///   regression (L1, the median of a symmetric mixture): every prediction within 0.3 of 0.
final class ToyDistributionTests: XCTestCase {
    static let width = 16

    func toyTarget(_ n: Int, seed: UInt64) throws -> DroppedSet {
        let g = Generator(seed: seed)
        let sign = try Tensor.bernoulli([n, 1], p: 0.5, generator: g).mul(3).sub(1.5)
        let first = try sign.add(try Tensor.randn([n, 1], generator: g).mul(0.5))
        let rest = try Tensor.randn([n, 6], generator: g).mul(0.5)
        let x = try Tensor.cat([first, rest], dim: 1)
        let o = try offsetsFor([n])
        let rows = try Tensor.arange(Double(n), dtype: .i64)
        return DroppedSet(features: x, types: try Tensor.zeros([n], dtype: .i64), offsets: o, ranks: rows, rows: rows,
                          jetFeatures: x, jetTypes: try Tensor.zeros([n], dtype: .i64), jetOffsets: o)
    }

    func train(_ task: ReconstructionTask, steps: Int, lr: Double) throws {
        _ = try adamSteps(task.parameters(), steps: steps, lr: lr) { step in
            let target = try toyTarget(256, seed: UInt64(step))
            return try task.loss(try Tensor.zeros([256, ToyDistributionTests.width]), target: target)
        }
    }

    /// Fractions of the first feature near -1.5, near +1.5, and in the gap.
    func modes(_ task: ReconstructionTask) throws -> (Double, Double, Double) {
        let target = try toyTarget(4000, seed: 999)
        var o = SampleOptions()
        o.generator = Generator(seed: 5)
        let x = try task.sample(try Tensor.zeros([4000, ToyDistributionTests.width]), target: target, options: o).features!
        let first = try x.select(1, 0).toFloatArray().map(Double.init)
        let n = Double(first.count)
        return (Double(first.filter { Swift.abs($0 + 1.5) < 0.75 }.count) / n,
                Double(first.filter { Swift.abs($0 - 1.5) < 0.75 }.count) / n,
                Double(first.filter { Swift.abs($0) < 0.5 }.count) / n)
    }

    func testCFMReproducesBothModes() throws {
        manualSeed(1)
        let cfm = try CFMTask(inputDim: ToyDistributionTests.width)
        try train(cfm, steps: 300, lr: 3e-3)
        let (low, high, gap) = try modes(cfm)
        print("toy cfm: near -1.5 \(low), near +1.5 \(high), gap \(gap)")
        XCTAssertGreaterThan(low, 0.33); XCTAssertGreaterThan(high, 0.33); XCTAssertLessThan(gap, 0.08)
    }

    func testFlowReproducesBothModes() throws {
        manualSeed(2)
        let flow = try FlowTask(inputDim: ToyDistributionTests.width, options: .with { $0.noise = 0 })
        try train(flow, steps: 300, lr: 3e-3)
        let (low, high, gap) = try modes(flow)
        print("toy flow: near -1.5 \(low), near +1.5 \(high), gap \(gap)")
        XCTAssertGreaterThan(low, 0.33); XCTAssertGreaterThan(high, 0.33); XCTAssertLessThan(gap, 0.08)
    }

    func testRegressionCollapsesToTheCentre() throws {
        manualSeed(3)
        let reg = try RegressionTask(inputDim: ToyDistributionTests.width)
        try train(reg, steps: 300, lr: 3e-3)
        let x = try reg.sample(try Tensor.zeros([10, ToyDistributionTests.width]), target: try toyTarget(10, seed: 1), options: SampleOptions()).features!
        let first = try x.select(1, 0).toFloatArray()
        print("toy regression: predicts \(first[0])")
        for v in first { XCTAssertEqual(v, 0, accuracy: 0.3) }
        let (low, high, _) = try modes(reg)
        XCTAssertEqual(low + high, 0, accuracy: 1e-9, "regression put predictions near a mode")
    }
}
