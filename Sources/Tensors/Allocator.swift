#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Size-bucketed caching allocator for tensor storage. A training step allocates and frees the
/// same sizes every iteration; keeping freed blocks per bucket avoids malloc/free (and page
/// faults on fresh memory) in the hot loop. Thread-safe: the data loader thread allocates too.
///
/// ```swift
/// let before = Allocator.liveBytes
/// do { let t = Tensor.zeros([1024]); _ = t }   // liveBytes grows by 4096 while t lives
/// Allocator.releaseCache()
/// ```
public enum Allocator {
    /// Alignment of every block: a cache line, and enough for any SIMD load.
    public static let alignment = 64

    private static let lock = NSLock()
    nonisolated(unsafe) private static var freeLists: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var live: Int64 = 0
    nonisolated(unsafe) private static var cached: Int64 = 0

    /// Blocks beyond this many cached bytes go straight back to the system, so a burst of
    /// large temporaries does not pin memory forever: a quarter of the machine's memory, at
    /// least 2 GiB. A paper-sized training step frees ~3 GB each step; with a fixed 2 GiB the
    /// rest went back to the system and came back as fresh pages, the kernel zeroing them (7%
    /// of the step in `perf`).
    nonisolated(unsafe) public static var maxCachedBytes: Int64 =
        Swift.max(1 << 31, Int64(clamping: ProcessInfo.processInfo.physicalMemory / 4))

    /// Bytes held by live storages (bucket-rounded). The Lua host drives its collector with it.
    public static var liveBytes: Int64 { lock.lock(); defer { lock.unlock() }; return live }

    /// Bytes held in the cache, free for reuse.
    public static var cachedBytes: Int64 { lock.lock(); defer { lock.unlock() }; return cached }

    /// Returns every cached block to the system.
    public static func releaseCache() {
        lock.lock()
        let lists = freeLists
        freeLists = [:]
        cached = 0
        lock.unlock()
        for (_, blocks) in lists { for p in blocks { free(p) } }
    }

    /// Rounds a request up to its bucket: 64 bytes minimum, then four buckets per power of two
    /// (2^k, 1.25*2^k, 1.5*2^k, 1.75*2^k) so rounding wastes at most 25%.
    static func bucket(_ bytes: Int) -> Int {
        if bytes <= 256 { return Swift.max(64, (bytes + 63) & ~63) }
        let high = Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount   // floor(log2(bytes-1))
        let base = 1 << high
        let quarter = base >> 2
        let steps = (bytes - base + quarter - 1) / quarter
        return base + steps * quarter
    }

    /// Allocates a block of at least `bytes` bytes; returns the pointer and its bucket size.
    static func allocate(_ bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        let size = bucket(bytes)
        lock.lock()
        // Pop in place: `if var list = freeLists[size]` would copy the whole list on every
        // allocation (the dictionary still holds it), a memmove of 2 MB per op once a collection
        // has returned ~250k blocks to one bucket.
        if let p = freeLists[size]?.popLast() {
            cached -= Int64(size)
            live += Int64(size)
            lock.unlock()
            return (p, size)
        }
        live += Int64(size)
        lock.unlock()
        var raw: UnsafeMutableRawPointer?
        if posix_memalign(&raw, alignment, size) != 0 || raw == nil {
            // Out of memory: drop the cache and try once more before giving up.
            releaseCache()
            if posix_memalign(&raw, alignment, size) != 0 || raw == nil {
                fatalError("Allocator: out of memory allocating \(size) bytes")
            }
        }
        return (raw!, size)
    }

    /// Returns a block to its bucket (or to the system when the cache is full).
    static func deallocate(_ p: UnsafeMutableRawPointer, size: Int) {
        lock.lock()
        live -= Int64(size)
        if cached + Int64(size) <= maxCachedBytes {
            freeLists[size, default: []].append(p)
            cached += Int64(size)
            lock.unlock()
        } else {
            lock.unlock()
            free(p)
        }
    }
}
