import Foundation
@testable import MPM
import Tensors
import XCTest

/// The vertex-finding and track-identification metrics: the reference's pair-based ARI against
/// a direct implementation of its formula (Bell numbers by brute force) on small hand cases,
/// connected components, per-set scores of a packed batch, and balanced accuracy per group.
final class VertexingMetricsTests: XCTestCase {
    private func floats(_ v: [Double]) throws -> Tensor { try Tensor(v.map(Float.init), shape: [v.count]) }
    private func ints(_ v: [Int64]) throws -> Tensor { try Tensor(v, shape: [v.count]) }

    /// Bell numbers by the recurrence B(n+1) = sum_k C(n,k) B(k), in exact integers.
    private func bell(_ n: Int) -> Double {
        var b: [Double] = [1]
        for m in 0..<n {
            var s = 0.0, c = 1.0
            for k in 0...m { s += c * b[k]; c = c * Double(m - k) / Double(k + 1) }
            b.append(s)
        }
        return b[n]
    }

    /// The reference formula written out directly.
    private func direct(_ together: [Bool], _ truth: [Int64]) -> Double {
        let n = truth.count
        var agree = 0, same = 0, k = 0
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) {
            let t = truth[i] == truth[j]
            if t { same += 1 }
            if t == together[k] { agree += 1 }
            k += 1
        } }
        let pairs = Double(n * (n - 1) / 2)
        let ri = Double(agree) / pairs, g = Double(same) / pairs, b = bell(n - 1) / bell(n)
        let e = b * g + (1 - b) * (1 - g)
        return (ri - e) / (1 - e)
    }

    func testBellRatios() {
        let r = Metrics.bellRatios(12)
        for n in 1...12 { XCTAssertEqual(r[n - 1], bell(n - 1) / bell(n), accuracy: 1e-12, "n = \(n)") }
        XCTAssert(Metrics.bellRatios(400).allSatisfy { $0 > 0 && $0 < 1.0001 && $0.isFinite }, "no overflow for large n")
    }

    func testReferenceARIOnHandCases() throws {
        let cases: [([Bool], [Int64])] = [
            ([true], [0, 0]),                                   // n = 2, right
            ([false], [0, 0]),                                  // n = 2, wrong
            ([false], [0, 1]),
            ([true, false, false], [0, 0, 1]),                  // n = 3, perfect
            ([true, true, false], [0, 0, 1]),                   // one wrong pair
            ([false, false, false, true, false, true], [0, 1, 1, 2]),
            ([true, true, true, true, true, true], [3, 3, 3, 3]),
        ]
        for (together, truth) in cases {
            let scores = try floats(together.map { $0 ? 1.5 : -0.5 })
            let got = try Metrics.referenceAdjustedRandIndex(pairScores: scores, truth: try ints(truth))
            XCTAssertEqual(got, direct(together, truth), accuracy: 1e-12, "\(together) \(truth)")
        }
        // n = 3 perfect by hand: b = B(2)/B(3) = 2/5, g = 1/3, E = 2/15 + 2/5 = 8/15, ARI = 1.
        XCTAssertEqual(try Metrics.referenceAdjustedRandIndex(pairScores: try floats([1, -1, -1]), truth: try ints([0, 0, 1])), 1, accuracy: 1e-12)
        // n = 2 wrong: RI = 0, b = 1/2, E = 1/2, ARI = -1.
        XCTAssertEqual(try Metrics.referenceAdjustedRandIndex(pairScores: try floats([-1]), truth: try ints([4, 4])), -1, accuracy: 1e-12)
        // n = 1: no pairs, defined as 1.
        XCTAssertEqual(try Metrics.referenceAdjustedRandIndex(pairScores: try Tensor.zeros([0]), truth: try ints([7])), 1)
        XCTAssertThrowsError(try Metrics.referenceAdjustedRandIndex(pairScores: try floats([1, 1]), truth: try ints([0, 0, 1]))) {
            XCTAssert("\($0)".contains("3 points, so 3 pairs, but pair_scores give 2"))
        }
    }

    func testConnectedComponentsCloseTransitively() throws {
        // 4 points: (0,1) and (1,3) together -> {0,1,3}, {2}
        let c = try Metrics.connectedComponents(pairScores: try floats([1, -1, -1, -1, 1, -1]), points: 4)
        XCTAssertEqual(c.toInt64Array(), [0, 0, 1, 0])
        XCTAssertEqual(try Metrics.connectedComponents(pairScores: try Tensor.zeros([0]), points: 1, base: 1).toInt64Array(), [1])
        // A count whose pair number overflows is an error, not a trap (found by tools/fuzz_calls.lua).
        XCTAssertThrowsError(try Metrics.connectedComponents(pairScores: try floats([1]), points: 1_000_000_000_000_000_000)) {
            XCTAssert("\($0)".contains("pairs, but pair_scores give 1"), "\($0)")
        }
    }

    func testPairPartitionPerSet() throws {
        // sets of 3, 1, 2 points
        let offsets = try ints([0, 3, 4, 6]), truth = try ints([0, 0, 1, 5, 2, 2])
        let scores = try floats([1, -1, 1, /* set 2 has no pair */ -1])
        let r = try Metrics.pairPartition(pairScores: scores, truth: truth, offsets: offsets)
        // set 1: (0,1) and (1,2) together -> one cluster {0,1,2}; truth {0,1},{2}
        XCTAssertEqual(r.clusters, [0, 0, 0, 0, 0, 1])
        XCTAssertEqual(r.ari[0], Metrics.adjustedRandIndex([0, 0, 1], [0, 0, 0]), accuracy: 1e-12)
        XCTAssertEqual(r.ariReference[0], direct([true, false, true], [0, 0, 1]), accuracy: 1e-12)
        XCTAssertEqual(r.ari[1], 1)
        XCTAssertEqual(r.ariReference[1], 1)
        XCTAssertEqual(r.ari[2], 0, accuracy: 1e-12, "one cluster truth, split prediction")
        XCTAssertEqual(r.ariReference[2], -1, accuracy: 1e-12)
        XCTAssertThrowsError(try Metrics.pairPartition(pairScores: try floats([1]), truth: truth, offsets: offsets)) {
            XCTAssert("\($0)".contains("hold 4 pairs"))
        }
    }

    func testBalancedAccuracyByGroupAgainstADirectCount() throws {
        let pred: [Int64] = [0, 1, 1, 2, 0, 0, 3, 1, 2, 2], truth: [Int64] = [0, 1, 0, 2, 0, 1, 3, 1, 2, 0]
        let groups: [Int64] = [5, 5, 5, 5, 7, 7, 7, 7, 7, 9]
        let got = try Metrics.balancedAccuracyByGroup(try ints(pred), try ints(truth), groups: try ints(groups))
        XCTAssertEqual(got.map(\.group), [5, 7, 9])
        XCTAssertEqual(got.map(\.count), [4, 5, 1])
        for g in got {
            var support: [Int64: Int] = [:], hits: [Int64: Int] = [:]
            for i in 0..<pred.count where groups[i] == g.group {
                support[truth[i], default: 0] += 1
                if pred[i] == truth[i] { hits[truth[i], default: 0] += 1 }
            }
            let recalls = support.keys.map { Double(hits[$0] ?? 0) / Double(support[$0]!) }
            XCTAssertEqual(g.value, recalls.reduce(0, +) / Double(recalls.count), accuracy: 1e-12, "group \(g.group)")
        }
        XCTAssertEqual(got[0].value, (0.5 + 1 + 1) / 3, accuracy: 1e-12)
    }
}
