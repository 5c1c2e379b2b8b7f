import Foundation

/// Jet-level features for FPD and KPD: energy-flow polynomials (Komiske, Metodiev, Thaler), the
/// features jetnet's `get_fpd_kpd_jet_features` computes with the energyflow library.
extension Generative {
    /// The names of the columns of `efps`, in energyflow's order of the d <= 2 set.
    public static let efpNames = ["sum pt", "edge", "double edge", "wedge", "edge squared"]

    /// The energy-flow polynomials of degree d <= 2 of every jet, as
    /// `jetnet.utils.efps(jets, efpset_args=[("d<=", 2)])` computes them (energyflow's
    /// hadronic measure, beta = 1, kappa = 1, not normalised), with z_i = pt_i and
    /// theta_ij = sqrt(deta^2 + dphi^2), dphi wrapped into [0, pi]: sum_i z_i, sum_ij z_i z_j
    /// theta_ij, sum_ij z_i z_j theta_ij^2, sum_ijk z_i z_j z_k theta_ij theta_ik, and the
    /// square of the second. jetnet recommends the 36 of d <= 4; the ones of d <= 2 cost
    /// O(n^2) per jet and already tell the jets' spread of energy, which is what a
    /// reconstruction that collapses to the mean gets wrong. A matrix [B, 5].
    ///
    /// ```swift
    /// let features = Generative.efps(sample)   // features.values[j * 5 + 1]: jet j's "edge"
    /// ```
    public static func efps(_ sample: Sample) -> FeatureMatrix {
        let f = sample.features, c = sample.columns, o = sample.offsets
        var out = [Double](repeating: 0, count: sample.jets * 5)
        for j in 0..<sample.jets {
            var sum = 0.0, edge = 0.0, doubleEdge = 0.0, wedge = 0.0
            for i in o[j]..<o[j + 1] {
                let zi = Double(f[i * c]), yi = Double(f[i * c + 1]), phi = Double(f[i * c + 2])
                sum += zi
                // Row i of z_j theta_ij and z_j theta_ij^2; the diagonal (theta = 0) adds nothing.
                var row = 0.0, rowSquared = 0.0
                for k in o[j]..<o[j + 1] where k != i {
                    let dy = yi - Double(f[k * c + 1])
                    let dphi = Double.pi - Swift.abs(Swift.abs(phi - Double(f[k * c + 2])) - Double.pi)
                    let squared = dy * dy + dphi * dphi
                    let zk = Double(f[k * c])
                    row += zk * squared.squareRoot()
                    rowSquared += zk * squared
                }
                edge += zi * row
                doubleEdge += zi * rowSquared
                wedge += zi * row * row
            }
            out.replaceSubrange((j * 5)..<(j * 5 + 5), with: [sum, edge, doubleEdge, wedge, edge * edge])
        }
        return FeatureMatrix(rows: sample.jets, columns: 5, values: out)
    }
}
