import Foundation

/// x + gamma * y with gamma per channel (a residual branch through LayerScale) in one pass. The
/// composite wrote gamma * y to a temporary and read it back for the add; backward is the same
/// work either way (gx = g, gy = g * gamma, ggamma = column sums of g * y).

extension Functional {
    /// x + gamma * y for x, y [..., D] and gamma [D].
    /// ```swift
    /// let h = try Functional.scaledResidual(x, branch, scale: layerScale.gamma)
    /// ```
    public static func scaledResidual(_ x: Tensor, _ y: Tensor, scale gamma: Tensor) throws -> Tensor {
        let op = "scaled_residual"
        try requireFloat(x, op: op, name: "input")
        try requireFloat(y, op: op, name: "branch")
        try requireFloat(gamma, op: op, name: "scale")
        guard x.shape == y.shape, x.dim >= 1, gamma.dim == 1, gamma.shape[0] == x.shape[x.dim - 1] else {
            throw TensorError("scaled_residual: input \(formatShape(x.shape)), branch \(formatShape(y.shape)) and scale \(formatShape(gamma.shape)) must be [..., D], [..., D] and [D]")
        }
        let d = gamma.shape[0], rows = d == 0 ? 0 : x.numel / d
        let xd = dense(x), yd = dense(y), gd = dense(gamma)
        let out = Tensor(uninitialized: x.shape, dtype: .f32)
        let px = xd.pointer(Float.self), py = yd.pointer(Float.self), pg = gd.pointer(Float.self), po = out.pointer(Float.self)
        forRows(rows, rowCost: d) { lo, hi in
            for r in lo..<hi {
                let o = r * d
                for c in 0..<d { po[o + c] = px[o + c] + pg[c] * py[o + c] }
            }
        }
        guard recording([x, y, gamma]) else { return out }
        let sy = Saved(y, op: op), sg = Saved(gamma, op: op)
        let wantY = y.requiresGrad, wantGamma = gamma.requiresGrad
        return Tensor.record(op, out, [x, y, gamma]) { g in
            let gdense = dense(g)
            let gy = wantY ? try gdense.mul(try sg.get()) : nil
            let ggamma = wantGamma ? try gdense.mul(dense(try sy.get())).reshape([rows, d]).sum(dims: [0]) : nil
            return [g, gy, ggamma]
        }
    }
}
