import Foundation

/// layer_norm over the trailing `normalizedShape` dims, fused: the forward normalises each row
/// in one kernel and keeps its mean and 1/std; the backward produces the input, weight and bias
/// gradients in one pass over the rows. Row statistics are accumulated in Double, so rows with
/// a large mean relative to their spread do not lose precision.

extension Functional {
    /// Layer normalisation as `torch.nn.functional.layer_norm`: every row of the trailing
    /// `normalizedShape` dims is shifted to mean 0 and scaled to variance 1 (biased, plus `eps`),
    /// then multiplied by `weight` and shifted by `bias` (both shaped `normalizedShape`).
    /// ```swift
    /// let y = try Functional.layerNorm(x, normalizedShape: [512], weight: gamma, bias: beta)
    /// ```
    public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                                 eps: Double = 1e-5) throws -> Tensor {
        let op = "layer_norm"
        try requireFloat(x, op: op, name: "input")
        let k = normalizedShape.count
        guard k >= 1, k <= x.dim, Array(x.shape.suffix(k)) == normalizedShape else {
            throw TensorError("layer_norm: normalized_shape \(formatShape(normalizedShape)) must be the last dims of the input, which is \(formatShape(x.shape))")
        }
        for (name, p) in [("weight", weight), ("bias", bias)] {
            guard let p else { continue }
            try requireFloat(p, op: op, name: name)
            guard p.shape == normalizedShape else {
                throw TensorError("layer_norm: \(name) has shape \(formatShape(p.shape)) but normalized_shape is \(formatShape(normalizedShape))")
            }
        }
        guard eps >= 0, eps.isFinite else { throw TensorError("layer_norm: eps must be a finite number >= 0, got \(eps)") }
        let n = normalizedShape.reduce(1, *)
        let rows = n == 0 ? 0 : x.numel / n
        let src = dense(x)
        let w = weight.map(dense), b = bias.map(dense)
        let out = Tensor(uninitialized: x.shape, dtype: .f32)
        let stats = Tensor(uninitialized: [rows, 2], dtype: .f32)   // mean, 1/std per row
        LayerNormKernel.forward(src.pointer(Float.self), w?.pointer(Float.self), b?.pointer(Float.self),
                                out.pointer(Float.self), stats.pointer(Float.self), rows, n, Float(eps))
        guard recording([x, weight, bias]) else { return out }
        let savedX = Saved(x, op: op)
        let savedW = weight.map { Saved($0, op: op) }
        let wantX = x.requiresGrad, wantW = weight?.requiresGrad == true, wantB = bias?.requiresGrad == true
        let shape = x.shape, hasWeight = weight != nil, hasBias = bias != nil
        return Tensor.record(op, out, [x, weight, bias].compactMap { $0 }) { g in
            let xs = dense(try savedX.get()), ws = try savedW.map { dense(try $0.get()) }
            let gd = dense(g)
            let gx = wantX ? Tensor(uninitialized: shape, dtype: .f32) : nil
            let gw = wantW ? Tensor(uninitialized: normalizedShape, dtype: .f32) : nil
            let gb = wantB ? Tensor(uninitialized: normalizedShape, dtype: .f32) : nil
            LayerNormKernel.backward(x: xs.pointer(Float.self), weight: ws?.pointer(Float.self), g: gd.pointer(Float.self),
                                     stats: stats.pointer(Float.self), gx: gx?.pointer(Float.self),
                                     gw: gw?.pointer(Float.self), gb: gb?.pointer(Float.self), rows: rows, n: n)
            var grads: [Tensor?] = [gx]
            if hasWeight { grads.append(gw) }
            if hasBias { grads.append(gb) }
            return grads
        }
    }
}

/// The raw kernels on dense row-major buffers: `rows` rows of `n` elements.
enum LayerNormKernel {
    typealias V = FusedMath.V

    static func forward(_ x: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>?, _ b: UnsafeMutablePointer<Float>?,
                        _ y: UnsafeMutablePointer<Float>, _ stats: UnsafeMutablePointer<Float>, _ rows: Int, _ n: Int, _ eps: Float) {
        Functional.forRows(rows, rowCost: n * 3) { lo, hi in
            for r in lo..<hi {
                let xr = x + r * n, yr = y + r * n
                let mean = Float(FusedMath.sum(xr, n) / Double(n))
                let variance = FusedMath.sumSquaredDeviations(xr, n, mean: mean) / Double(n)
                let rstd = Float(1 / (variance + Double(eps)).squareRoot())
                stats[2 * r] = mean
                stats[2 * r + 1] = rstd
                // y = (x - mean) * rstd * w + b, as x * a + c with per-column a = rstd*w, c = b - mean*a.
                let mv = V(repeating: mean), sv = V(repeating: rstd)
                var i = 0
                switch (w, b) {
                case let (w?, b?):
                    while i + 8 <= n {
                        FusedMath.store((FusedMath.load(xr + i) - mv) * sv * FusedMath.load(w + i) + FusedMath.load(b + i), yr + i)
                        i += 8
                    }
                    while i < n { yr[i] = (xr[i] - mean) * rstd * w[i] + b[i]; i += 1 }
                case let (w?, nil):
                    while i + 8 <= n {
                        FusedMath.store((FusedMath.load(xr + i) - mv) * sv * FusedMath.load(w + i), yr + i)
                        i += 8
                    }
                    while i < n { yr[i] = (xr[i] - mean) * rstd * w[i]; i += 1 }
                case let (nil, b?):
                    while i + 8 <= n {
                        FusedMath.store((FusedMath.load(xr + i) - mv) * sv + FusedMath.load(b + i), yr + i)
                        i += 8
                    }
                    while i < n { yr[i] = (xr[i] - mean) * rstd + b[i]; i += 1 }
                case (nil, nil):
                    while i + 8 <= n {
                        FusedMath.store((FusedMath.load(xr + i) - mv) * sv, yr + i)
                        i += 8
                    }
                    while i < n { yr[i] = (xr[i] - mean) * rstd; i += 1 }
                }
            }
        }
    }

