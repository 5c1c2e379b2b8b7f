import XCTest
@testable import Tensors

/// LAPACK decompositions against values worked out by hand (and numpy for the SVD).
final class LinalgTests: XCTestCase {
    func testEighOfASymmetricMatrix() throws {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1)/sqrt 2 and (1, 1)/sqrt 2.
        let (w, v) = try Linalg.eigh(try Tensor([2, 1, 1, 2] as [Float], shape: [2, 2]))
        XCTAssertEqual(w.toFloatArray()[0], 1, accuracy: 1e-6)
        XCTAssertEqual(w.toFloatArray()[1], 3, accuracy: 1e-6)
        let vv = v.toFloatArray()  // columns are the vectors
        XCTAssertEqual(Swift.abs(vv[1]), Float(0.5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(vv[1] * vv[3], 0.5, accuracy: 1e-6)   // (1, 1) direction: same signs
        XCTAssertEqual(vv[0] * vv[2], -0.5, accuracy: 1e-6)  // (1, -1) direction
        // A diagonal matrix: its diagonal, sorted.
        let (d, _) = try Linalg.eigh(try Tensor([5, 0, 0, 0, -1, 0, 0, 0, 2] as [Float], shape: [3, 3]))
        XCTAssertEqual(d.toFloatArray(), [-1, 2, 5])
    }

    func testThinSVDMatchesNumpy() throws {
        // numpy.linalg.svd([[1, 2, 3], [4, 5, 6]], full_matrices=False)
        let a = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let (u, s, vt) = try Linalg.svd(a)
        XCTAssertEqual(u.shape, [2, 2]); XCTAssertEqual(s.shape, [2]); XCTAssertEqual(vt.shape, [2, 3])
        let sv = s.toFloatArray()
        XCTAssertEqual(sv[0], 9.508032, accuracy: 1e-5)
        XCTAssertEqual(sv[1], 0.77286964, accuracy: 1e-5)
        // Signs are LAPACK's; compare |U| and |Vt| with numpy's and check the reconstruction.
        let numpyU: [Float] = [0.3863177, 0.92236578, 0.92236578, 0.3863177]
        for (x, y) in zip(u.toFloatArray(), numpyU) { XCTAssertEqual(Swift.abs(x), y, accuracy: 1e-5) }
        let numpyVt: [Float] = [0.42866713, 0.56630692, 0.7039467, 0.80596391, 0.11238241, 0.58119908]
        for (x, y) in zip(vt.toFloatArray(), numpyVt) { XCTAssertEqual(Swift.abs(x), y, accuracy: 1e-5) }
        let back = try u.mul(s.reshape([1, 2])).matmul(vt).toFloatArray()
        for (x, y) in zip(back, a.toFloatArray()) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        // A tall matrix [[3, 0], [4, 5]] stacked on zeros: singular values sqrt 45 and sqrt 5.
        let tall = try Linalg.svd(try Tensor([3, 0, 4, 5, 0, 0] as [Float], shape: [3, 2]))
        XCTAssertEqual(tall.s.toFloatArray()[0], Float(45).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(tall.s.toFloatArray()[1], Float(5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(tall.u.shape, [3, 2])
    }

    func testBadInputsThrow() throws {
        XCTAssertThrowsError(try Linalg.eigh(try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])))
        XCTAssertThrowsError(try Linalg.svd(try Tensor([1, 2, 3] as [Float])))
        XCTAssertThrowsError(try Linalg.eigh(try Tensor([Float.nan, 0, 0, 1], shape: [2, 2])))
    }
}
