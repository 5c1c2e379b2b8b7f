import Tensors
import Foundation

/// Jet four-momenta summed from constituents. Constituents are treated as massless with
/// (pt, eta = deta, phi = dphi): shifting every eta by the jet's eta is a boost along the beam
/// and shifting every phi a rotation, so pt and mass come out exactly as from absolute
/// coordinates, and eta, phi come out relative to the stored jet axis (near 0).
///
/// ```swift
/// let k = JetKinematics.sum(batch)
/// k[0].mass      // GeV, for physical (not preprocessed) features
/// ```
public struct JetKinematics: Equatable, Sendable {
    public var pt: Double
    public var eta: Double
    public var phi: Double
    public var mass: Double
    public var count: Int

    /// One entry per jet of `batch` (its features must be in physical units).
    public static func sum(_ batch: SetBatch) -> [JetKinematics] {
        batch.features.withElements(as: Float.self) { f in
            sum(features: f, offsets: batch.offsetsArray)
        }
    }

    /// One entry per jet of packed rows `f` of `columns` features whose first three are pt,
    /// deta, dphi (physical units), jet j owning rows `o[j]..<o[j + 1]`.
    public static func sum(features f: UnsafeBufferPointer<Float>, offsets o: [Int],
                           columns: Int = JetSchema.featureCount) -> [JetKinematics] {
        (0..<(o.count - 1)).map { j in
            var px = 0.0, py = 0.0, pz = 0.0, e = 0.0
            for i in o[j]..<o[j + 1] {
                let pt = Double(f[i * columns]), eta = Double(f[i * columns + 1]), phi = Double(f[i * columns + 2])
                px += pt * cos(phi)
                py += pt * sin(phi)
                pz += pt * sinh(eta)
                e += pt * cosh(eta)
            }
            let pt = (px * px + py * py).squareRoot()
            let p = (pt * pt + pz * pz).squareRoot()
            let m2 = e * e - p * p
            let eta = pt > 0 ? asinh(pz / pt) : 0
            return JetKinematics(pt: pt, eta: eta, phi: pt > 0 ? atan2(py, px) : 0,
                                 mass: m2 > 0 ? m2.squareRoot() : 0, count: o[j + 1] - o[j])
        }
    }
}
