@testable import NN
import Tensors
import XCTest
import TestSupport

/// Inference runs a TransformerEncoder's stack on blocks of whole sets, one block per worker
/// (TransformerEncoder.stackBySetBlocks). Its output must be the op-by-op one.
final class InferenceBlocksTests: XCTestCase {
    override func setUp() { manualSeed(11) }

    func testBlocksOfSetsMatchTheWholeBatch() throws {
        try XCTSkipIf(BLASThreads.kernelThreadCount < 2, "one core: inference never splits into blocks")
        var o = TransformerOptions()
        o.layerscaleInit = 0.5
        let enc = try TransformerEncoder(dim: 32, depth: 2, heads: 4, registers: 2, registerStd: 1, options: o)
        // Uneven sets, an empty one among them (it still holds the two registers).
        let lengths = (0..<60).map { $0 == 7 ? 0 : 3 + ($0 * 37) % 41 }
        let offsets = try offsetsFor(lengths)
        let x = try Tensor.randn([lengths.reduce(0, +), 32])
        let (h, o2) = try NNOps.prependRows(x, offsets: offsets, rows: enc.registers!)
        let blocks = try withNoGrad { try enc.stackBySetBlocks(h, offsets: o2) }
        let whole = try enc.encode(x, offsets: offsets).0   // parameters require grad: op by op
        XCTAssertNotNil(blocks, "a batch of 60 sets on \(BLASThreads.kernelThreadCount) threads is split")
        XCTAssertEqual(blocks?.shape, whole.shape)
        let a = blocks!.toFloatArray(), b = whole.toFloatArray()
        var worst: Float = 0
        for i in 0..<a.count { worst = Swift.max(worst, Swift.abs(a[i] - b[i])) }
        XCTAssertLessThan(worst, 1e-5)
        // The public call takes the same path under no_grad.
        let viaCall = try withNoGrad { try enc.encode(x, offsets: offsets).0 }.toFloatArray()
        XCTAssertEqual(viaCall, a)
    }

    func testABlockOfOnlyEmptySets() throws {
        try XCTSkipIf(BLASThreads.kernelThreadCount < 2, "one core: inference never splits into blocks")
        let enc = try TransformerEncoder(dim: 32, depth: 1, heads: 2)   // no registers: empty sets stay empty
        let offsets = try offsetsFor([100, 0, 0, 0, 0])
        let x = try Tensor.randn([100, 32])
        let blocks = try withNoGrad { try enc.stackBySetBlocks(x, offsets: offsets) }
        XCTAssertEqual(blocks?.shape, [100, 32])
        let whole = try enc(x, offsets: offsets).toFloatArray(), a = blocks!.toFloatArray()
        XCTAssertLessThan(zip(a, whole).map { Swift.abs($0 - $1) }.max()!, 1e-5)
    }

    func testAnErrorInsideABlockReachesTheCaller() throws {
        try XCTSkipIf(BLASThreads.kernelThreadCount < 2, "one core: inference never splits into blocks")
        let enc = try TransformerEncoder(dim: 8, depth: 1, heads: 2)
        // A set whose score matrix exceeds attention's scratch limit throws inside its block.
        let lengths = [12_000, 10]
        let x = try Tensor.randn([lengths.reduce(0, +), 8])
        XCTAssertThrowsError(try withNoGrad { try enc.stackBySetBlocks(x, offsets: try offsetsFor(lengths)) }) { error in
            XCTAssertTrue("\(error)".contains("split such sets"), "\(error)")
        }
    }

    func testBadOffsetsAreAnErrorInBothPaths() throws {
        // Enough work to be cut into blocks without gradients.
        let enc = try TransformerEncoder(dim: 32, depth: 1, heads: 2)
        let x = try Tensor.randn([100, 32])
        let short = try Tensor([0, 40, 80, 90] as [Int64], shape: [4])   // 10 rows left over
        XCTAssertThrowsError(try withNoGrad { try enc(x, offsets: short) }) { error in
            XCTAssertTrue("\(error)".contains("end at 90 but the packed tensor has 100 rows"), "\(error)")
        }
        XCTAssertThrowsError(try enc(x, offsets: short))
    }

    func testFewSetsRunWhole() throws {
        let enc = try TransformerEncoder(dim: 8, depth: 1, heads: 2)
        let x = try Tensor.randn([5, 8])
        XCTAssertNil(try withNoGrad { try enc.stackBySetBlocks(x, offsets: try offsetsFor([5])) })
    }
}
