import CBLAS
import Foundation

/// One thread pool for everything: OpenBLAS runs every call on the calling thread
/// (`openblas_set_num_threads(1)`, once, before the first product), and a large product is split
/// into row (or column) blocks that run on the kernels' own threads (`parallelRegion`, as every
/// parallel kernel here; inside one of its workers a product runs whole). OpenBLAS's own pool otherwise spins in
/// `sched_yield` after each call for its THREAD_TIMEOUT, taking the cores from the kernels'
/// workers that run next: on 2 cores that was ~23% of a training step (docs/architecture.md,
/// "BLAS kernels and threads", has the measurements).
public enum BLASThreads {
    private static let configured: Void = { openblas_set_num_threads(1) }()

    /// Sets OpenBLAS to one thread per call (idempotent, cheap after the first call).
    package static func configure() { _ = configured }

    /// The threads of the one pool (the kernels' workers) that large products are split over.
    public static var kernelThreadCount: Int { kernelThreads }

    /// Below this many multiply-adds a product runs whole: a dispatch costs ~10 us, what an
    /// sgemm of this size takes on one core.
    static let splitThreshold = 1 << 19

    /// Row-major C[m, n] = alpha * op(A) op(B) + beta * C, split across the kernel threads when
    /// large: by rows of C (whole rows of op(A)), by columns (op(B)) when C has few rows, or by
    /// the shared dimension when it is much longer than C is wide or tall (a weight gradient
    /// g^T x over all the rows of a batch: split by rows of C, every worker would pack the whole
    /// of x again). Blocks are multiples of 16, so each one keeps OpenBLAS's kernel tiles.
    package static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                              a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        configure()
        func run(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ beta: Float,
                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
        let threads = kernelThreads
        let work = Double(m) * Double(n) * Double(k)
        guard parallelPieces(2, work: work, threshold: Double(splitThreshold)) > 1 else { run(m, n, k, a, b, beta, c, ldc); return }
        if k >= 2 * Swift.max(m, n) {
            // Worker 0 adds its part into C with the caller's beta; the others write partial
            // products that are added to C afterwards, always in the same order.
            let step = Swift.max(16, ((k + threads - 1) / threads + 15) / 16 * 16)
            let parts = (k + step - 1) / step
            let partials = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, (parts - 1) * m * n))
            defer { partials.deallocate() }
            parallelRegion(iterations: parts) { p in
                let lo = p * step, len = Swift.min(k, lo + step) - lo
                let ap = a + (transA ? lo * lda : lo), bp = b + (transB ? lo : lo * ldb)
                if p == 0 { run(m, n, len, ap, bp, beta, c, ldc) } else { run(m, n, len, ap, bp, 0, partials + (p - 1) * m * n, n) }
            }
            for p in 1..<Swift.max(parts, 1) {
                let part = partials + (p - 1) * m * n
                for i in 0..<m { let row = c + i * ldc, add = part + i * n; for j in 0..<n { row[j] += add[j] } }
            }
            return
        }
        let byRows = m >= n || m >= 32 * threads
        let extent = byRows ? m : n
        let block = (extent + threads - 1) / threads
        let step = Swift.max(16, (block + 15) / 16 * 16)
        let parts = (extent + step - 1) / step
        if parts <= 1 { run(m, n, k, a, b, beta, c, ldc); return }
        parallelRegion(iterations: parts) { p in
            let lo = p * step, len = Swift.min(extent, lo + step) - lo
            guard len > 0 else { return }
            if byRows {
                run(len, n, k, a + (transA ? lo : lo * lda), b, beta, c + lo * ldc, ldc)
            } else {
                run(m, len, k, a, b + (transB ? lo * ldb : lo), beta, c + lo, ldc)
            }
        }
    }
}
