import CBLAS

/// Dense linear algebra of small matrices through LAPACK (OpenBLAS ships it): the symmetric
/// eigendecomposition (dsyevd) and the thin SVD (dgesdd). Inputs are float32 [m, n]; the work
/// runs in double precision and the results come back as float32. Row-major matrices are
/// handed to the column-major routines as their transposes, so nothing is copied twice.
public enum Linalg {
    static func matrix(_ a: Tensor, _ op: String) throws -> (rows: Int, cols: Int, values: [Double]) {
        guard a.dim == 2 else { throw TensorError("\(op): expected a matrix [m, n], got \(formatShape(a.shape))") }
        guard a.dtype == .f32 else { throw TensorError("\(op): expected a float32 matrix, got \(a.dtype.name)") }
        let v = a.toFloatArray().map(Double.init)
        guard v.allSatisfy({ $0.isFinite }) else { throw TensorError("\(op): the matrix holds NaN or infinite values") }
        return (a.shape[0], a.shape[1], v)
    }

    static func tensor(_ shape: [Int], _ v: [Double]) throws -> Tensor {
        try Tensor.make(shape, Float.self) { p, n in for i in 0..<n { p[i] = Float(v[i]) } }
    }

    /// Eigenvalues [n] (ascending) and eigenvectors [n, n] (column k belongs to value k) of a
    /// symmetric matrix, like numpy.linalg.eigh. Only the lower triangle is read.
    public static func eigh(_ a: Tensor) throws -> (values: Tensor, vectors: Tensor) {
        let (n, cols, values) = try matrix(a, "eigh")
        guard n == cols else { throw TensorError("eigh: expected a square matrix, got \(formatShape(a.shape))") }
        guard n > 0 else { return (try Tensor.empty([0], dtype: .f32), try Tensor.empty([0, 0], dtype: .f32)) }
        guard n <= 20_000 else { throw TensorError("eigh: \(n)x\(n) is too large for a dense eigendecomposition") }
        var m = values
        var w = [Double](repeating: 0, count: n)
        var dim = Int32(n), lda = Int32(n), info: Int32 = 0
        // Workspace query, then the decomposition. Row-major lower = column-major upper.
        var workSize = 0.0, iworkSize: Int32 = 0, query: Int32 = -1
        dsyevd_("V", "U", &dim, &m, &lda, &w, &workSize, &query, &iworkSize, &query, &info, 1, 1)
        guard info == 0 else { throw TensorError("eigh: LAPACK dsyevd workspace query failed (info \(info))") }
        var lwork = Int32(workSize), liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_("V", "U", &dim, &m, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else { throw TensorError("eigh: LAPACK dsyevd did not converge (info \(info))") }
        // Column-major vectors: the buffer read row-major holds vector k in row k; transpose.
        var vectors = [Double](repeating: 0, count: n * n)
        for k in 0..<n { for i in 0..<n { vectors[i * n + k] = m[k * n + i] } }
        return (try tensor([n], w), try tensor([n, n], vectors))
    }

    /// The thin SVD a = U diag(S) Vt: U [m, k], S [k] (descending), Vt [k, n], k = min(m, n),
    /// like numpy.linalg.svd(a, full_matrices=False).
    public static func svd(_ a: Tensor) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        let (m, n, values) = try matrix(a, "svd")
        guard m > 0, n > 0 else { throw TensorError("svd: the matrix is empty (\(formatShape(a.shape)))") }
        guard m * n <= 50_000_000 else { throw TensorError("svd: \(formatShape(a.shape)) is too large for a dense SVD") }
        let k = Swift.min(m, n)
        // The row-major buffer is a^T (n x m) in column-major: a^T = U' S V'^T gives U = V', Vt = U'^T.
        var buffer = values
        var rows = Int32(n), cols = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(k), info: Int32 = 0
        var s = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: n * k)
        var vt = [Double](repeating: 0, count: k * m)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var workSize = 0.0, query: Int32 = -1
        dgesdd_("S", &rows, &cols, &buffer, &lda, &s, &u, &ldu, &vt, &ldvt, &workSize, &query, &iwork, &info, 1)
        guard info == 0 else { throw TensorError("svd: LAPACK dgesdd workspace query failed (info \(info))") }
        var lwork = Int32(workSize)
        var work = [Double](repeating: 0, count: Int(lwork))
        dgesdd_("S", &rows, &cols, &buffer, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw TensorError("svd: LAPACK dgesdd did not converge (info \(info))") }
        // vt' (k x m, column-major) read row-major is [m, k] = U; u' (n x k) read row-major is [k, n] = Vt.
        return (try tensor([m, k], vt), try tensor([k], s), try tensor([k, n], u))
    }
}
