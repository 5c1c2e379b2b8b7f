import Foundation
import Tensors

/// The monotonic rational-quadratic spline of Durkan et al. (Neural Spline Flows) with linear
/// tails, as nflows' `unconstrained_rational_quadratic_spline(tails="linear")`: inside
/// [-B, B] the map is a spline of `bins` segments whose widths, heights and interior knot
/// derivatives come from unconstrained parameters; outside it is the identity. Forward,
/// inverse (closed-form root of the quadratic) and log |det J| are one fused kernel, and the
/// gradients with respect to the inputs and all 3K-1 parameters are exact (analytic, including
/// the implicit derivative of the inverse).
///
/// Parameters per element, in the last dim of `params` (nflows' layout): K unnormalised widths,
/// K unnormalised heights, K-1 unnormalised interior derivatives. Widths and heights go through
/// softmax, are floored at `minBinWidth`/`minBinHeight` and scaled to [-B, B]; derivatives
/// through min_derivative + softplus, with derivative 1 at both ends so the tails join smoothly.
/// All parameters zero except the derivatives at log(e^(1-min_derivative) - 1) is the identity.
///
/// ```swift
/// let x = try Tensor.randn([100])
/// let p = try Tensor.randn([100, 23])                   // K = 8 bins
/// let (y, logdet) = try RationalQuadraticSpline.transform(x, params: p)
/// let (x2, minusLogdet) = try RationalQuadraticSpline.transform(y, params: p, inverse: true)
/// ```
public enum RationalQuadraticSpline {
    /// Shape of the spline.
    public struct Options {
        public var bins = 8
        public var tailBound = 4.0
        public var minBinWidth = 1e-3
        public var minBinHeight = 1e-3
        public var minDerivative = 1e-3
        /// Multiplies the unnormalised widths and heights before the softmax (nflows divides them
        /// by sqrt(hidden width) of the coupling network).
        public var widthHeightScale = 1.0
        public init() {}

        /// Parameters per element: 3K - 1.
        public var parameterCount: Int { 3 * bins - 1 }

        /// The unnormalised derivative that gives derivative exactly 1 (identity init).
        public var identityDerivative: Double { Foundation.log(Foundation.exp(1 - minDerivative) - 1) }

        func validate() throws {
            guard bins >= 2 && bins <= 1024 else { throw TensorError("rq_spline: bins must be between 2 and 1024, got \(bins)") }
            guard tailBound > 0 else { throw TensorError("rq_spline: tail_bound must be positive, got \(tailBound)") }
            guard minBinWidth >= 0, minBinWidth * Double(bins) < 1 else {
                throw TensorError("rq_spline: min_bin_width * bins must be below 1 (got \(minBinWidth) * \(bins))")
            }
            guard minBinHeight >= 0, minBinHeight * Double(bins) < 1 else {
                throw TensorError("rq_spline: min_bin_height * bins must be below 1 (got \(minBinHeight) * \(bins))")
            }
            guard minDerivative > 0, minDerivative < 1 else {
                throw TensorError("rq_spline: min_derivative must be in (0, 1), got \(minDerivative)")
            }
        }
    }

