import XCTest
@testable import Tensors

/// mpm.linalg's Swift side against hand-computed results and brute-force loops.
final class LinearAlgebraTests: XCTestCase {
    func testEighOf2x2() throws {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, -1)/sqrt2 and (1, 1)/sqrt2.
        let (w, v) = try LinearAlgebra.eigh(try Tensor([2, 1, 1, 2] as [Float], shape: [2, 2]))
        let wv = w.toFloatArray(), vv = v.toFloatArray()
        XCTAssertEqual(wv[0], 1, accuracy: 1e-5)
        XCTAssertEqual(wv[1], 3, accuracy: 1e-5)
        let r = Float(0.5).squareRoot()
        XCTAssertEqual(Swift.abs(vv[0 * 2 + 1]), r, accuracy: 1e-5)   // column 2 = (1, 1)/sqrt2
        XCTAssertEqual(vv[0 * 2 + 1], vv[1 * 2 + 1], accuracy: 1e-5)
        XCTAssertEqual(vv[0 * 2 + 0], -vv[1 * 2 + 0], accuracy: 1e-5) // column 1 = (1, -1)/sqrt2
    }

    func testSvdReconstructsAndIsOrthonormal() throws {
        let m = 7, n = 4
        var g = SystemRandomNumberGenerator()
        let a = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &g) }
        let (u, s, vt) = try LinearAlgebra.svd(try Tensor(a, shape: [m, n]))
        XCTAssertEqual(u.shape, [m, 4]); XCTAssertEqual(s.shape, [4]); XCTAssertEqual(vt.shape, [4, n])
        let uu = u.toFloatArray(), ss = s.toFloatArray(), vv = vt.toFloatArray()
        for i in 0..<m {
            for j in 0..<n {
                var x: Float = 0
                for l in 0..<4 { x += uu[i * 4 + l] * ss[l] * vv[l * n + j] }
                XCTAssertEqual(x, a[i * n + j], accuracy: 1e-4)
            }
        }
        for p in 0..<4 {
            for q in 0..<4 {
                var d: Float = 0, e: Float = 0
                for j in 0..<n { d += vv[p * n + j] * vv[q * n + j] }
                for i in 0..<m { e += uu[i * 4 + p] * uu[i * 4 + q] }
                XCTAssertEqual(d, p == q ? 1 : 0, accuracy: 1e-4, "V orthonormal")
                XCTAssertEqual(e, p == q ? 1 : 0, accuracy: 1e-4, "U orthonormal")
            }
        }
        XCTAssertTrue(ss[0] >= ss[1] && ss[1] >= ss[2] && ss[2] >= ss[3])
    }

    func testCdistAgainstLoops() throws {
        let n = 5, m = 3, d = 6
        var g = SystemRandomNumberGenerator()
        let x = (0..<(n * d)).map { _ in Float.random(in: -1...1, using: &g) }
        let y = (0..<(m * d)).map { _ in Float.random(in: -1...1, using: &g) }
        let a = try Tensor(x, shape: [n, d]), b = try Tensor(y, shape: [m, d])
        let e = try LinearAlgebra.cdist(a, b).toFloatArray()
        let c = try LinearAlgebra.cdist(a, b, metric: .cosine).toFloatArray()
        for i in 0..<n {
            for j in 0..<m {
                var s: Float = 0, dot: Float = 0, na: Float = 0, nb: Float = 0
                for k in 0..<d {
                    s += (x[i * d + k] - y[j * d + k]) * (x[i * d + k] - y[j * d + k])
                    dot += x[i * d + k] * y[j * d + k]; na += x[i * d + k] * x[i * d + k]; nb += y[j * d + k] * y[j * d + k]
                }
                XCTAssertEqual(e[i * m + j], s.squareRoot(), accuracy: 1e-4)
                XCTAssertEqual(c[i * m + j], 1 - dot / (na * nb).squareRoot(), accuracy: 1e-4)
            }
        }
        let self0 = try LinearAlgebra.cdist(a, a).toFloatArray()
        for i in 0..<n { XCTAssertEqual(self0[i * n + i], 0, accuracy: 1e-3) }
    }

    func testErrors() throws {
        XCTAssertThrowsError(try LinearAlgebra.eigh(try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])))
        XCTAssertThrowsError(try LinearAlgebra.eigh(try Tensor([1, 2] as [Float])))
        XCTAssertThrowsError(try LinearAlgebra.svd(try Tensor([1, .nan, 3, 4] as [Float], shape: [2, 2])))
        XCTAssertThrowsError(try LinearAlgebra.cdist(try Tensor([1, 2] as [Float], shape: [1, 2]), try Tensor([1, 2, 3] as [Float], shape: [1, 3])))
    }
}
