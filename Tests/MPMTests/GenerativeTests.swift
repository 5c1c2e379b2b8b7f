import Foundation
@testable import MPM
import Tensors
import XCTest

/// The generative metrics' pieces that lua/tests/generative.lua can only check through jetnet's
/// random resamplings: the bounded line fit of FPD (against scipy's curve_fit), W1 and the
/// Frechet distance by hand, and the halves of `evaluate`.
final class GenerativeTests: XCTestCase {
    /// scipy.optimize.curve_fit(a + b x, bounds=([0, 0], [inf, inf])) on the same points: an
    /// interior fit, one on a = 0 and one on b = 0 (values and errors printed by scipy).
    func testNonNegativeLineMatchesCurveFit() {
        let x: [Double] = [1, 2, 3, 4]
        for (y, a, error) in [([2.1, 3.9, 6.2, 7.8], 0.15, 0.2479919353527448),
                              ([1, 3, 5, 7.5], 0, 0.9151502608861558),
                              ([5, 4, 3.5, 2], 3.625, 1.875)] {
            let fit = Generative.nonNegativeLine(x: x, y: y)
            XCTAssertEqual(fit.value, a, accuracy: 1e-9, "\(y)")
            XCTAssertEqual(fit.error, error, accuracy: 1e-9, "\(y)")
        }
    }

    /// W1 of [0, 1, 3] and [5, 6, 8]: every point moves by 5. Of [0, 0, 1] and [0, 1, 1]: a
    /// third of the mass moves by 1.
    func testWassersteinByHand() throws {
        XCTAssertEqual(try Generative.wasserstein1([0, 1, 3], [5, 6, 8]), 5, accuracy: 1e-12)
        XCTAssertEqual(try Generative.wasserstein1([0, 0, 1], [1, 1, 0]), 1.0 / 3, accuracy: 1e-12)
        XCTAssertThrowsError(try Generative.wasserstein1([], [1]))
    }

    /// A shift by d in every one of F features: the covariances cancel, leaving F d^2.
    func testFrechetDistanceOfAShift() throws {
        let rows = (0..<50).flatMap { i in [sin(Double(i)), cos(Double(3 * i)), Double(i % 7)] }
        let x = Generative.FeatureMatrix(rows: 50, columns: 3, values: rows)
        let y = Generative.FeatureMatrix(rows: 50, columns: 3, values: rows.map { $0 + 2 })
        XCTAssertEqual(try Generative.frechetDistance(x, x), 0, accuracy: 1e-9)
        XCTAssertEqual(try Generative.frechetDistance(x, y), 12, accuracy: 1e-9)
    }

    /// Five jets: the first two are the reference, the last three the compared half; the
    /// particle selection is renumbered inside each half.
    func testHalvesKeepTheirParticles() {
        let features: [Float] = (0..<10).flatMap { i -> [Float] in [Float(i + 1), 0, 0] }
        let sample = Generative.Sample(features: features, columns: 3, offsets: [0, 2, 4, 6, 8, 10], particles: [1, 5, 9])
        let (first, second) = sample.halves
        XCTAssertEqual(first.offsets, [0, 2, 4])
        XCTAssertEqual(first.particleValues(0), [2])
        XCTAssertEqual(second.offsets, [0, 2, 4, 6])
        XCTAssertEqual(second.particleValues(0), [6, 10])
    }
}