    /// Applies the spline (or its inverse) elementwise. `x` has any shape S; `params` has shape
    /// S + [3K - 1]. Returns outputs of shape S and log |dy/dx| of shape S (for the inverse, the
    /// log-determinant of the inverse map, i.e. minus the forward one at the output).
    public static func transform(_ x: Tensor, params: Tensor, inverse: Bool = false,
                                 options: Options = Options()) throws -> (outputs: Tensor, logAbsDet: Tensor) {
        try options.validate()
        let p = options.parameterCount
        guard x.dtype == .f32, params.dtype == .f32 else {
            throw TensorError("rq_spline: inputs and params must be float32 (got \(x.dtype.name) and \(params.dtype.name))")
        }
        guard params.shape == x.shape + [p] else {
            throw TensorError("rq_spline: params must have shape \(formatShape(x.shape + [p])) (inputs \(formatShape(x.shape)) plus \(p) = 3*\(options.bins)-1 parameters), got \(formatShape(params.shape))")
        }
        let n = x.numel
        let wantGrad = Tensor.isRecorded(inputs: [x, params])
        let y = try Tensor.empty(x.shape), l = try Tensor.empty(x.shape)
        var jx: Tensor?, jlx: Tensor?, jp: Tensor?, jlp: Tensor?
        if wantGrad {
            jx = try Tensor.empty(x.shape); jlx = try Tensor.empty(x.shape)
            jp = try Tensor.empty(params.shape); jlp = try Tensor.empty(params.shape)
        }
        try x.withElements(as: Float.self) { xs in
            try params.withElements(as: Float.self) { ps in
                let yp = y.elementPointer(as: Float.self), lp = l.elementPointer(as: Float.self)
                let jxp = jx.map { $0.elementPointer(as: Float.self) }, jlxp = jlx.map { $0.elementPointer(as: Float.self) }
                let jpp = jp.map { $0.elementPointer(as: Float.self) }, jlpp = jlp.map { $0.elementPointer(as: Float.self) }
                let xb = xs.baseAddress, pb = ps.baseAddress
                var firstError: String?
                let errorLock = NSLock()
                parallelFor(n, grain: 2048) { lo, hi in
                    var scratch = SplineScratch(bins: options.bins)
                    for i in lo..<hi {
                        var r = SplineResult()
                        let ok = evaluate(x: Double(xb![i]), params: pb! + i * p, inverse: inverse, options: options,
                                          jacobian: wantGrad, scratch: &scratch, result: &r)
                        if !ok {
                            errorLock.lock()
                            if firstError == nil {
                                firstError = "rq_spline: the inverse has no real root at element \(i) (input \(xb![i])); the spline parameters are not finite"
                            }
                            errorLock.unlock()
                        }
                        yp[i] = Float(r.y); lp[i] = Float(r.logDet)
                        if wantGrad {
                            jxp![i] = Float(r.dydx); jlxp![i] = Float(r.dLdx)
                            for k in 0..<p {
                                jpp![i * p + k] = Float(scratch.dyParams[k])
                                jlpp![i * p + k] = Float(scratch.dLParams[k])
                            }
                        }
                    }
                }
                if let firstError { throw TensorError(firstError) }
            }
        }
        guard wantGrad else { return (y, l) }
        // One node for both outputs; its backward contracts the upstream gradients with the
        // per-element Jacobians the kernel just filled in.
        let out = try Tensor.custom(name: inverse ? "rq_spline_inverse" : "rq_spline", inputs: [x, params],
                                    outputs: [y, l], saving: [jx!, jlx!, jp!, jlp!]) { g, saved in
            try vectorJacobianProduct(gy: g[0], gl: g[1], jacobians: saved, parameters: p)
        }
        return (out[0], out[1])
    }

    /// The backward of `transform`: for upstream gradients gy (outputs) and gl (log-det), with
    /// nil as zero, gx = gy dy/dx + gl dL/dx and gp[.., k] = gy dy/dp_k + gl dL/dp_k, in one
    /// pass over the saved Jacobians `[dy/dx, dL/dx, dy/dp, dL/dp]`.
    static func vectorJacobianProduct(gy: Tensor?, gl: Tensor?, jacobians j: [Tensor], parameters p: Int) throws -> [Tensor?] {
        let n = j[0].numel
        let gx = try Tensor.empty(j[0].shape), gp = try Tensor.empty(j[2].shape)
        // Upstream gradients may be broadcast views (the backward of a sum): make them plain.
        let gyc = gy.map { $0.to(.f32).contiguous() }, glc = gl.map { $0.to(.f32).contiguous() }
        try withExtendedLifetime((gyc, glc)) {
            let gyp = gyc.map { $0.elementPointer(as: Float.self) }, glp = glc.map { $0.elementPointer(as: Float.self) }
            let jx = j[0].elementPointer(as: Float.self), jlx = j[1].elementPointer(as: Float.self)
            let jp = j[2].elementPointer(as: Float.self), jlp = j[3].elementPointer(as: Float.self)
            let gxp = gx.elementPointer(as: Float.self), gpp = gp.elementPointer(as: Float.self)
            guard [gyc, glc].allSatisfy({ $0 == nil || $0!.numel == n }) else {
                throw TensorError("rq_spline backward: upstream gradient size does not match the \(n) elements")
            }
            parallelFor(n, grain: 2048) { lo, hi in
                for i in lo..<hi {
                    let a = gyp?[i] ?? 0, b = glp?[i] ?? 0
                    gxp[i] = a * jx[i] + b * jlx[i]
                    for k in (i * p)..<(i * p + p) { gpp[k] = a * jp[k] + b * jlp[k] }
                }
            }
        }
        return [gx, gp]
    }

    // MARK: The per-element kernel (Double precision; internal for tests)

    /// The value and first derivatives of one element.
    struct SplineResult {
        var y = 0.0, logDet = 0.0, dydx = 1.0, dLdx = 0.0
    }

    /// Per-thread work arrays for one element (K bins).
    struct SplineScratch {
        var softW: [Double], softH: [Double], cw: [Double], ch: [Double], d: [Double], sigD: [Double]
        var gCw: [Double], gCh: [Double], gD: [Double]
        /// Derivatives of y and of log|det| with respect to the 3K-1 raw parameters.
        var dyParams: [Double], dLParams: [Double]

