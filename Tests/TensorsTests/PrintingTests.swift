import Foundation
import XCTest
@testable import Tensors

/// A summarised print formats only the elements it shows: a [50000, 128] tensor prints fast.
final class PrintingTests: XCTestCase {
    func testLargePrintIsFastAndSummarised() throws {
        let v = (0..<(50000 * 128)).map { Float($0 % 1000) / 7 }
        let t = try Tensor(v, shape: [50000, 128])
        let start = Date()
        let s = t.description
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertLessThan(elapsed, 1.0, "print of [50000, 128] took \(elapsed) s")
        XCTAssertTrue(s.contains("..."))
        XCTAssertEqual(s.components(separatedBy: "\n").count, 7, "3 rows, ..., 3 rows")
        XCTAssertTrue(s.hasPrefix("tensor([[  0.0000,   0.1429,   0.2857, ..., "), s)  // widths from the shown values (up to 106.1429)
    }

    func testSummarisedWidthsFromShownElementsOnly() throws {
        // A huge hidden value must not widen the shown columns.
        var v = [Float](repeating: 1, count: 2000)
        v[1000] = 123456
        let s = try Tensor(v, shape: [2000]).description
        XCTAssertEqual(s, "tensor([1., 1., 1.,  ..., 1., 1., 1.])".replacingOccurrences(of: ",  ...", with: ", ..."))
    }

    /// Printing reads only the elements it shows, straight from the view: an expanded
    /// [2000000, 64] view (512 MB if copied) prints without allocating a copy of it.
    func testSummarisedPrintCopiesNothing() throws {
        let row = try Tensor((0..<64).map { Float($0) }, shape: [1, 64])
        let view = try row.expand([2_000_000, 64])
        let cacheLimit = Allocator.maxCachedBytes
        defer { Allocator.maxCachedBytes = cacheLimit }
        Allocator.maxCachedBytes = .max  // every freed block stays counted: live + cached only grows
        Allocator.releaseCache()
        let before = Allocator.liveBytes + Allocator.cachedBytes
        let s = view.description
        let grown = Allocator.liveBytes + Allocator.cachedBytes - before
        XCTAssertLessThan(grown, 1 << 20, "printing allocated \(grown) bytes")
        XCTAssertTrue(s.hasPrefix("tensor([[ 0.,  1.,  2., ..., 61., 62., 63.],"), s)
        XCTAssertEqual(s.components(separatedBy: "\n").count, 7)
        // Shown elements of a transposed (non-contiguous) view are read at their own offsets.
        let t = try Tensor((0..<2000).map { Float($0) }, shape: [40, 50]).transpose(0, 1)
        XCTAssertTrue(t.description.hasPrefix("tensor([[   0.,   50.,  100., ..., 1850., 1900., 1950.],"), t.description)
        XCTAssertEqual(Tensor.shownOffsets(shape: [2_000_000, 64], strides: [0, 1], summarize: true).count, 36)
    }

    func testSmallPrintUnchanged() throws {
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).description, "tensor([[1., 2.],\n        [3., 4.]])")
        XCTAssertEqual(try Tensor([1, 22] as [Int64]).description, "tensor([ 1, 22], dtype=int64)")
    }
}
