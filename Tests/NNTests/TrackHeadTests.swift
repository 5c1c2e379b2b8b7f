import Foundation
import NN
import Tensors
import XCTest
import TestSupport

/// The per-particle heads of vertex finding and track identification: the fused pair kernel
/// against a plain loop (values and finite-difference gradients), pairs never crossing sets,
/// sets of 1 and 2 rows, the edge head, and the focal loss against a hand computation.
final class TrackHeadTests: XCTestCase {
    override func setUp() { manualSeed(11) }

    /// Sets of 3, 1, 5, 2 and 0 rows.
    let lengths = [3, 1, 5, 2, 0]

    func testPairAbsDiffMatchesAPlainLoop() throws {
        let h = 4, t = lengths.reduce(0, +)
        let x = try Tensor.randn([t, h]), offsets = try offsetsFor(lengths)
        let (d, pairOffsets) = try x.pairAbsDiff(offsets: offsets)
        XCTAssertEqual(pairOffsets.toInt64Array(), [0, 3, 3, 13, 14, 14])
        XCTAssertEqual(d.shape, [14, h])
        let xs = x.toFloatArray(), ds = d.toFloatArray()
        var expected: [Float] = [], start = 0
        for n in lengths {
            for i in 0..<n { for j in (i + 1)..<max(i + 1, n) {
                for c in 0..<h { expected.append(abs(xs[(start + i) * h + c] - xs[(start + j) * h + c])) }
            } }
            start += n
        }
        XCTAssertEqual(ds, expected)
    }

    func testSetPairsNeverCrossSets() throws {
        let offsets = try offsetsFor(lengths)
        let (first, second, pairOffsets) = try Tensor.setPairs(offsets: offsets)
        let f = first.toInt64Array(), s = second.toInt64Array(), o = offsets.toInt64Array(), p = pairOffsets.toInt64Array()
        XCTAssertEqual(f.count, 14)
        for b in 0..<lengths.count {
            for k in Int(p[b])..<Int(p[b + 1]) {
                XCTAssert(f[k] >= o[b] && f[k] < s[k] && s[k] < o[b + 1], "pair \(k) stays inside set \(b)")
            }
        }
        XCTAssertEqual(Array(f[3..<7]), [4, 4, 4, 4], "the 5-row set starts with (0,1)..(0,4)")
        XCTAssertEqual(Array(s[3..<7]), [5, 6, 7, 8])
        let (one, _, _) = try Tensor.setPairs(offsets: offsets, indexBase: .one)
        XCTAssertEqual(one.toInt64Array(), f.map { $0 + 1 })
    }

    func testSetsOfOneAndTwoRows() throws {
        let x = try Tensor.randn([3, 2])
        let (d, p) = try x.pairAbsDiff(offsets: try offsetsFor([1, 2]))
        XCTAssertEqual(d.shape, [1, 2])
        XCTAssertEqual(p.toInt64Array(), [0, 0, 1])
        let xs = x.toFloatArray()
        XCTAssertEqual(d.toFloatArray(), [abs(xs[2] - xs[4]), abs(xs[3] - xs[5])])
        let (none, q) = try x.narrow(0, start: 0, length: 1).pairAbsDiff(offsets: try offsetsFor([1]))
        XCTAssertEqual(none.shape, [0, 2])
        XCTAssertEqual(q.toInt64Array(), [0, 0])
    }

    func testPairAbsDiffGradient() throws {
        let x = try Tensor.randn([lengths.reduce(0, +), 3]), offsets = try offsetsFor(lengths)
        try gradCheck([("x", x)], maxPerTensor: 33) { try x.pairAbsDiff(offsets: offsets).0 }
    }

    func testPairAbsDiffBadInputs() throws {
        let x = try Tensor.randn([4, 3])
        XCTAssertThrowsError(try x.pairAbsDiff(offsets: try offsetsFor([2, 3]))) { XCTAssert("\($0)".contains("end at 5")) }
        XCTAssertThrowsError(try Tensor.randn([4]).pairAbsDiff(offsets: try offsetsFor([4]))) { XCTAssert("\($0)".contains("[T, H]")) }
    }

