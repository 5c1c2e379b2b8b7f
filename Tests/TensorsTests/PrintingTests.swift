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

    func testSmallPrintUnchanged() throws {
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).description, "tensor([[1., 2.],\n        [3., 4.]])")
        XCTAssertEqual(try Tensor([1, 22] as [Int64]).description, "tensor([ 1, 22], dtype=int64)")
    }
}
