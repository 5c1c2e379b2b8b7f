import Foundation
@testable import MPM
import Tensors
import XCTest

final class KMeansTests: XCTestCase {
    /// Four well separated blobs: K-means with K = 4 finds their centres.
    func testFindsSeparatedClusters() throws {
        let centres: [[Float]] = [[0, 0], [10, 0], [0, 10], [10, 10]]
        var values: [Float] = []
        let noise = try Tensor.randn([400, 2], generator: Generator(seed: 1)).mul(0.5).toFloatArray()
        for i in 0..<400 { values += [centres[i % 4][0] + noise[2 * i], centres[i % 4][1] + noise[2 * i + 1]] }
        let x = try Tensor(values, shape: [400, 2])
        for initialisation in KMeans.Initialisation.allCases {
            let fit = try KMeans.fit(x, k: 4, iterations: 30, initialisation: initialisation, seed: 7)
            let c = fit.centroids.toFloatArray()
            for centre in centres {
                let best = (0..<4).map { hypot(c[2 * $0] - centre[0], c[2 * $0 + 1] - centre[1]) }.min()!
                if initialisation == .kmeansPlusPlus { XCTAssertLessThan(best, 0.2, "\(initialisation)") }
            }
            XCTAssertLessThan(fit.inertiaHistory.last!, fit.inertiaHistory.first! + 1e-6)
        }
    }

    /// The BLAS assignment agrees with brute force, for K above the chunk size boundary.
    func testAssignmentMatchesBruteForce() throws {
        let g = Generator(seed: 3)
        let x = try Tensor.randn([700, 7], generator: g), c = try Tensor.randn([1500, 7], generator: g)
        let (codes, d2) = try KMeans.assign(x, centroids: c)
        let xs = x.toFloatArray(), cs = c.toFloatArray(), got = codes.toInt64Array(), gd = d2.toFloatArray()
        for i in stride(from: 0, to: 700, by: 7) {
            var best = Double.infinity, bi = 0
            for k in 0..<1500 {
                var s = 0.0
                for j in 0..<7 { let d = Double(xs[i * 7 + j] - cs[k * 7 + j]); s += d * d }
                if s < best { best = s; bi = k }
            }
            XCTAssertEqual(Int(got[i]), bi, "row \(i)")
            XCTAssertEqual(Double(gd[i]), best, accuracy: 1e-3 * Swift.max(1, best))
        }
    }

    func testSeedMakesFitReproducibleAndEmptyClustersAreReseeded() throws {
        let x = try Tensor.randn([300, 3], generator: Generator(seed: 2))
        let a = try KMeans.fit(x, k: 50, iterations: 5, initialisation: .random, seed: 4)
        let b = try KMeans.fit(x, k: 50, iterations: 5, initialisation: .random, seed: 4)
        XCTAssertEqual(a.centroids.toFloatArray(), b.centroids.toFloatArray())
        // Duplicate rows force empty clusters on a random start; every centroid stays used.
        let dup = try Tensor.cat([Tensor.zeros([200, 3]), Tensor.ones([5, 3])])
        let fit = try KMeans.fit(dup, k: 2, iterations: 5, initialisation: .random, seed: 1)
        let codes = try KMeans.assign(dup, centroids: fit.centroids).codes.toInt64Array()
        XCTAssertEqual(Set(codes).count, 2)
    }

    func testErrors() {
        XCTAssertThrowsError(try KMeans.fit(Tensor.zeros([3, 2]), k: 5)) { XCTAssert("\($0)".contains("need at least 5 rows"), "\($0)") }
        XCTAssertThrowsError(try KMeans.assign(Tensor.zeros([3, 2]), centroids: Tensor.zeros([4, 3]))) {
            XCTAssert("\($0)".contains("3 features per row but the centroids have 3") || "\($0)".contains("2 features per row"), "\($0)")
        }
    }
}
