import CBLAS
import Foundation

/// The one product layer: every matrix product of the library (linear layers, `matmul`/`bmm`,
/// attention, `cdist`, K-means) is a call to `Products.gemm`, which picks the library and input
/// precision for the shape and the thread's `Precision`, and splits large products across the
/// kernels' threads (BLASThreads.swift: one pool). The rule, from the measured table in
/// docs/architecture.md ("Matrix products"):
///
/// - bf16 asked (`Precision.with(.bf16)`) and available, at least 2^20 multiply-adds: A and B
///   are rounded to bf16 (BF16.swift, one pass each, unless the caller passes an operand it
///   rounded once for several products: Functional.linear) and oneDNN multiplies them with fp32
///   accumulation, ~2x OpenBLAS's sgemm on the training step's shapes. Smaller products
///   (attention's per-(set, head) ones, ~26 x 26 x 32) stay fp32: oneDNN's per-call cost and the
///   rounding pass outweigh its speed there.
/// - fp32, at least 2^22 multiply-adds and one size at most 128 (the narrow projections of the
///   small preset, weight gradients onto 128 columns), on an AVX-512 CPU (where it was measured;
///   elsewhere OpenBLAS stays, so fp32 is never slower than before): oneDNN's f32 kernels, 10-35%
///   faster there. Where OpenBLAS runs AVX2 kernels on an AVX-512 CPU (`BLASCore.runsNarrowerKernels`:
///   OPENBLAS_CORETYPE=Haswell set by the machine), every fp32 product from 2^22 multiply-adds:
///   oneDNN's full-width kernels, 1.4-3.0x OpenBLAS's there on AMD Zen 5.
/// - everything else: OpenBLAS `cblas_sgemm`.
///
/// Each choice is made once per call, on the whole product, so a product's blocks all use the
/// same library: results do not depend on the thread count's split beyond the blocking itself.
///
/// ```swift
/// Products.gemm(transA: false, transB: true, m: rows, n: out, k: inner, alpha: 1, a: x, lda: inner,
///               b: w, ldb: inner, beta: 0, c: y, ldc: out)      // y = x w^T, in this thread's precision
/// ```
public enum Products {
    /// The libraries behind the layer.
    package enum Route: Equatable { case openblas, onednnF32, onednnBF16 }

    /// Below this many multiply-adds a product runs whole: a dispatch costs ~10 us, what an
    /// sgemm of this size takes on one core.
    static let splitThreshold = 1 << 19
    /// From this many multiply-adds bf16 products pay for their rounding pass and oneDNN's call.
    static let bf16Threshold = 1 << 20
    /// oneDNN's f32 kernels beat OpenBLAS's on products this large with a size at most `narrow`.
    static let oneDNNF32Threshold = 1 << 22
    static let narrow = 128
    /// oneDNN's f32 route is taken only on the CPUs it was measured on (AVX-512: Zen 4, Zen 5).
    static let oneDNNF32Measured = CPUFlags.current().avx512 && OneDNN.isUsable
    /// Every shape takes oneDNN's f32 route when OpenBLAS runs narrower kernels than the CPU has.
    package static let oneDNNF32Wide = oneDNNF32Measured && BLASCore.runsNarrowerKernels

    /// Where a product of this shape runs, asked for `precision` (the rule above).
    package static func route(m: Int, n: Int, k: Int, precision: Precision) -> Route {
        let work = Double(m) * Double(n) * Double(k)
        if precision.effective == .bf16 && work >= Double(bf16Threshold) { return .onednnBF16 }
        if work >= Double(oneDNNF32Threshold) && oneDNNF32Measured && (Swift.min(m, n, k) <= narrow || oneDNNF32Wide) {
            return .onednnF32
        }
        return .openblas
    }

    /// Whether a product of this shape asked for `precision` rounds its operands to bf16: where a
    /// caller that uses an operand in several products rounds it once and passes it as `a16` /
    /// `b16` to each.
    package static func roundsToBF16(m: Int, n: Int, k: Int, precision: Precision = .current) -> Bool {
        route(m: m, n: n, k: k, precision: precision) == .onednnBF16
    }

