import XCTest
@testable import Tensors

/// The caching allocator under a long free list (docs/reliability.md, "Allocator").
final class AllocatorTests: XCTestCase {
    override func tearDown() { Allocator.releaseCache() }

    /// Allocates and frees one 64-byte block `count` times; returns seconds per pair, or nil
    /// when `budget` seconds ran out first (a near-hang is reported instead of waited for).
    private func pairCost(_ count: Int, budget: Double = .infinity) -> Double? {
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            let (p, size) = Allocator.allocate(48)
            p.storeBytes(of: i, as: Int.self)
            Allocator.deallocate(p, size: size)
            if i & 1023 == 1023 {
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if elapsed > budget { return nil }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(count)
    }

    /// After a collection returns ~250k blocks to one bucket, each small allocation must still
    /// cost about what it did with a short free list (it used to copy the whole list: a memmove
    /// of 2 MB per op, which made Linear forward+backward 28x slower).
    func testSmallAllocationsStayFastAfterALargeFree() throws {
        Allocator.releaseCache()
        _ = pairCost(10_000)                                    // warm up
        let before = try XCTUnwrap(pairCost(100_000))

        let blocks = (0..<250_000).map { _ in Allocator.allocate(48) }
        for (p, size) in blocks { Allocator.deallocate(p, size: size) }
        XCTAssertGreaterThanOrEqual(Allocator.cachedBytes, 250_000 * 64)

        let count = 1_000_000
        let limit = 3.0
        // Give up once the run is clearly over the bound, instead of taking minutes to fail.
        let after = pairCost(count, budget: max(before * Double(count) * limit * 2, 0.5))
        let ratio = after.map { $0 / before } ?? .infinity
        print(String(format: "allocator: %.1f ns per alloc/free with a short free list, %.1f ns "
                     + "with 250k cached blocks (ratio %.2f)", before * 1e9, (after ?? .nan) * 1e9, ratio))
        XCTAssertLessThan(ratio, limit, "a small allocation got \(ratio)x slower after a large free")
    }

    /// Blocks come back from the cache (same bucket, no malloc) and live blocks never alias.
    func testFreedBlocksAreReusedAndLiveBlocksAreDistinct() throws {
        Allocator.releaseCache()
        let live0 = Allocator.liveBytes
        let first = (0..<1000).map { _ in Allocator.allocate(100) }
        XCTAssertEqual(Set(first.map { $0.0 }).count, 1000)
        XCTAssert(first.allSatisfy { $0.1 == 128 && Int(bitPattern: $0.0) % Allocator.alignment == 0 })
        XCTAssertEqual(Allocator.liveBytes - live0, 1000 * 128)
        for (p, size) in first { Allocator.deallocate(p, size: size) }
        XCTAssertEqual(Allocator.liveBytes, live0)
        XCTAssertEqual(Allocator.cachedBytes, 1000 * 128)

        // The same bucket is served from the cache: the same 1000 blocks, none handed out twice.
        let second = (0..<1000).map { _ in Allocator.allocate(120) }
        XCTAssertEqual(Set(second.map { $0.0 }), Set(first.map { $0.0 }))
        XCTAssertEqual(Allocator.cachedBytes, 0)
        for (i, (p, _)) in second.enumerated() { p.storeBytes(of: i, as: Int.self) }
        for (i, (p, _)) in second.enumerated() { XCTAssertEqual(p.load(as: Int.self), i) }

        // Another bucket does not take them.
        for (p, size) in second { Allocator.deallocate(p, size: size) }
        let other = Allocator.allocate(1000)
        XCTAssertEqual(other.1, 1024)
        XCTAssertFalse(Set(first.map { $0.0 }).contains(other.0))
        XCTAssertEqual(Allocator.cachedBytes, 1000 * 128)
        Allocator.deallocate(other.0, size: other.1)
    }
}