        init(bins k: Int) {
            softW = .init(repeating: 0, count: k); softH = softW
            cw = .init(repeating: 0, count: k + 1); ch = cw; d = cw; sigD = cw
            gCw = cw; gCh = cw; gD = cw
            dyParams = .init(repeating: 0, count: 3 * k - 1); dLParams = dyParams
        }
    }

    /// Local partial derivatives at one point of a bin, treating theta, s = H/W, the bin height
    /// H (explicitly), d0 and d1 as independent: r = num/den (the output minus the bin's bottom
    /// knot) and L = log|dy/dx|.
    struct BinPartials {
        var r = 0.0, L = 0.0
        var rTheta = 0.0, rS = 0.0, rH = 0.0, rD0 = 0.0, rD1 = 0.0
        var lTheta = 0.0, lS = 0.0, lD0 = 0.0, lD1 = 0.0

        init(theta t: Double, s: Double, h: Double, d0: Double, d1: Double) {
            let t1 = t * (1 - t)
            let num = h * (s * t * t + d0 * t1)
            let den = s + (d0 + d1 - 2 * s) * t1
            let pp = d1 * t * t + 2 * s * t1 + d0 * (1 - t) * (1 - t)
            let dnum = s * s * pp
            r = num / den
            L = Foundation.log(dnum) - 2 * Foundation.log(den)
            let numT = h * (2 * s * t + d0 * (1 - 2 * t)), numS = h * t * t, numH = s * t * t + d0 * t1, numD0 = h * t1
            let denT = (d0 + d1 - 2 * s) * (1 - 2 * t), denS = 1 - 2 * t1, denD = t1
            let pT = 2 * d1 * t + 2 * s * (1 - 2 * t) - 2 * d0 * (1 - t)
            let dnumT = s * s * pT, dnumS = 2 * s * pp + s * s * 2 * t1
            let dnumD0 = s * s * (1 - t) * (1 - t), dnumD1 = s * s * t * t
            rTheta = (numT - r * denT) / den
            rS = (numS - r * denS) / den
            rH = numH / den
            rD0 = (numD0 - r * denD) / den
            rD1 = (-r * denD) / den
            lTheta = dnumT / dnum - 2 * denT / den
            lS = dnumS / dnum - 2 * denS / den
            lD0 = dnumD0 / dnum - 2 * denD / den
            lD1 = dnumD1 / dnum - 2 * denD / den
        }
    }