    func testEdgeHeadAndPerTrackMLP() throws {
        let t = lengths.reduce(0, +), offsets = try offsetsFor(lengths)
        let head = try EdgeHead(inputDim: 6, options: { var o = PerTrackMLP.Options(); o.hidden = 8; o.dropout = 0; return o }())
        let x = try Tensor.randn([t, 6])
        let (logits, pairOffsets) = try head(x, offsets: offsets)
        XCTAssertEqual(logits.shape, [14])
        XCTAssertEqual(pairOffsets.toInt64Array(), [0, 3, 3, 13, 14, 14])
        // Backward through the head equals autograd through the same math from primitives
        // (index_select, sub, abs); the pair kernel's own gradient is checked by finite
        // differences above (finite differences through the whole head straddle |d|'s kink).
        try x.requiresGrad_()
        let w = try Tensor.randn([14])
        try head(x, offsets: offsets).0.mul(w).sum().backward()
        let fused = head.parameters().map { $0.grad!.toFloatArray() } + [x.grad!.toFloatArray()]
        head.zeroGrad()
        x.grad = nil
        let (first, second, _) = try Tensor.setPairs(offsets: offsets)
        let f = try head.embedding(x)
        let d = try f.indexSelect(0, index: first).sub(f.indexSelect(0, index: second)).abs()
        try head.output(d).reshape([-1]).mul(w).sum().backward()
        let plain = head.parameters().map { $0.grad!.toFloatArray() } + [x.grad!.toFloatArray()]
        for (a, b) in zip(fused, plain) { for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5) } }
        let tracks = try PerTrackMLP(inputDim: 6, outputs: 4)
        XCTAssertEqual(try tracks(x).shape, [t, 4])
        XCTAssertEqual(tracks.mlp.depth, 3)
        XCTAssertThrowsError(try tracks(try Tensor.randn([t, 5]))) { XCTAssert("\($0)".contains("[T, 6]")) }
    }

    func testFocalLossByHand() throws {
        let x: [Float] = [2.0, -1.0, 0.5, -3.0], y: [Float] = [1, 0, 0, 1]
        let gamma = 3.0, w = 0.778
        var expected = 0.0
        for (xi, yi) in zip(x, y) {
            let p = 1 / (1 + exp(-Double(xi)))
            let pt = yi == 1 ? p : 1 - p, wt = yi == 1 ? w : 1
            expected += -wt * pow(1 - pt, gamma) * log(pt)
        }
        let loss = try Functional.focalLoss(try Tensor(x, shape: [4]), try Tensor(y, shape: [4]), gamma: gamma, posWeight: w)
        XCTAssertEqual(Double(try loss.item()), expected / 4, accuracy: 1e-6)
        let plain = try Functional.focalLoss(try Tensor(x, shape: [4]), try Tensor(y, shape: [4]), gamma: 0, posWeight: 1)
        let bce = try Functional.binaryCrossEntropyWithLogits(try Tensor(x, shape: [4]), try Tensor(y, shape: [4]))
        XCTAssertEqual(try plain.item(), try bce.item(), accuracy: 1e-6, "gamma 0, pos_weight 1 is BCE")
        let big = try Functional.focalLoss(try Tensor([Float(40), -40], shape: [2]), try Tensor([Float(0), 1], shape: [2]))
        XCTAssert(try big.item().isFinite, "stable for large logits")
    }

    func testFocalLossGradient() throws {
        let x = try Tensor.randn([20]).mul(2.0)
        let y = try Tensor((0..<20).map { Float($0 % 3 == 0 ? 1 : 0) }, shape: [20])
        try gradCheck([("x", x)], tol: 2e-2, maxPerTensor: 20) { try Functional.focalLoss(x, y, reduction: .none) }
        try gradCheck([("x", x)], maxPerTensor: 20) { try Functional.focalLoss(x, y, gamma: 2, posWeight: 0.5) }
        XCTAssertThrowsError(try Functional.focalLoss(try Tensor.zeros([0]), try Tensor.zeros([0]))) {
            XCTAssert("\($0)".contains("empty"))
        }
    }
}
