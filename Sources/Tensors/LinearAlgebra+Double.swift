import CBLAS

/// Double-precision LAPACK and BLAS on plain row-major arrays, for statistics whose results
/// are small differences of large sums (the Frechet and kernel distances of `Generative` in
/// the MPM module), where float32 tensors would lose the answer to rounding.
extension LinearAlgebra {
    /// Eigenvalues (ascending) and eigenvectors of a symmetric n x n matrix `a` (row-major;
    /// symmetric, so also column-major), by LAPACK dsyevd. `vectors[i * n + j]` is component
    /// i of eigenvector j.
    ///
    /// ```swift
    /// let (w, v) = try LinearAlgebra.symmetricEigen([2, 1, 1, 2], n: 2)   // w = [1, 3]
    /// ```
    public static func symmetricEigen(_ a: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        guard a.count == n * n else { throw TensorError("symmetric eigen: \(a.count) values for a \(n) x \(n) matrix") }
        guard a.allSatisfy({ $0.isFinite }) else { throw TensorError("symmetric eigen: the matrix holds NaN or infinite values") }
        if n == 0 { return ([], []) }
        BLASThreads.configure()
        // Column-major in place: the symmetric input reads the same; the output vectors come
        // back as columns, buf[i + j * n] = component i of vector j, the layout promised above.
        var buf = a
        var n32 = Int32(n), info: Int32 = 0
        var w = [Double](repeating: 0, count: n)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var wq: Double = 0, iq: Int32 = 0
        dsyevd_("V", "L", &n32, &buf, &n32, &w, &wq, &lwork, &iq, &liwork, &info, 1, 1)
        guard info == 0 else { throw TensorError("symmetric eigen: LAPACK dsyevd workspace query failed (info \(info))") }
        lwork = Int32(wq); liwork = iq
        var work = [Double](repeating: 0, count: Swift.max(1, Int(lwork)))
        var iwork = [Int32](repeating: 0, count: Swift.max(1, Int(liwork)))
        dsyevd_("V", "L", &n32, &buf, &n32, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else { throw TensorError("symmetric eigen: LAPACK dsyevd failed (info \(info): \(info < 0 ? "bad argument" : "did not converge"))") }
        // Column-major output: buf[i + j*n] is component i of vector j; transpose to row-major.
        var v = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { v[i * n + j] = buf[i + j * n] } }
        return (w, v)
    }

    /// C [m, n] = op(A) * op(B) by BLAS dgemm, row-major: A is [m, k] (or [k, m] when
    /// `transposeA`), B is [k, n] (or [n, k] when `transposeB`).
    ///
    /// ```swift
    /// let gram = LinearAlgebra.multiply(x, y, m: rows, k: columns, n: rows, transposeB: true)   // x y^T
    /// ```
    public static func multiply(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>, m: Int, k: Int, n: Int,
                                transposeA: Bool = false, transposeB: Bool = false) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        BLASThreads.configure()
        c.withUnsafeMutableBufferPointer { out in
            cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), 1, a.baseAddress, Int32(transposeA ? m : k),
                        b.baseAddress, Int32(transposeB ? k : n), 0, out.baseAddress, Int32(n))
        }
        return c
    }
}
