import CBLAS
import Foundation

/// One thread pool for everything: OpenBLAS runs every call on the calling thread
/// (`openblas_set_num_threads(1)`, once, before the first product), as oneDNN does
/// (OneDNN.swift), and a large product is split into blocks that run on the kernels' own threads
/// (Products.swift, `parallelRegion` as every parallel kernel here; inside one of its workers a
/// product runs whole). OpenBLAS's own pool otherwise spins in `sched_yield` after each call for
/// its THREAD_TIMEOUT, taking the cores from the kernels' workers that run next: on 2 cores that
/// was ~23% of a training step (docs/architecture.md, "BLAS threads", has the measurements).
public enum BLASThreads {
    private static let configured: Void = { openblas_set_num_threads(1) }()

    /// Sets OpenBLAS to one thread per call (idempotent, cheap after the first call).
    package static func configure() { _ = configured }

    /// The threads of the one pool (the kernels' workers) that large products are split over.
    public static var kernelThreadCount: Int { kernelThreads }
}
