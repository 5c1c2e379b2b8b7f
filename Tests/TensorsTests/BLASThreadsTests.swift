import XCTest
@testable import Tensors

/// Products split across the kernel threads (Products.gemm: by rows, by columns, with
/// transposed operands, on OpenBLAS and on oneDNN's f32 kernels, and batches of small products
/// one per worker) equal a plain loop.
final class BLASThreadsTests: XCTestCase {
    func testSplitProductsMatchPlainLoop() throws {
        // Large enough to split (> 2^19 multiply-adds): rows of C, columns of C, an odd size, and
        // the shared dimension (a weight gradient's shape: k much longer than m and n); the last
        // two are narrow enough and large enough for oneDNN (Products.route).
        for (m, n, k) in [(300, 70, 64), (20, 900, 64), (129, 129, 40), (24, 40, 3001), (600, 128, 64), (64, 100, 1500)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a0 = try sample(ta ? [k, m] : [m, k], seed: 1), b0 = try sample(tb ? [n, k] : [k, n], seed: 2)
                let a = ta ? try a0.t() : a0, b = tb ? try b0.t() : b0
                let c = try a.matmul(b).toFloatArray()
                let av = a.contiguousData().toFloatArray(), bv = b.contiguousData().toFloatArray()
                var worst: Float = 0
                for i in 0..<m {
                    for j in 0..<n {
                        var s: Double = 0
                        for p in 0..<k { s += Double(av[i * k + p]) * Double(bv[p * n + j]) }
                        worst = Swift.max(worst, Swift.abs(Float(s) - c[i * n + j]))
                    }
                }
                XCTAssertLessThan(worst, 1e-4, "m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb)")
            }
        }
        XCTAssertEqual(BLASCore.threads, 1, "OpenBLAS runs each call on its caller's thread")
    }

    func testWorkInsideARegionRunsWholeOnItsThread() throws {
        XCTAssertFalse(isParallelWorker)
        let iterations = 8
        var nestedOnOwnThread = [Bool](repeating: false, count: iterations)
        var sawMode = [Bool](repeating: true, count: iterations)
        withNoGrad {
            nestedOnOwnThread.withUnsafeMutableBufferPointer { own in
                sawMode.withUnsafeMutableBufferPointer { mode in
                    parallelRegion(iterations: iterations) { i in
                        let me = pthread_self()
                        var pieces = 0, elsewhere = false
                        // Large enough to split anywhere else.
                        parallelFor(1 << 20, work: 1 << 24) { _, _ in
                            pieces += 1
                            if pthread_equal(pthread_self(), me) == 0 { elsewhere = true }
                        }
                        own[i] = pieces == 1 && !elsewhere && isParallelWorker
                        mode[i] = GradMode.isEnabled
                    }
                }
            }
        }
        XCTAssertEqual(nestedOnOwnThread, [Bool](repeating: true, count: iterations))
        XCTAssertEqual(sawMode, [Bool](repeating: false, count: iterations), "workers record as the caller does")
        XCTAssertFalse(isParallelWorker, "the mark is gone once the region ends")
        if kernelThreads > 1 {
            var pieces = 0
            let lock = NSLock()
            parallelFor(1 << 20, work: 1 << 24) { _, _ in lock.lock(); pieces += 1; lock.unlock() }
            XCTAssertGreaterThan(pieces, 1, "outside a region large work is split")
        }
    }

    func testBatchOfSmallProductsMatchesEachProduct() throws {
        let a = try sample([64, 20, 30], seed: 3), b = try sample([64, 30, 20], seed: 4)
        let c = try a.matmul(b)
        for i in [0, 5, 63] {
            assertClose(try c.select(0, i), try a.select(0, i).matmul(b.select(0, i)).toFloatArray(), tol: 1e-6)
        }
    }
}
