import XCTest
@testable import Tensors

/// The backward passes that write gradients in place of composites: a split's parts into one
/// input-sized gradient, index_select's rows added into zeros, and the row-order column sums of
/// a tall matrix; each against values computed by hand or in Double.
final class GradientLayoutTests: XCTestCase {
    func testSplitGradientFillsEachSliceAndZerosTheUnused() throws {
        let x = try sample([5, 9], seed: 7).requiresGrad_()
        let parts = try x.chunk(3, dim: 1)
        XCTAssertEqual(parts.map { $0.shape }, [[5, 3], [5, 3], [5, 3]])
        // Parts 0 and 2 used with weights 2 and 3, part 1 not at all.
        try parts[0].mul(2).sum().add(parts[2].mul(3).sum()).backward()
        let g = try XCTUnwrap(x.grad).toFloatArray()
        for r in 0..<5 {
            XCTAssertEqual(Array(g[(r * 9)..<(r * 9 + 9)]), [2, 2, 2, 0, 0, 0, 3, 3, 3])
        }
    }

    func testSplitGradientMatchesFiniteDifferences() throws {
        let x = try sample([4, 6], seed: 8).requiresGrad_()
        let w = try sample([4, 2], seed: 9), v = try sample([4, 4], seed: 10)
        func loss(_ t: Tensor) throws -> Tensor {
            let p = try t.split(sizes: [2, 4], dim: 1)
            return try p[0].mul(w).sum().add(p[1].mul(p[1]).mul(v).sum())
        }
        try loss(x).backward()
        let g = try XCTUnwrap(x.grad).toFloatArray()
        let base = x.detach().toFloatArray()
        let h: Float = 1e-2
        for i in 0..<base.count {
            var up = base, down = base
            up[i] += h; down[i] -= h
            let fu = try withNoGrad { try loss(try Tensor(up, shape: [4, 6])).item() }
            let fd = try withNoGrad { try loss(try Tensor(down, shape: [4, 6])).item() }
            XCTAssertEqual(Double(g[i]), (fu - fd) / Double(2 * h), accuracy: 1e-3, "element \(i)")
        }
    }

    func testIndexSelectCopiesRowsAndAddsRepeatedGradients() throws {
        let x = try sample([4, 3], seed: 11).requiresGrad_()
        let index = try Tensor([2, 0, 2, 3] as [Int64], shape: [4])
        let y = try x.indexSelect(0, index: index)
        let xv = x.detach().toFloatArray(), yv = y.toFloatArray()
        for (r, i) in [2, 0, 2, 3].enumerated() { XCTAssertEqual(Array(yv[(r * 3)..<(r * 3 + 3)]), Array(xv[(i * 3)..<(i * 3 + 3)])) }
        let weights = try sample([4, 3], seed: 12)
        try y.mul(weights).sum().backward()
        let g = try XCTUnwrap(x.grad).toFloatArray(), wv = weights.toFloatArray()
        for c in 0..<3 {
            XCTAssertEqual(g[0 * 3 + c], wv[1 * 3 + c], accuracy: 1e-6)
            XCTAssertEqual(g[1 * 3 + c], 0)
            XCTAssertEqual(g[2 * 3 + c], wv[0 * 3 + c] + wv[2 * 3 + c], accuracy: 1e-6)
            XCTAssertEqual(g[3 * 3 + c], wv[3 * 3 + c], accuracy: 1e-6)
        }
    }

    func testColumnSumsOfATallMatrixMatchDouble() throws {
        // Tall enough for the row-order path (>= 256 rows) and for splitting across threads.
        let (rows, columns) = (3000, 37)
        let x = try sample([rows, columns], seed: 13)
        let s = try x.sum(dims: [0]).toFloatArray(), v = x.toFloatArray()
        for c in 0..<columns {
            var expected = 0.0
            for r in 0..<rows { expected += Double(v[r * columns + c]) }
            XCTAssertEqual(Double(s[c]), expected, accuracy: 1e-3, "column \(c)")
        }
    }
}