    /// Evaluates one element; with `jacobian`, fills the result's input derivatives and the
    /// scratch's parameter derivatives. Returns false when the inverse's discriminant is not a
    /// real number (only possible with non-finite parameters).
    static func evaluate(x: Double, params: UnsafePointer<Float>, inverse: Bool, options o: Options,
                         jacobian: Bool, scratch s: inout SplineScratch, result: inout SplineResult) -> Bool {
        let k = o.bins, bound = o.tailBound
        if jacobian {
            for i in 0..<(3 * k - 1) { s.dyParams[i] = 0; s.dLParams[i] = 0 }
        }
        guard x >= -bound && x <= bound else {
            result = SplineResult(y: x, logDet: 0, dydx: 1, dLdx: 0)
            return true
        }
        // Knots: widths and heights through softmax, floor, cumulative sum, scaled to [-B, B].
        func knots(_ offset: Int, _ minSize: Double, _ soft: inout [Double], _ cum: inout [Double]) {
            var m = -Double.infinity
            for j in 0..<k { m = Swift.max(m, Double(params[offset + j]) * o.widthHeightScale) }
            var z = 0.0
            for j in 0..<k { soft[j] = Foundation.exp(Double(params[offset + j]) * o.widthHeightScale - m); z += soft[j] }
            var c = 0.0
            cum[0] = -bound
            for j in 0..<k {
                soft[j] /= z
                c += minSize + (1 - minSize * Double(k)) * soft[j]
                cum[j + 1] = 2 * bound * c - bound
            }
            cum[k] = bound
        }
        knots(0, o.minBinWidth, &s.softW, &s.cw)
        knots(k, o.minBinHeight, &s.softH, &s.ch)
        s.d[0] = 1; s.d[k] = 1
        for j in 1..<k {
            let u = Double(params[2 * k + j - 1])
            // softplus(u) = log(1 + e^u), stable for large |u|.
            s.d[j] = o.minDerivative + (u > 20 ? u : Foundation.log1p(Foundation.exp(u)))
            s.sigD[j] = 1 / (1 + Foundation.exp(-u))
        }
        // Bin search as nflows' searchsorted: the last knot nudged up so x = B lands in bin K-1.
        let locations = inverse ? s.ch : s.cw
        var bin = -1
        for j in 0...k where x >= (j == k ? locations[j] + 1e-6 : locations[j]) { bin += 1 }
        bin = Swift.min(Swift.max(bin, 0), k - 1)
        let cw = s.cw[bin], w = s.cw[bin + 1] - cw
        let ch = s.ch[bin], h = s.ch[bin + 1] - ch
        let d0 = s.d[bin], d1 = s.d[bin + 1]
        let delta = h / w
        var ok = true

        var theta: Double
        if !inverse {
            theta = (x - cw) / w
        } else {
            // Solve ch + r(theta) = x for theta in [0, 1] (nflows' quadratic).
            let dy = x - ch
            let a = dy * (d0 + d1 - 2 * delta) + h * (delta - d0)
            let b = h * d0 - dy * (d0 + d1 - 2 * delta)
            let c = -delta * dy
            let disc = b * b - 4 * a * c
            if !(disc >= -1e-12) { ok = false }
            let root = (2 * c) / (-b - Foundation.sqrt(Swift.max(disc, 0)))
            theta = root.isFinite ? Swift.min(Swift.max(root, 0), 1) : 0
        }
        let bp = BinPartials(theta: theta, s: delta, h: h, d0: d0, d1: d1)
        if !inverse {
            result.y = ch + bp.r
            result.logDet = bp.L
        } else {
            result.y = cw + theta * w
            result.logDet = -bp.L
        }
        guard jacobian else { return ok }

        /// Gradients with respect to the bin's (cw, w, ch, h, d0, d1) and the input, for an
        /// upstream gradient (g1 on the output, g2 on the log-determinant).
        struct Local { var cw = 0.0, w = 0.0, ch = 0.0, h = 0.0, d0 = 0.0, d1 = 0.0, x = 0.0 }
        func local(_ g1: Double, _ g2: Double) -> Local {
            var g = Local()
            if !inverse {
                let gTheta = g1 * bp.rTheta + g2 * bp.lTheta
                let gS = g1 * bp.rS + g2 * bp.lS
                g.ch = g1
                g.h = g1 * bp.rH + gS / w
                g.d0 = g1 * bp.rD0 + g2 * bp.lD0
                g.d1 = g1 * bp.rD1 + g2 * bp.lD1
                g.x = gTheta / w
                g.cw = -gTheta / w
                g.w = -gTheta * theta / w - gS * delta / w
            } else {
                // Total derivative of the outputs with respect to theta, then theta's implicit
                // dependence on (x, ch, s, h, d0, d1) through ch + r(theta) = x.
                let gTheta = g1 * w - g2 * bp.lTheta
                let q = gTheta / bp.rTheta
                g.x = q
                g.ch = -q
                let gS = -q * bp.rS - g2 * bp.lS
                g.h = -q * bp.rH + gS / w
                g.d0 = -q * bp.rD0 - g2 * bp.lD0
                g.d1 = -q * bp.rD1 - g2 * bp.lD1
                g.cw = g1
                g.w = g1 * theta - gS * delta / w
            }
            return g
        }


        // Maps local gradients back through knots -> softmax and softplus to the raw parameters.
        func backToParams(_ g: Local, into out: inout [Double]) {
            for j in 0...k { s.gCw[j] = 0; s.gCh[j] = 0; s.gD[j] = 0 }
            s.gCw[bin] += g.cw - g.w; s.gCw[bin + 1] += g.w
            s.gCh[bin] += g.ch - g.h; s.gCh[bin + 1] += g.h
            s.gD[bin] += g.d0; s.gD[bin + 1] += g.d1
            func softmaxBack(_ gKnot: [Double], _ soft: [Double], _ minSize: Double, _ offset: Int) {
                // knot j (1..K-1) = 2B * sum_{i<j} w'_i - B, w'_i = min + (1 - min K) soft_i.
                var suffix = 0.0
                var gSoft = [Double](repeating: 0, count: k)
                for i in stride(from: k - 1, through: 0, by: -1) {
                    gSoft[i] = suffix * 2 * bound * (1 - minSize * Double(k))
                    if i >= 1 { suffix += gKnot[i] }
                }
                var dot = 0.0
                for i in 0..<k { dot += soft[i] * gSoft[i] }
                for i in 0..<k { out[offset + i] = soft[i] * (gSoft[i] - dot) * o.widthHeightScale }
            }
            softmaxBack(s.gCw, s.softW, o.minBinWidth, 0)
            softmaxBack(s.gCh, s.softH, o.minBinHeight, k)
            for j in 1..<k { out[2 * k + j - 1] = s.gD[j] * s.sigD[j] }
        }
        let gy = local(1, 0), gl = local(0, 1)
        result.dydx = gy.x
        result.dLdx = gl.x
        backToParams(gy, into: &s.dyParams)
        backToParams(gl, into: &s.dLParams)
        return ok
    }
}