    /// Rows per chunk of the backward: each chunk sums its rows' weight and bias gradients into
    /// its own Float buffer, moved into a Double total every `flushRows` rows.
    static let flushRows = 64

    /// With xhat = (x - mean) * rstd and gh = g * w:
    /// gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)); gw = sum_rows g * xhat; gb = sum_rows g.
    static func backward(x: UnsafeMutablePointer<Float>, weight w: UnsafeMutablePointer<Float>?, g: UnsafeMutablePointer<Float>,
                         stats: UnsafeMutablePointer<Float>, gx: UnsafeMutablePointer<Float>?,
                         gw: UnsafeMutablePointer<Float>?, gb: UnsafeMutablePointer<Float>?, rows: Int, n: Int) {
        let wantParams = gw != nil || gb != nil
        // Without a weight the kernel multiplies by ones: one branch-free row loop for both cases.
        let ones = w == nil ? UnsafeMutablePointer<Float>.allocate(capacity: n) : nil
        ones?.initialize(repeating: 1, count: n)
        defer { ones?.deallocate() }
        let w = w ?? ones!
        let work = rows * n * 4
        let chunks = parallelPieces(rows, work: Double(work))
        // Per chunk: Double totals for gw and gb, and Float scratch for the rows since the last flush.
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: wantParams ? chunks * 2 * n : 1)
        defer { partial.deallocate() }
        let body = { (c: Int) in
            let lo = c * rows / chunks, hi = (c + 1) * rows / chunks
            let tw = partial + c * 2 * n, tb = tw + n
            if wantParams { for i in 0..<(2 * n) { tw[i] = 0 } }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: wantParams ? 2 * n : 1) { buf in
                let aw = buf.baseAddress!, ab = aw + n
                if wantParams { for i in 0..<(2 * n) { aw[i] = 0 } }
                var pending = 0
                for r in lo..<hi {
                    backwardRow(x + r * n, w, g + r * n, stats[2 * r], stats[2 * r + 1], gx.map { $0 + r * n },
                                wantParams ? aw : nil, wantParams ? ab : nil, n)
                    pending += 1
                    if wantParams && (pending == flushRows || r == hi - 1) {
                        for i in 0..<n {
                            tw[i] += Double(aw[i]); tb[i] += Double(ab[i])
                            aw[i] = 0; ab[i] = 0
                        }
                        pending = 0
                    }
                }
            }
        }
        if chunks == 1 { body(0) } else { parallelRegion(iterations: chunks, body) }
        guard wantParams else { return }
        for i in 0..<n {
            var sw = 0.0, sb = 0.0
            for c in 0..<chunks { sw += partial[c * 2 * n + i]; sb += partial[c * 2 * n + n + i] }
            gw?[i] = Float(sw)
            gb?[i] = Float(sb)
        }
    }

    /// One row of the backward; adds the row's g * xhat and g into `aw` and `ab` when given.
    @inline(__always)
    static func backwardRow(_ x: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                            _ mean: Float, _ rstd: Float, _ gx: UnsafeMutablePointer<Float>?,
                            _ aw: UnsafeMutablePointer<Float>?, _ ab: UnsafeMutablePointer<Float>?, _ n: Int) {
        let mv = V(repeating: mean), sv = V(repeating: rstd)
        if let gx {
            // Pass 1: sum(gh) and sum(gh * xhat).
            var s1 = V(), s2 = V()
            var i = 0
            while i + 8 <= n {
                let gh = FusedMath.load(g + i) * FusedMath.load(w + i)
                let xh = (FusedMath.load(x + i) - mv) * sv
                s1 += gh
                s2 += gh * xh
                i += 8
            }
            var t1 = Double(s1.sum()), t2 = Double(s2.sum())
            while i < n {
                let gh = g[i] * w[i], xh = (x[i] - mean) * rstd
                t1 += Double(gh); t2 += Double(gh * xh)
                i += 1
            }
            let m1 = V(repeating: Float(t1 / Double(n))), m2 = V(repeating: Float(t2 / Double(n)))
            // Pass 2: gx, and the parameter sums while the row is in cache.
            i = 0
            while i + 8 <= n {
                let gv = FusedMath.load(g + i)
                let gh = gv * FusedMath.load(w + i)
                let xh = (FusedMath.load(x + i) - mv) * sv
                FusedMath.store(sv * (gh - m1 - xh * m2), gx + i)
                if let aw, let ab {
                    FusedMath.store(FusedMath.load(aw + i) + gv * xh, aw + i)
                    FusedMath.store(FusedMath.load(ab + i) + gv, ab + i)
                }
                i += 8
            }
            while i < n {
                let gh = g[i] * w[i], xh = (x[i] - mean) * rstd
                gx[i] = rstd * (gh - m1[0] - xh * m2[0])
                if let aw, let ab { aw[i] += g[i] * xh; ab[i] += g[i] }
                i += 1
            }
        } else if let aw, let ab {
            var i = 0
            while i + 8 <= n {
                let gv = FusedMath.load(g + i)
                FusedMath.store(FusedMath.load(aw + i) + gv * (FusedMath.load(x + i) - mv) * sv, aw + i)
                FusedMath.store(FusedMath.load(ab + i) + gv, ab + i)
                i += 8
            }
            while i < n { aw[i] += g[i] * (x[i] - mean) * rstd; ab[i] += g[i]; i += 1 }
        }
    }
}
