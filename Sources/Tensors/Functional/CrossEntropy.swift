import Foundation

/// cross_entropy as `torch.nn.functional.cross_entropy`, fused: one pass per row computes the
/// log-sum-exp and the loss straight from the logits (log_softmax is never materialised), and
/// the backward rebuilds the softmax from the saved log-sum-exp. This keeps a K-means head with
/// 16384 classes at one read of the logits per pass.
///
/// With class weights w, label smoothing e and C classes, the loss of a row with target y is
///   (1 - e) * w[y] * (lse - x[y]) + (e / C) * sum_c w[c] * (lse - x[c]),
/// ignored rows count 0, and `mean` divides by the sum of w[y] over the rows not ignored
/// (PyTorch's rule; without weights, by their number). With probability targets t the loss is
/// sum_c w[c] * t'[c] * (lse - x[c]) with t' = (1 - e) * t + e / C, and `mean` divides by the
/// number of rows.

extension Functional {
    /// Cross-entropy between `input` logits and `target`.
    ///
    /// Shapes: input [N, C] with target [N] (int64 class indices) or [N, C] (float32
    /// probabilities); input [C] with a 0-d or [C] target; input [N, C, d1, ...] with target
    /// [N, d1, ...] or [N, C, d1, ...]. Class indices count from `indexBase` (the Lua bindings
    /// pass 1); a target equal to `ignoreIndex` (compared before the base is applied) is
    /// skipped. `weight` is a float32 [C] tensor of class weights (not differentiated, as in
    /// PyTorch). Differentiable in `input`, and in `target` when it holds probabilities.
    /// ```swift
    /// let loss = try Functional.crossEntropy(logits, labels, labelSmoothing: 0.1)
    /// ```
    public static func crossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                                    reduction: LossReduction = .mean, labelSmoothing: Double = 0,
                                    indexBase: IndexBase = .zero) throws -> Tensor {
        let op = "cross_entropy"
        try requireFloat(input, op: op, name: "input")
        guard input.dim >= 1 else { throw TensorError("cross_entropy: input must have a class dim, got a 0-D tensor") }
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw TensorError("cross_entropy: label_smoothing must be between 0 and 1, got \(labelSmoothing)")
        }
        let probabilities = target.dtype == .f32
        guard probabilities || target.dtype == .i64 else {
            throw TensorError("cross_entropy: target must be int64 class indices or float32 probabilities, got \(target.dtype.name)")
        }
        let classDim = input.dim == 1 ? 0 : 1
        let c = input.shape[classDim]
        if let weight {
            try requireFloat(weight, op: op, name: "weight")
            guard weight.shape == [c] else {
                throw TensorError("cross_entropy: weight must have shape [\(c)] (one per class), got \(formatShape(weight.shape))")
            }
        }
        // Expected target shape: the input's, without the class dim for indices.
        var indexShape = input.shape
        indexShape.remove(at: classDim)
        let expected = probabilities ? input.shape : indexShape
        guard target.shape == expected else {
            throw TensorError("cross_entropy: input \(formatShape(input.shape)) needs a target of shape \(formatShape(expected)) (\(probabilities ? "float32 probabilities" : "int64 class indices")), got \(formatShape(target.shape))")
        }
        // Bring the classes last and flatten the rest: [M, C] rows.
        func rowsOf(_ t: Tensor) throws -> Tensor {
            if t.dim == 1 { return try t.unsqueeze(0) }
            if t.dim == 2 { return t }
            var order = Array(0..<t.dim)
            order.remove(at: 1)
            order.append(1)
            return try t.permute(order).reshape([-1, c])
        }
        let logits = try rowsOf(input)
        let targetRows = probabilities ? try rowsOf(target) : try target.reshape([-1])
        let losses: Tensor
        if probabilities {
            losses = try CrossEntropyKernel.probabilities(logits, targetRows, weight: weight, smoothing: Float(labelSmoothing),
                                                          reduction: reduction)
        } else {
            losses = try CrossEntropyKernel.indices(logits, targetRows, weight: weight, ignoreIndex: ignoreIndex,
                                                    smoothing: Float(labelSmoothing), reduction: reduction, indexBase: indexBase)
        }
        return reduction == .none ? try losses.reshape(indexShape) : losses
    }
}

/// The fused row kernels. Both return the reduced loss (0-d) or the per-row losses [M].
enum CrossEntropyKernel {
    typealias V = FusedMath.V

    /// max, log-sum-exp of one row.
    @inline(__always) static func rowLSE(_ x: UnsafeMutablePointer<Float>, _ c: Int) -> (Float, Float) {
        let m = FusedMath.max(x, c)
        return (m, m + Float(Foundation.log(FusedMath.expSubSum(x, c, minus: m))))
    }

