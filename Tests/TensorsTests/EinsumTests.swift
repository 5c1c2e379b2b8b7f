import TestSupport
import XCTest
@testable import Tensors

final class EinsumTests: XCTestCase {
    func testMatrixProduct() throws {
        let a = try ft([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = try ft([1, 0, 0, 1, 1, 1], shape: [3, 2])
        let c = try Tensor.einsum("ij,jk->ik", [a, b])
        XCTAssertEqual(c.shape, [2, 2])
        assertClose(c, [4, 5, 10, 11])
        assertClose(try Tensor.einsum("ij,jk", [a, b]), [4, 5, 10, 11])  // implicit
        assertClose(try Tensor.einsum("ij,jk->ki", [a, b]), [4, 10, 5, 11])
    }

    func testBatchedProduct() throws {
        let a = try ft([1, 2, 3, 4, 1, 0, 0, 1], shape: [2, 2, 2])
        let b = try ft([1, 1, 0, 1, 2, 3, 4, 5], shape: [2, 2, 2])
        let c = try Tensor.einsum("bij,bjk->bik", [a, b])
        XCTAssertEqual(c.shape, [2, 2, 2])
        // batch 0: [[1,2],[3,4]] x [[1,1],[0,1]] = [[1,3],[3,7]]; batch 1: identity x [[2,3],[4,5]]
        assertClose(c, [1, 3, 3, 7, 2, 3, 4, 5])
    }

    func testOuterTransposeAndTotal() throws {
        let u = try ft([1, 2], shape: [2]), v = try ft([3, 4, 5], shape: [3])
        let o = try Tensor.einsum("i,j->ij", [u, v])
        XCTAssertEqual(o.shape, [2, 3])
        assertClose(o, [3, 4, 5, 6, 8, 10])
        let m = try ft([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let t = try Tensor.einsum("ij->ji", [m])
        XCTAssertEqual(t.shape, [3, 2])
        assertClose(t, [1, 4, 2, 5, 3, 6])
        let s = try Tensor.einsum("ij->", [m])
        XCTAssertEqual(s.shape, [Int]())
        assertClose(s, [21])
        assertClose(try Tensor.einsum("ij->j", [m]), [5, 7, 9])
        assertClose(try Tensor.einsum("i,i->", [u, u]), [5])
        assertClose(try Tensor.einsum("ij,j->i", [m, v]), [26, 62])
        assertClose(try Tensor.einsum("ij,kl->", [m, m]), [441])
    }

    func testAttentionScores() throws {
        let q = try sample([2, 3, 4, 5], seed: 3), k = try sample([2, 3, 6, 5], seed: 4)
        let s = try Tensor.einsum("bhid,bhjd->bhij", [q, k])
        XCTAssertEqual(s.shape, [2, 3, 4, 6])
        let ref = try q.matmul(k.transpose(-1, -2))
        assertClose(s, ref.toFloatArray(), tol: 1e-4)
        // Hand-computed entry [1,2,3,4] (0-based) as a direct sum.
        let qv = q.toFloatArray(), kv = k.toFloatArray()
        var e: Float = 0
        for d in 0..<5 { e += qv[((1 * 3 + 2) * 4 + 3) * 5 + d] * kv[((1 * 3 + 2) * 6 + 4) * 5 + d] }
        XCTAssertEqual(s.toFloatArray()[((1 * 3 + 2) * 4 + 3) * 6 + 4], e, accuracy: 1e-4)
    }

    func testThreeOperands() throws {
        let a = try sample([2, 3], seed: 5), b = try sample([3, 4], seed: 6), c = try sample([4, 2], seed: 7)
        let r = try Tensor.einsum("ij,jk,kl->il", [a, b, c])
        assertClose(r, try a.matmul(b).matmul(c).toFloatArray(), tol: 1e-4)
    }

    func testErrors() throws {
        let m = try Tensor.ones([2, 2]), v = try Tensor.ones([3])
        assertThrows("diagonals are not supported") { _ = try Tensor.einsum("ii->i", [m]) }
        assertThrows("not part of one '...'") { _ = try Tensor.einsum("....ij->ij", [m]) }
        assertThrows("not part of one '...'") { _ = try Tensor.einsum("...i...->i", [m]) }
        assertThrows("name 3 besides '...'") { _ = try Tensor.einsum("...ijk->ij", [m]) }
        assertThrows("einsum '...'") { _ = try Tensor.einsum("...i,...i->...", [try Tensor.ones([2, 3]), try Tensor.ones([4, 3])]) }
        assertThrows("2 operand term(s) but 1 tensor(s)") { _ = try Tensor.einsum("ij,jk->ik", [m]) }
        assertThrows("has size 2") { _ = try Tensor.einsum("ij,j->i", [m, v]) }
        assertThrows("name 3") { _ = try Tensor.einsum("ijk->i", [m]) }
        assertThrows("invalid character") { _ = try Tensor.einsum("i1->i", [m]) }
        assertThrows("does not appear") { _ = try Tensor.einsum("ij->iz", [m]) }
        assertThrows("repeated subscript in the output") { _ = try Tensor.einsum("ij->ii", [m]) }
        assertThrows("more than one") { _ = try Tensor.einsum("ij->j->i", [m]) }
    }

    func testEllipsis() throws {
        // Batched matmul over any leading dims, as torch.einsum("...ij,...jk->...ik").
        let a = try sample([2, 3, 4, 5], seed: 20), b = try sample([2, 3, 5, 6], seed: 21)
        let c = try Tensor.einsum("...ij,...jk->...ik", [a, b])
        XCTAssertEqual(c.shape, [2, 3, 4, 6])
        assertClose(c, try a.matmul(b).toFloatArray(), tol: 1e-4)
        // Broadcast ellipsis dims: [3, 4, 5] against [1, 5, 6], and a plain matrix on the right.
        let x = try sample([3, 4, 5], seed: 22), w = try sample([1, 5, 6], seed: 23), m = try sample([5, 6], seed: 24)
        assertClose(try Tensor.einsum("...ij,...jk->...ik", [x, w]), try x.matmul(w).toFloatArray(), tol: 1e-4)
        assertClose(try Tensor.einsum("...ij,jk", [x, m]), try x.matmul(m).toFloatArray(), tol: 1e-4)   // implicit: ... first
        // Ellipsis in the middle and at the end; summed away when the output omits it.
        let y = try sample([2, 3, 4], seed: 25)
        XCTAssertEqual(try Tensor.einsum("i...->...i", [y]).shape, [3, 4, 2])
        assertClose(try Tensor.einsum("i...->...i", [y]), try y.permute([1, 2, 0]).toFloatArray())
        assertClose(try Tensor.einsum("...j->j", [y]), try y.sum(dims: [0, 1]).toFloatArray(), tol: 1e-5)
        assertClose(try Tensor.einsum("...ij->ij", [try ft([1, 2, 3, 4], shape: [2, 2])]), [1, 2, 3, 4])   // empty '...'
        try gradCheck([try sample([2, 3, 4], seed: 26), try sample([1, 4, 2], seed: 27)]) { v in
            try Tensor.einsum("...ij,...jk->...ik", v)
        }
    }

    func testGradients() throws {
        try gradCheck([try sample([2, 3, 4], seed: 8), try sample([2, 4, 3], seed: 9)]) { x in
            try Tensor.einsum("bij,bjk->bik", x)
        }
        try gradCheck([try sample([2, 2, 3, 4], seed: 10), try sample([2, 2, 5, 4], seed: 11)]) { x in
            try Tensor.einsum("bhid,bhjd->bhij", x)
        }
        try gradCheck([try sample([3], seed: 12), try sample([4], seed: 13)]) { x in
            try Tensor.einsum("i,j->ji", x)
        }
        try gradCheck([try sample([3, 4], seed: 14)]) { x in try Tensor.einsum("ij->j", x) }
        try gradCheck([try sample([2, 3], seed: 15), try sample([3, 4], seed: 16)]) { x in
            try Tensor.einsum("ij,jk->", x)
        }
    }
}

private func ft(_ values: [Float], shape: [Int]) throws -> Tensor { try Tensor(values, shape: shape) }
