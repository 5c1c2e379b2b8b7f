import CCPU
import Foundation

/// The kernels' one pool of threads (`DispatchQueue.concurrentPerform`) and the rule that keeps
/// it from fighting itself: work runs in pieces only on a thread that is not already one of a
/// fan-out's workers. Inside a worker every kernel and product runs whole on that thread, since
/// the fan-out already holds every core; splitting again only queues pieces behind each other.
/// This is what lets a caller hand out whole sub-problems (a block of sets through a whole
/// transformer stack, a (set, head) pair of attention) and have everything below stay serial.
///
/// ```swift
/// parallelFor(rows, work: rows * n) { lo, hi in for r in lo..<hi { ... } }
/// parallelRegion(iterations: blocks) { b in ... }   // each block's kernels run on one thread
/// ```

/// Number of worker threads for parallel kernels: the cores this process may run on. A job bound
/// to 4 cores of a 64-core node (cpuset, taskset, mpirun) would otherwise split for 64 threads.
let kernelThreads: Int = {
    let usable = Int(mpm_cpu_usable_count())
    return Swift.max(1, usable > 0 ? usable : ProcessInfo.processInfo.activeProcessorCount)
}()
/// Below this many elements a kernel runs on the calling thread: dispatch costs more than it saves.
let parallelThreshold = 1 << 16

/// Marks the threads that are running one of a fan-out's iterations (non-nil while they do).
private let workerKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Whether this thread is running an iteration of `parallelRegion` (or of any kernel's fan-out).
var isParallelWorker: Bool { pthread_getspecific(workerKey) != nil }

/// How many pieces a job over `count` items of `work` element operations in all is split into:
/// up to `perThread` per kernel thread (slack for uneven pieces), capped by `count`; 1 when the
/// work is below `threshold`, on one core, or on a thread that is already a worker.
@inline(__always)
package func parallelPieces(_ count: Int, work: Double, threshold: Double = Double(parallelThreshold), perThread: Int = 4) -> Int {
    if work < threshold || kernelThreads == 1 || count < 2 || isParallelWorker { return 1 }
    return Swift.min(count, kernelThreads * perThread)
}

/// Runs `body(i)` for every i in 0..<iterations on the kernel threads and returns when all are
/// done. Each iteration runs as a worker (what it calls runs whole on its thread) with the
/// caller's gradient mode and product precision (GradMode and Precision are per thread).
package func parallelRegion(iterations: Int, _ body: (Int) -> Void) {
    if iterations <= 0 { return }
    let recording = GradMode.isEnabled, precision = Precision.current
    DispatchQueue.concurrentPerform(iterations: iterations) { i in
        let outer = pthread_getspecific(workerKey)
        pthread_setspecific(workerKey, UnsafeRawPointer(bitPattern: 1))
        GradMode.push(enabled: recording)
        Precision.push(precision)
        body(i)
        Precision.pop()
        GradMode.pop()
        pthread_setspecific(workerKey, outer)
    }
}

/// Runs `body(chunkStart, chunkEnd)` over `0..<count`, split across threads when `work` is large.
@inline(__always)
package func parallelFor(_ count: Int, work: Int, _ body: (Int, Int) -> Void) {
    forChunks(count, parallelPieces(count, work: Double(work)), body)
}

/// Runs `body(lo, hi)` over contiguous ranges of `0..<count` of at least `grain` items each, at
/// most one per kernel thread (for loops whose items cost about the same: preprocessing rows,
/// spline elements, K-means rows).
package func parallelFor(_ count: Int, grain: Int, _ body: (Int, Int) -> Void) {
    forChunks(count, Swift.min(parallelPieces(count, work: Double(count), threshold: 0, perThread: 1), count / Swift.max(grain, 1)), body)
}

/// `body(lo, hi)` over `chunks` equal contiguous ranges of `0..<count`: inline for one (or none).
@inline(__always)
private func forChunks(_ count: Int, _ chunks: Int, _ body: (Int, Int) -> Void) {
    if chunks <= 1 {
        if count > 0 { body(0, count) }
        return
    }
    parallelRegion(iterations: chunks) { c in body(c * count / chunks, (c + 1) * count / chunks) }
}
