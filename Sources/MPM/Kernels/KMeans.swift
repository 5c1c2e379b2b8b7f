import Foundation
import JetData
import Tensors

/// K-means on rows of a float matrix (the MPMv2 K-means task fits K = 16384 centroids of the 7
/// preprocessed constituent features). Nearest-centroid assignment is the expensive part and is
/// BLAS: for a chunk of rows X and centroids C, ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, where
/// the cross term X C^T is one sgemm (Products.gemm). Chunks are sized so the distance block stays
/// near 32 MB whatever K is. Lloyd iterations follow; a centroid that loses all its points is
/// moved onto the point farthest from its centroid, so K stays K.
///
/// ```swift
/// let fit = try KMeans.fit(x, k: 512, iterations: 20, seed: 1)    // x [N, 7]
/// let (codes, d2) = try KMeans.assign(x, centroids: fit.centroids)  // codes [N] int64, 0-based
/// ```
public enum KMeans {
    /// How the first centroids are chosen.
    public enum Initialisation: String, CaseIterable {
        /// k-means++ (D^2 sampling) on a random subsample of at most `plusPlusSample` rows.
        case kmeansPlusPlus = "kmeans++"
        /// K distinct rows chosen uniformly.
        case random
    }

    /// The fitted centroids and the fit's history.
    public struct Result {
        /// [K, F] float32.
        public let centroids: Tensor
        /// Mean squared distance of each row to its centroid after each iteration.
        public let inertiaHistory: [Double]
        /// Iterations run (fewer than asked when the relative change fell below the tolerance).
        public let iterations: Int
        /// Centroids re-seeded because they became empty, over the whole fit.
        public let reseeded: Int
    }