    /// Row-major C[m, n] = alpha op(A) op(B) + beta C, fp32 in and out, in `precision` (the
    /// thread's scope by default; callers whose products must stay exact pass `.fp32`: distances
    /// by expansion cancel). Split across the kernel threads when large: by rows of C (whole rows
    /// of op(A)), by columns (op(B)) when C has few rows, or by the shared dimension when it is
    /// much longer than C is wide or tall (a weight gradient g^T x over all the rows of a batch:
    /// split by rows of C, every worker would pack the whole of x again). Blocks are multiples of
    /// 16, so each one keeps the libraries' kernel tiles. `a16` / `b16`, used only when the
    /// product runs in bf16 (`roundsToBF16`), are A and B already rounded, in op's storage layout
    /// with rows packed densely (A: [m, k], or [k, m] when `transA`; B: [k, n], or [n, k]).
    /// `b` may be nil when `b16` is given and the product runs in bf16 (a caller that kept only
    /// the bf16 copy). `bias` (n floats; alpha 1, beta 0) is added to every row of C: in bf16 by oneDNN as it
    /// writes C, otherwise onto C filled with it first, as before (fp32 stays bit for bit).
    package static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>?, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                             precision: Precision = .current,
                             a16: UnsafePointer<UInt16>? = nil, b16: UnsafePointer<UInt16>? = nil,
                             bias: UnsafePointer<Float>? = nil) {
        precondition(bias == nil || (alpha == 1 && beta == 0), "Products.gemm: a bias needs alpha 1 and beta 0")
        BLASThreads.configure()
        let route = route(m: m, n: n, k: k, precision: precision)
        precondition(b != nil || (b16 != nil && route == .onednnBF16), "Products.gemm: B's fp32 values are needed")
        var beta = beta
        if let bias, route != .onednnBF16 {
            fill(c, ldc: ldc, rows: m, with: bias, n)
            beta = 1
        }
        func sgemm(_ x: Block) {
            if let bias = x.bias {   // oneDNN refused a block it was to add the bias to
                fill(x.c, ldc: x.ldc, rows: x.m, with: bias, x.n)
            }
            func blas(_ b: UnsafePointer<Float>, _ ldb: Int) {
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            Int32(x.m), Int32(x.n), Int32(x.k), alpha, a + offsetA(x, transA, lda), Int32(lda),
                            b + offsetB(x, transB, ldb), Int32(ldb), x.bias == nil ? x.beta : 1, x.c, Int32(x.ldc))
            }
            if let b { blas(b, ldb); return }
            // Only B's bf16 copy was given and oneDNN refused: its exact fp32 values, widened.
            let (rb, cb) = transB ? (n, k) : (k, n)
            let wide = (0..<rb * cb).map { BF16.float(b16![$0]) }
            wide.withUnsafeBufferPointer { blas($0.baseAddress!, cb) }
        }
        switch route {
        case .openblas:
            split(m: m, n: n, k: k, beta: beta, c: c, ldc: ldc, sgemm)
        case .onednnF32:
            split(m: m, n: n, k: k, beta: beta, c: c, ldc: ldc) { x in
                if !OneDNN.gemm(input: .f32, transA: transA, transB: transB, m: x.m, n: x.n, k: x.k, alpha: alpha,
                                a: a + offsetA(x, transA, lda), lda: lda, b: b! + offsetB(x, transB, ldb), ldb: ldb,
                                beta: x.beta, c: x.c, ldc: x.ldc) { sgemm(x) }
            }
        case .onednnBF16:
            // Rounded copies keep each operand's layout, rows packed densely; an operand the
            // caller rounded already is used as it is.
            let (ra, ca) = transA ? (k, m) : (m, k), (rb, cb) = transB ? (n, k) : (k, n)
            let ownA = a16 == nil ? BF16Copy(rows: ra, cols: ca) { BF16.round(a, rows: ra, cols: ca, ld: lda, into: $0) } : nil
            let ownB = b16 == nil ? BF16Copy(rows: rb, cols: cb) { BF16.round(b!, rows: rb, cols: cb, ld: ldb, into: $0) } : nil
            let pa = a16 ?? UnsafePointer(ownA!.bits), pb = b16 ?? UnsafePointer(ownB!.bits)
            withExtendedLifetime((ownA, ownB)) {
                split(m: m, n: n, k: k, beta: beta, c: c, ldc: ldc, bias: bias) { x in
                    if !OneDNN.gemm(input: .bf16, transA: transA, transB: transB, m: x.m, n: x.n, k: x.k, alpha: alpha,
                                    a: pa + offsetA(x, transA, ca), lda: ca, b: pb + offsetB(x, transB, cb), ldb: cb,
                                    beta: x.beta, c: x.c, ldc: x.ldc, bias: x.bias) { sgemm(x) }
                }
            }
        }
    }

    /// One block of a split product: rows `row..<row+m` of C, columns `col..<col+n`, depth
    /// `depth..<depth+k`, written to `c` (C itself or a partial), plus `bias` (its n columns)
    /// where the block adds it.
    struct Block {
        let row, col, depth, m, n, k: Int
        let beta: Float
        let c: UnsafeMutablePointer<Float>
        let ldc: Int
        var bias: UnsafePointer<Float>? = nil
    }

    /// Sets each of `rows` rows of C (`ldc` apart) to the n floats of `bias`, across the kernel
    /// threads when large.
    package static func fill(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, with bias: UnsafePointer<Float>, _ n: Int) {
        parallelFor(rows, work: rows * Swift.max(n, 1)) { lo, hi in
            for r in lo..<hi { (c + r * ldc).update(from: bias, count: n) }
        }
    }

    /// Elements from A's start to op(A)[row, depth] of a block.
    @inline(__always) static func offsetA(_ x: Block, _ trans: Bool, _ ld: Int) -> Int {
        trans ? x.depth * ld + x.row : x.row * ld + x.depth
    }

    /// Elements from B's start to op(B)[depth, col] of a block.
    @inline(__always) static func offsetB(_ x: Block, _ trans: Bool, _ ld: Int) -> Int {
        trans ? x.col * ld + x.depth : x.depth * ld + x.col
    }

    /// Runs `run` on the blocks of C[m, n] += op(A) op(B) (see `gemm`), on the kernel threads.
    private static func split(m: Int, n: Int, k: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                              bias: UnsafePointer<Float>? = nil, _ run: (Block) -> Void) {
        let threads = kernelThreads
        let whole = Block(row: 0, col: 0, depth: 0, m: m, n: n, k: k, beta: beta, c: c, ldc: ldc, bias: bias)
        let work = Double(m) * Double(n) * Double(k)
        guard parallelPieces(2, work: work, threshold: Double(splitThreshold)) > 1 else { run(whole); return }
        if k >= 2 * Swift.max(m, n) {
            // Worker 0 adds its part into C with the caller's beta; the others write partial
            // products that are added to C afterwards, always in the same order.
            let step = Swift.max(16, ((k + threads - 1) / threads + 15) / 16 * 16)
            let parts = (k + step - 1) / step
            let partials = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, (parts - 1) * m * n))
            defer { partials.deallocate() }
            parallelRegion(iterations: parts) { p in
                let lo = p * step, len = Swift.min(k, lo + step) - lo
                run(p == 0 ? Block(row: 0, col: 0, depth: lo, m: m, n: n, k: len, beta: beta, c: c, ldc: ldc, bias: bias)
                    : Block(row: 0, col: 0, depth: lo, m: m, n: n, k: len, beta: 0, c: partials + (p - 1) * m * n, ldc: n))
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
        if parts <= 1 { run(whole); return }
        parallelRegion(iterations: parts) { p in
            let lo = p * step, len = Swift.min(extent, lo + step) - lo
            guard len > 0 else { return }
            run(byRows ? Block(row: lo, col: 0, depth: 0, m: len, n: n, k: k, beta: beta, c: c + lo * ldc, ldc: ldc, bias: bias)
                : Block(row: 0, col: lo, depth: 0, m: m, n: len, k: k, beta: beta, c: c + lo, ldc: ldc, bias: bias.map { $0 + lo }))
        }
    }
}
