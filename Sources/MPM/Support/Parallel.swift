import Foundation

/// Splits 0..<count into contiguous ranges of at least `grain` items and runs `body` on them
/// concurrently (one range per core at most). Small counts run inline on the caller's thread.
///
/// ```swift
/// parallelChunks(n, grain: 4096) { range in for i in range { out[i] = f(i) } }
/// ```
func parallelChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = Swift.min(cores, Swift.max(1, count / Swift.max(grain, 1)))
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let size = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = c * size, hi = Swift.min(count, lo + size)
        if lo < hi { body(lo..<hi) }
    }
}
