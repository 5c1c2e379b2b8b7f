import CBLAS

/// `mpm.linalg` on LAPACK and BLAS (OpenBLAS): symmetric eigendecomposition, thin SVD and
/// pairwise distances. Float32, 2-D inputs; not differentiable.
public enum LinearAlgebra {
    private static func matrix(_ a: Tensor, _ op: String) throws -> [Float] {
        guard a.dtype == .f32 else { throw TensorError("\(op): expected a float32 tensor, got \(a.dtype.name)") }
        guard a.dim == 2 else { throw TensorError("\(op): expected a 2-D tensor, got shape \(formatShape(a.shape))") }
        let v = a.toFloatArray()
        guard v.allSatisfy({ $0.isFinite }) else { throw TensorError("\(op): the input holds NaN or infinite values") }
        guard a.shape[0] <= Int(Int32.max), a.shape[1] <= Int(Int32.max) else { throw TensorError("\(op): matrix too large") }
        return v
    }

    /// Eigenvalues (ascending) [n] and eigenvectors [n, n] (column j belongs to value j) of a
    /// symmetric matrix (LAPACK ssyevd; only the lower triangle is read).
    ///
    /// ```swift
    /// let (w, v) = try LinearAlgebra.eigh(try Tensor([2, 1, 1, 2] as [Float], shape: [2, 2]))
    /// // w = [1, 3], v[:, 1] = [1, 1] / sqrt(2) up to sign
    /// ```
    public static func eigh(_ a: Tensor) throws -> (values: Tensor, vectors: Tensor) {
        var buf = try matrix(a, "eigh")
        guard a.shape[0] == a.shape[1] else { throw TensorError("eigh: expected a square matrix, got \(formatShape(a.shape, .matrix))") }
        let n = a.shape[0]
        if n == 0 { return (try Tensor([Float](), shape: [0]), try Tensor([Float](), shape: [0, 0])) }
        var n32 = Int32(n), info: Int32 = 0
        var w = [Float](repeating: 0, count: n)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var wq: Float = 0, iq: Int32 = 0
        ssyevd_("V", "L", &n32, &buf, &n32, &w, &wq, &lwork, &iq, &liwork, &info, 1, 1)
        guard info == 0 else { throw TensorError("eigh: LAPACK ssyevd workspace query failed (info \(info))") }
        lwork = Int32(wq); liwork = iq
        var work = [Float](repeating: 0, count: Swift.max(1, Int(lwork)))
        var iwork = [Int32](repeating: 0, count: Swift.max(1, Int(liwork)))
        ssyevd_("V", "L", &n32, &buf, &n32, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else { throw TensorError("eigh: LAPACK ssyevd failed (info \(info): \(info < 0 ? "bad argument" : "did not converge"))") }
        // Column-major vectors: buf[i + j*n] is component i of vector j; transpose to row-major.
        var v = [Float](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { v[i * n + j] = buf[i + j * n] } }
        return (try Tensor(w, shape: [n]), try Tensor(v, shape: [n, n]))
    }

    /// Thin SVD: A [m, n] = U [m, k] * diag(S [k]) * Vt [k, n], k = min(m, n), S descending
    /// (LAPACK sgesdd).
    ///
    /// ```swift
    /// let (u, s, vt) = try LinearAlgebra.svd(a)   // a ≈ u.matmul(diag(s)).matmul(vt)
    /// ```
    public static func svd(_ a: Tensor) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        var buf = try matrix(a, "svd")
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        if k == 0 {
            return (try Tensor([Float](repeating: 0, count: 0), shape: [m, 0]), try Tensor([Float](), shape: [0]),
                    try Tensor([Float](), shape: [0, n]))
        }
        // The row-major A is the column-major A^T [n, m]: A^T = U' S V'^T gives U = V'^T read
        // row-major as [m, k] and Vt = U' read row-major as [k, n], with no transposes.
        var mm = Int32(n), nn = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(k), info: Int32 = 0
        var s = [Float](repeating: 0, count: k)
        var u = [Float](repeating: 0, count: n * k), vt = [Float](repeating: 0, count: k * m)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var lwork: Int32 = -1, wq: Float = 0
        sgesdd_("S", &mm, &nn, &buf, &lda, &s, &u, &ldu, &vt, &ldvt, &wq, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw TensorError("svd: LAPACK sgesdd workspace query failed (info \(info))") }
        lwork = Int32(wq)
        var work = [Float](repeating: 0, count: Swift.max(1, Int(lwork)))
        sgesdd_("S", &mm, &nn, &buf, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw TensorError("svd: LAPACK sgesdd failed (info \(info): \(info < 0 ? "bad argument" : "did not converge"))") }
        return (try Tensor(vt, shape: [m, k]), try Tensor(s, shape: [k]), try Tensor(u, shape: [k, n]))
    }

    /// The distance metrics of `cdist`.
    public enum Metric: String, Sendable { case euclidean, cosine }

    /// Pairwise distances [n, m] between the rows of a [n, d] and b [m, d], from one sgemm plus
    /// row norms: euclidean sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0)), cosine max(1 - a.b / (|a||b|), 0)
    /// (a zero row has cosine distance 1).
    ///
    /// ```swift
    /// let d = try LinearAlgebra.cdist(x, y, metric: .cosine)   // [x.rows, y.rows]
    /// ```
    public static func cdist(_ a: Tensor, _ b: Tensor, metric: Metric = .euclidean) throws -> Tensor {
        let x = try matrix(a, "cdist"), y = try matrix(b, "cdist")
        guard a.shape[1] == b.shape[1] else {
            throw TensorError("cdist: a is \(formatShape(a.shape, .matrix)), b is \(formatShape(b.shape, .matrix)) (feature sizes differ)")
        }
        let n = a.shape[0], m = b.shape[0], d = a.shape[1]
        try Tensor.checkFitsInMemory([n, m], dtype: .f32, op: "cdist")
        var g = [Float](repeating: 0, count: n * m)
        if n > 0 && m > 0 && d > 0 {
            // fp32 in every precision scope: |a|^2 + |b|^2 - 2 a.b cancels for near points.
            Products.gemm(transA: false, transB: true, m: n, n: m, k: d, alpha: 1, a: x, lda: d, b: y, ldb: d,
                          beta: 0, c: &g, ldc: m, precision: .fp32)
        }
        func norms(_ v: [Float], _ rows: Int) -> [Float] {
            (0..<rows).map { r in var s: Float = 0; for c in 0..<d { s += v[r * d + c] * v[r * d + c] }; return s }
        }
        let na = norms(x, n), nb = norms(y, m)
        for i in 0..<n {
            for j in 0..<m {
                let dot = g[i * m + j]
                switch metric {
                case .euclidean: g[i * m + j] = Swift.max(na[i] + nb[j] - 2 * dot, 0).squareRoot()
                case .cosine:
                    let den = (na[i] * nb[j]).squareRoot()
                    g[i * m + j] = den > 0 ? Swift.max(1 - dot / den, 0) : 1
                }
            }
        }
        return try Tensor(g, shape: [n, m])
    }
}
