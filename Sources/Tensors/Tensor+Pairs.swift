/// Pairs within packed sets: every pair i < j of rows of the same set, set by set on each set's
/// true length (no padded N x N, no pair across sets). Pairs are laid out set after set, and
/// inside a set in row-major upper-triangle order: (0,1), (0,2), ..., (0,n-1), (1,2), ...; a set
/// of n rows owns n(n-1)/2 consecutive pairs, located by the pair offsets [B+1]. Sets of 0 or 1
/// rows own no pairs. This is the layout of the vertex-finding edge head (MPMv2: the upper
/// triangle of every jet's track pairs).

extension Tensor {
    /// The validated offsets of a packed batch whose row count is taken from the offsets.
    static func selfContainedOffsets(_ offsets: Tensor, op: String) throws -> [Int] {
        guard offsets.dtype == .i64, offsets.dim == 1, offsets.numel >= 1 else {
            throw TensorError("\(op): offsets must be a 1-D int64 tensor [B+1], got \(offsets.dtype.name) \(formatShape(offsets.shape))")
        }
        let last = Int(offsets.toInt64Array().last!)
        return try validatedOffsets(offsets, rows: last, op: op)
    }

    /// Pair offsets [B+1] of sets with row offsets `o`: set b owns pairs p[b] ..< p[b+1].
    public static func pairBounds(_ o: [Int]) -> [Int] {
        var p = [0]
        p.reserveCapacity(o.count)
        for b in 0..<(o.count - 1) {
            let n = o[b + 1] - o[b]
            p.append(p[b] + n * (n - 1) / 2)
        }
        return p
    }

    /// The pairs i < j inside every set of a packed batch with `offsets` [B+1]: the row of each
    /// pair's first and second member (int64 [P], counted from `indexBase`) and the pair offsets
    /// (int64 [B+1], always 0-based like every offsets tensor).
    /// ```swift
    /// let (first, second, pairOffsets) = try Tensor.setPairs(offsets: batch.offsets)
    /// ```
    public static func setPairs(offsets: Tensor, indexBase: IndexBase = .zero) throws -> (first: Tensor, second: Tensor, pairOffsets: Tensor) {
        let o = try selfContainedOffsets(offsets, op: "set_pairs")
        let p = pairBounds(o)
        let count = p.last!
        let first = Tensor(uninitialized: [count], dtype: .i64), second = Tensor(uninitialized: [count], dtype: .i64)
        let fp = first.pointer(Int64.self), sp = second.pointer(Int64.self)
        let shift = Int64(indexBase.value)
        var k = 0
        for b in 0..<(o.count - 1) {
            for i in o[b]..<o[b + 1] {
                for j in (i + 1)..<Swift.max(i + 1, o[b + 1]) {
                    fp[k] = Int64(i) + shift
                    sp[k] = Int64(j) + shift
                    k += 1
                }
            }
        }
        return (first, second, try Tensor(p.map { Int64($0) }, shape: [p.count]))
    }

    /// |x_i - x_j| for every pair i < j of rows of the same set of a packed x [T, H]: [P, H] in
    /// the layout of `setPairs`, and the pair offsets [B+1]. One fused kernel, forward and
    /// backward (the gradient of |d| at d = 0 is taken as 0), parallel over sets.
    /// ```swift
    /// let (d, pairOffsets) = try features.pairAbsDiff(offsets: batch.offsets)   // [P, H]
    /// ```
    public func pairAbsDiff(offsets: Tensor) throws -> (Tensor, Tensor) {
        let op = "pair_abs_diff"
        guard dim == 2, dtype == .f32 else {
            throw TensorError("\(op): x must be a packed float32 [T, H] tensor, got \(dtype.name) \(formatShape(shape))")
        }
        let o = try Tensor.validatedOffsets(offsets, rows: shape[0], op: op)
        let p = Tensor.pairBounds(o)
        let h = shape[1], pairs = p.last!
        let x = Functional.dense(self)
        let out = Tensor(uninitialized: [pairs, h], dtype: .f32)
        PairKernel.forward(x.pointer(Float.self), out.pointer(Float.self), o, p, h)
        let pairOffsets = try Tensor(p.map { Int64($0) }, shape: [p.count])
        let saved = Saved(x, op: op)
        let rows = shape[0]
        let result = Tensor.record(op, out, [self]) { g in
            let xs = try saved.get()
            let gd = Functional.dense(g)
            let gx = try Tensor.zeros([rows, h])
            PairKernel.backward(xs.pointer(Float.self), gd.pointer(Float.self), gx.pointer(Float.self), o, p, h)
            return [gx]
        }
        return (result, pairOffsets)
    }
}

enum PairKernel {
    static func forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ o: [Int], _ p: [Int], _ h: Int) {
        parallelFor(o.count - 1, work: p.last! * h) { lo, hi in
            for b in lo..<hi {
                var k = p[b]
                for i in o[b]..<o[b + 1] {
                    let xi = x + i * h
                    for j in (i + 1)..<Swift.max(i + 1, o[b + 1]) {
                        let xj = x + j * h, yk = y + k * h
                        for c in 0..<h { yk[c] = Swift.abs(xi[c] - xj[c]) }
                        k += 1
                    }
                }
            }
        }
    }

    /// gx_i += sign(x_i - x_j) g_ij and gx_j -= sign(x_i - x_j) g_ij; sets own disjoint rows, so
    /// the threads never write the same row.
    static func backward(_ x: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
                         _ o: [Int], _ p: [Int], _ h: Int) {
        parallelFor(o.count - 1, work: p.last! * h * 2) { lo, hi in
            for b in lo..<hi {
                var k = p[b]
                for i in o[b]..<o[b + 1] {
                    let xi = x + i * h, gi = gx + i * h
                    for j in (i + 1)..<Swift.max(i + 1, o[b + 1]) {
                        let xj = x + j * h, gj = gx + j * h, gk = g + k * h
                        for c in 0..<h {
                            let d = xi[c] - xj[c]
                            let s: Float = d > 0 ? gk[c] : (d < 0 ? -gk[c] : 0)
                            gi[c] += s
                            gj[c] -= s
                        }
                        k += 1
                    }
                }
            }
        }
    }
}