    /// Fits K centroids to the rows of `data` [N, F]. `seed` fixes the initialisation and the
    /// re-seeding; `tolerance` stops early when the inertia changes by less than this fraction.
    public static func fit(_ data: Tensor, k: Int, iterations: Int = 20, initialisation: Initialisation = .kmeansPlusPlus,
                           seed: UInt64 = 0, tolerance: Double = 1e-4, plusPlusSample: Int = 65536,
                           shouldStop: () -> Bool = { false }) throws -> Result {
        let (n, f) = try checkMatrix(data, "kmeans.fit", "data")
        guard k >= 1 && k <= maxCentroids else { throw TensorError("kmeans.fit: k must be between 1 and \(maxCentroids), got \(k)") }
        guard k <= n else { throw TensorError("kmeans.fit: k = \(k) centroids need at least \(k) rows, data has \(n)") }
        guard iterations >= 0 else { throw TensorError("kmeans.fit: iterations must be at least 0, got \(iterations)") }
        var random = RandomSource(seed: seed, stream: [0x4B4D45414E53])
        let x = try data.withElements(as: Float.self) { Array($0) }
        guard x.allSatisfy({ $0.isFinite }) else { throw TensorError("kmeans.fit: data contains NaN or infinite values") }
        var centroids: [Float]
        switch initialisation {
        case .random:
            centroids = random.permutation(n).prefix(k).flatMap { x[($0 * f)..<($0 * f + f)] }
        case .kmeansPlusPlus:
            centroids = plusPlus(x, n: n, f: f, k: k, sampleSize: plusPlusSample, random: &random)
        }
        var history: [Double] = []
        var reseeded = 0
        var assignment = [Int32](repeating: 0, count: n)
        var distances = [Float](repeating: 0, count: n)
        for _ in 0..<iterations {
            if shouldStop() { throw TensorError("kmeans.fit: interrupted") }
            nearest(x, n: n, f: f, centroids: centroids, k: k, assignment: &assignment, distances: &distances)
            let inertia = distances.reduce(0.0) { $0 + Double($1) } / Double(n)
            history.append(inertia)
            // Lloyd update in double precision.
            var sums = [Double](repeating: 0, count: k * f)
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                let c = Int(assignment[i])
                counts[c] += 1
                for j in 0..<f { sums[c * f + j] += Double(x[i * f + j]) }
            }
            // Empty centroids move onto the rows farthest from their centroids, one row each.
            let empty = (0..<k).filter { counts[$0] == 0 }
            if !empty.isEmpty {
                let far = (0..<n).sorted { distances[$0] > distances[$1] }
                for (e, row) in zip(empty, far) {
                    for j in 0..<f { centroids[e * f + j] = x[row * f + j] }
                }
                reseeded += empty.count
            }
            for c in 0..<k where counts[c] > 0 {
                for j in 0..<f { centroids[c * f + j] = Float(sums[c * f + j] / Double(counts[c])) }
            }
            if history.count >= 2, empty.isEmpty {
                let previous = history[history.count - 2]
                if previous - inertia <= tolerance * Swift.max(previous, 1e-30) { break }
            }
        }
        return Result(centroids: try Tensor(centroids, shape: [k, f]), inertiaHistory: history,
                      iterations: history.count, reseeded: reseeded)
    }

    /// The nearest centroid of every row of `data` [N, F] (0-based int64 codes [N]) and its
    /// squared distance [N].
    public static func assign(_ data: Tensor, centroids: Tensor) throws -> (codes: Tensor, distances: Tensor) {
        let (n, f) = try checkMatrix(data, "kmeans.assign", "data")
        let (k, fc) = try checkMatrix(centroids, "kmeans.assign", "centroids")
        guard f == fc else {
            throw TensorError("kmeans.assign: data has \(f) features per row but the centroids have \(fc)")
        }
        guard k >= 1 else { throw TensorError("kmeans.assign: there are no centroids") }
        guard k <= maxCentroids else { throw TensorError("kmeans.assign: at most \(maxCentroids) centroids, got \(k)") }
        let x = try data.withElements(as: Float.self) { Array($0) }
        let c = try centroids.withElements(as: Float.self) { Array($0) }
        var assignment = [Int32](repeating: 0, count: n)
        var distances = [Float](repeating: 0, count: n)
        nearest(x, n: n, f: f, centroids: c, k: k, assignment: &assignment, distances: &distances)
        return (try Tensor(assignment.map { Int64($0) }, shape: [n]), try Tensor(distances, shape: [n]))
    }

    /// Largest K: the codes are Int32 and the distance block must stay bounded.
    public static let maxCentroids = 1 << 22

    static func checkMatrix(_ t: Tensor, _ op: String, _ name: String) throws -> (Int, Int) {
        guard t.dim == 2, t.dtype == .f32 else {
            throw TensorError("\(op): \(name) must be a float32 matrix [N, F], got \(t.dtype.name) \(formatShape(t.shape))")
        }
        guard t.shape[1] >= 1 else { throw TensorError("\(op): \(name) has no features (shape \(formatShape(t.shape)))") }
        guard t.shape[0] < Int(Int32.max), t.shape[1] <= 4096 else {
            throw TensorError("\(op): \(name) \(formatShape(t.shape)) is too large (at most 2^31 rows of 4096 features)")
        }
        return (t.shape[0], t.shape[1])
    }

    /// Rows per distance block: the block X C^T holds rows * k floats, about 8M (32 MB).
    static func chunkRows(k: Int) -> Int { Swift.max(64, Swift.min(65536, (8 << 20) / Swift.max(k, 1))) }

    /// Nearest centroid for every row by blocks of X C^T (sgemm), ||c||^2 precomputed.
    static func nearest(_ x: [Float], n: Int, f: Int, centroids: [Float], k: Int,
                        assignment: inout [Int32], distances: inout [Float]) {
        var cNorm = [Float](repeating: 0, count: k)
        for c in 0..<k {
            var s: Float = 0
            for j in 0..<f { s += centroids[c * f + j] * centroids[c * f + j] }
            cNorm[c] = s
        }
        let rows = chunkRows(k: k)
        var block = [Float](repeating: 0, count: Swift.min(rows, Swift.max(n, 1)) * k)
        var start = 0
        while start < n {
            let m = Swift.min(rows, n - start)
            x.withUnsafeBufferPointer { xp in
                centroids.withUnsafeBufferPointer { cp in
                    block.withUnsafeMutableBufferPointer { bp in
                        // block[m, k] = X[start..<start+m] * C^T, in fp32 in every precision
                        // scope: the distances by expansion cancel for near centroids.
                        Products.gemm(transA: false, transB: true, m: m, n: k, k: f, alpha: 1,
                                      a: xp.baseAddress! + start * f, lda: f, b: cp.baseAddress!, ldb: f,
                                      beta: 0, c: bp.baseAddress!, ldc: k, precision: .fp32)
                    }
                }
            }
            block.withUnsafeBufferPointer { bp in
                cNorm.withUnsafeBufferPointer { np in
                    x.withUnsafeBufferPointer { xp in
                        assignment.withUnsafeMutableBufferPointer { ap in
                            distances.withUnsafeMutableBufferPointer { dp in
                                let b = bp.baseAddress!, cn = np.baseAddress!, xb = xp.baseAddress!
                                let a = ap.baseAddress!, d = dp.baseAddress!
                                parallelFor(m, grain: Swift.max(1, 65536 / Swift.max(k, 1))) { lo, hi in
                                    for r in lo..<hi {
                                        let row = b + r * k
                                        var best = Float.infinity, bestIndex = 0
                                        for c in 0..<k {
                                            let v = cn[c] - 2 * row[c]
                                            if v < best { best = v; bestIndex = c }
                                        }
                                        var xn: Float = 0
                                        let xr = xb + (start + r) * f
                                        for j in 0..<f { xn += xr[j] * xr[j] }
                                        a[start + r] = Int32(bestIndex)
                                        d[start + r] = Swift.max(0, best + xn)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            start += m
        }
    }

    /// k-means++ seeding on a random subsample: each next centroid is drawn with probability
    /// proportional to the squared distance to the nearest centroid chosen so far.
    static func plusPlus(_ x: [Float], n: Int, f: Int, k: Int, sampleSize: Int, random: inout RandomSource) -> [Float] {
        let m = Swift.max(k, Swift.min(n, sampleSize))
        let rows = m < n ? Array(random.permutation(n).prefix(m)) : Array(0..<n)
        var sample = [Float](repeating: 0, count: m * f)
        for (i, r) in rows.enumerated() { for j in 0..<f { sample[i * f + j] = x[r * f + j] } }
        var centroids = [Float](repeating: 0, count: k * f)
        var d2 = [Double](repeating: .infinity, count: m)
        var chosen = random.below(m)
        for c in 0..<k {
            for j in 0..<f { centroids[c * f + j] = sample[chosen * f + j] }
            var total = 0.0
            for i in 0..<m {
                var s = 0.0
                for j in 0..<f {
                    let diff = Double(sample[i * f + j] - sample[chosen * f + j])
                    s += diff * diff
                }
                if s < d2[i] { d2[i] = s }
                total += d2[i]
            }
            if c == k - 1 { break }
            if total <= 0 {
                // Every remaining row coincides with a centroid: any row will do.
                chosen = random.below(m)
                continue
            }
            var u = random.uniform() * total
            chosen = m - 1
            for i in 0..<m {
                u -= d2[i]
                if u < 0 { chosen = i; break }
            }
        }
        return centroids
    }
}