    /// sum_c a[c] * (m - x[c]) (a nil means all ones), with the non-negative differences summed
    /// in Float lanes and flushed into a Double.
    @inline(__always) static func weightedGap(_ x: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>?,
                                              _ c: Int, _ m: Float) -> Double {
        let mv = V(repeating: m)
        var total = 0.0
        var i = 0
        while i < c {
            let end = Swift.min(c, i + FusedMath.flushEvery)
            var acc = V()
            if let a {
                while i + 8 <= end { acc += FusedMath.load(a + i) * (mv - FusedMath.load(x + i)); i += 8 }
                var s = Double(acc.sum())
                while i < end { s += Double(a[i] * (m - x[i])); i += 1 }
                total += s
            } else {
                while i + 8 <= end { acc += mv - FusedMath.load(x + i); i += 8 }
                var s = Double(acc.sum())
                while i < end { s += Double(m - x[i]); i += 1 }
                total += s
            }
        }
        return total
    }

    // MARK: Class-index targets

    static func indices(_ logits: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int, smoothing: Float,
                        reduction: LossReduction, indexBase base: IndexBase) throws -> Tensor {
        let indexBase = base.value
        let m = logits.shape[0], c = logits.shape[1]
        let raw = target.toInt64Array()
        // Class of each row, or -1 when ignored; validated before any work.
        var cls = [Int](repeating: -1, count: m)
        for i in 0..<m {
            let t = Int(raw[i])
            if t == ignoreIndex { continue }
            // Compare before subtracting: a label near Int64.min must not overflow.
            guard t >= indexBase && t - indexBase < c else {
                throw TensorError("cross_entropy: target \(t) at position \(i + indexBase) is out of range \(indexBase)..\(c - 1 + indexBase) for \(c) classes (ignore_index is \(ignoreIndex))")
            }
            cls[i] = t - indexBase
        }
        let x = Functional.dense(logits), w = weight.map(Functional.dense)
        let xp = x.pointer(Float.self), wp = w?.pointer(Float.self)
        let totalWeight = wp.map { p in (0..<c).reduce(0.0) { $0 + Double(p[$1]) } } ?? Double(c)
        let lse = Tensor(uninitialized: [m], dtype: .f32)
        let perRow = Tensor(uninitialized: [m], dtype: .f32)
        let lp = lse.pointer(Float.self), lossp = perRow.pointer(Float.self)
        let e = smoothing, keep = 1 - smoothing, ec = Double(smoothing) / Double(c)
        cls.withUnsafeBufferPointer { clsb in
            Functional.forRows(m, rowCost: c * 3) { lo, hi in
                for i in lo..<hi {
                    let k = clsb[i]
                    if k < 0 { lp[i] = 0; lossp[i] = 0; continue }
                    let row = xp + i * c
                    let (mx, l) = rowLSE(row, c)
                    lp[i] = l
                    let wy = Double(wp?[k] ?? 1)
                    var loss = Double(keep) * wy * Double(l - row[k])
                    if e > 0 {
                        // sum_c w[c] (lse - x[c]) = sum_c w[c] (m - x[c]) + W (lse - m)
                        loss += ec * (weightedGap(row, wp, c, mx) + totalWeight * Double(l - mx))
                    }
                    lossp[i] = Float(loss)
                }
            }
        }
        var denominator = 0.0
        for i in 0..<m where cls[i] >= 0 { denominator += Double(wp?[cls[i]] ?? 1) }
        let out: Tensor
        switch reduction {
        case .none: out = perRow
        case .sum, .mean:
            let total = (0..<m).reduce(0.0) { $0 + Double(lossp[$1]) }
            out = Tensor(scalar: Float(reduction == .sum ? total : total / denominator))
        }
        guard Functional.recording([logits]) else { return out }
        let saved = Saved(logits, op: "cross_entropy")
        let savedWeight = weight.map { Saved($0, op: "cross_entropy") }
        let shape = logits.shape
        return Tensor.record("cross_entropy", out, [logits]) { g in
            let xs = Functional.dense(try saved.get())
            let ws = try savedWeight.map { Functional.dense(try $0.get()) }
            let xp = xs.pointer(Float.self), wp = ws?.pointer(Float.self), lp = lse.pointer(Float.self)
            // Upstream gradient per row: one value for a reduced loss, one per row for `none`.
            let gd = Functional.dense(g)
            let gp = gd.pointer(Float.self)
            let rowScale: (Int) -> Float
            switch reduction {
            case .none: rowScale = { gp[$0] }
            case .sum: let s = gp[0]; rowScale = { _ in s }
            case .mean: let s = Float(Double(gp[0]) / denominator); rowScale = { _ in s }
            }
            let gx = Tensor(uninitialized: shape, dtype: .f32)
            let gxp = gx.pointer(Float.self)
            cls.withUnsafeBufferPointer { clsb in
                Functional.forRows(m, rowCost: c * 2) { lo, hi in
                    for i in lo..<hi {
                        let k = clsb[i], out = gxp + i * c
                        if k < 0 { out.initialize(repeating: 0, count: c); continue }
                        let row = xp + i * c, s = rowScale(i)
                        let wy = wp?[k] ?? 1
                        // gx = s * (p * A - a), A = sum_c a[c], a[c] = (e/C) w[c] + (1-e) w[y] [c == y]
                        let a = Float(Double(keep) * Double(wy) + ec * totalWeight)
                        let pv = V(repeating: s * a), lv = V(repeating: lp[i])
                        let sm = V(repeating: s * Float(ec))
                        var j = 0
                        while j + 8 <= c {
                            var v = FusedMath.exp(FusedMath.load(row + j) - lv) * pv
                            if e > 0 { v -= sm * (wp.map { FusedMath.load($0 + j) } ?? V(repeating: 1)) }
                            FusedMath.store(v, out + j)
                            j += 8
                        }
                        while j < c {
                            var v = FusedMath.exp(row[j] - lp[i]) * pv[0]
                            if e > 0 { v -= sm[0] * (wp?[j] ?? 1) }
                            out[j] = v
                            j += 1
                        }
                        out[k] -= s * keep * wy
                    }
                }
            }
            return [gx]
        }
    }

    // MARK: Probability targets

    static func probabilities(_ logits: Tensor, _ target: Tensor, weight: Tensor?, smoothing: Float,
                              reduction: LossReduction) throws -> Tensor {
        let m = logits.shape[0], c = logits.shape[1]
        let x = Functional.dense(logits), t = Functional.dense(target), w = weight.map(Functional.dense)
        let xp = x.pointer(Float.self), tp = t.pointer(Float.self), wp = w?.pointer(Float.self)
        let lse = Tensor(uninitialized: [m], dtype: .f32)
        let perRow = Tensor(uninitialized: [m], dtype: .f32)
        let lp = lse.pointer(Float.self), lossp = perRow.pointer(Float.self)
        let keep = 1 - smoothing, ec = smoothing / Float(c)
        Functional.forRows(m, rowCost: c * 4) { lo, hi in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { buf in
                let a = buf.baseAddress!
                for i in lo..<hi {
                    let row = xp + i * c
                    let (mx, l) = rowLSE(row, c)
                    lp[i] = l
                    // a[c] = w[c] * t'[c]; loss = sum_c a[c] (m - x[c]) + (sum_c a[c]) (lse - m)
                    let total = coefficients(tp + i * c, wp, keep, ec, c, into: a)
                    lossp[i] = Float(weightedGap(row, a, c, mx) + total * Double(l - mx))
                }
            }
        }
        let out: Tensor
        switch reduction {
        case .none: out = perRow
        case .sum, .mean:
            let total = (0..<m).reduce(0.0) { $0 + Double(lossp[$1]) }
            out = Tensor(scalar: Float(reduction == .sum ? total : total / Double(m)))
        }
        guard Functional.recording([logits, target]) else { return out }
        let savedX = Saved(logits, op: "cross_entropy"), savedT = Saved(target, op: "cross_entropy")
        let savedWeight = weight.map { Saved($0, op: "cross_entropy") }
        let wantX = logits.requiresGrad, wantT = target.requiresGrad
        let shape = logits.shape
        return Tensor.record("cross_entropy", out, [logits, target]) { g in
            let xs = Functional.dense(try savedX.get()), ts = Functional.dense(try savedT.get())
            let ws = try savedWeight.map { Functional.dense(try $0.get()) }
            let xp = xs.pointer(Float.self), tp = ts.pointer(Float.self), wp = ws?.pointer(Float.self)
            let lp = lse.pointer(Float.self)
            let gd = Functional.dense(g)
            let gp = gd.pointer(Float.self)
            let mean = reduction == .mean ? Float(1 / Double(m)) : 1
            let gx = wantX ? Tensor(uninitialized: shape, dtype: .f32) : nil
            let gt = wantT ? Tensor(uninitialized: shape, dtype: .f32) : nil
            let gxp = gx?.pointer(Float.self), gtp = gt?.pointer(Float.self)
            Functional.forRows(m, rowCost: c * 3) { lo, hi in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { buf in
                    let a = buf.baseAddress!
                    for i in lo..<hi {
                        let row = xp + i * c, l = lp[i]
                        let s = (reduction == .none ? gp[i] : gp[0]) * mean
                        if let gxp {
                            // gx = s * (p * A - a)
                            let total = Float(coefficients(tp + i * c, wp, keep, ec, c, into: a))
                            let out = gxp + i * c
                            for j in 0..<c { out[j] = s * (FusedMath.exp(row[j] - l) * total - a[j]) }
                        }
                        if let gtp {
                            // d loss / d t[c] = (1 - e) w[c] (lse - x[c])
                            let out = gtp + i * c
                            for j in 0..<c { out[j] = s * keep * (wp?[j] ?? 1) * (l - row[j]) }
                        }
                    }
                }
            }
            return [gx, gt]
        }
    }

    /// a[c] = w[c] * ((1 - e) t[c] + e / C); returns sum_c a[c].
    @inline(__always)
    static func coefficients(_ t: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>?, _ keep: Float, _ ec: Float,
                             _ c: Int, into a: UnsafeMutablePointer<Float>) -> Double {
        if let w {
            for j in 0..<c { a[j] = w[j] * (keep * t[j] + ec) }
        } else {
            for j in 0..<c { a[j] = keep * t[j] + ec }
        }
        return FusedMath.sum(a, c)
    }
}
