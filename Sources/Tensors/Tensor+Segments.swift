/// Packed-set (segment) ops. A batch of B sets is `[T, ...]` rows plus `offsets` (int64,
/// [B+1], 0-based row offsets: set b owns rows offsets[b] ..< offsets[b+1]), see DESIGN.md
/// "Sets are packed". Reductions give `[B, ...]`; empty sets reduce to 0.

extension Tensor {
    /// The offsets of a packed tensor with `rows` rows, validated and as Ints: a 1-D int64
    /// tensor [B+1] starting at 0, non-decreasing, ending at `rows`. Errors name `op` and call
    /// the tensor `what`. The one offsets check: segment ops, attention and the NN layers use it.
    ///
    /// ```swift
    /// let bounds = try Tensor.validatedOffsets(offsets, rows: x.shape[0], op: "my_pool")   // [0, 3, 4, ...]
    /// ```
    public static func validatedOffsets(_ offsets: Tensor, rows: Int, op: String, what: String = "offsets") throws -> [Int] {
        guard offsets.dtype == .i64, offsets.dim == 1, offsets.numel >= 1 else {
            throw TensorError("\(op): \(what) must be a 1-D int64 tensor [B+1], got \(offsets.dtype.name) \(formatShape(offsets.shape))")
        }
        let o = offsets.toIntArray()
        guard o[0] == 0 else { throw TensorError("\(op): \(what) must start at 0 (got \(o[0]))") }
        for b in 1..<o.count where o[b] < o[b - 1] {
            throw TensorError("\(op): \(what) must be non-decreasing (\(what)[\(index: b - 1)] = \(o[b - 1]) > \(what)[\(index: b)] = \(o[b]))")
        }
        guard o.last! == rows else {
            throw TensorError("\(op): \(what) end at \(o.last!) but the packed tensor has \(rows) rows")
        }
        return o
    }

    /// Segment id of every row, as an int64 index tensor [T].
    static func segmentIds(_ bounds: [Int]) -> Tensor {
        let t = Tensor(uninitialized: [bounds.last!], dtype: .i64)
        let p = t.pointer(Int64.self)
        for b in 0..<(bounds.count - 1) { for r in bounds[b]..<bounds[b + 1] { p[r] = Int64(b) } }
        return t
    }

    /// Per-set sums of the rows: [T, ...] -> [B, ...].
    /// ```swift
    /// let pooled = try x.segmentSum(offsets: batch.offsets)
    /// ```
    public func segmentSum(offsets: Tensor) throws -> Tensor {
        guard dim >= 1 else { throw TensorError("segment_sum: expected a packed tensor [T, ...], got a 0-D tensor") }
        let o = try Tensor.validatedOffsets(offsets, rows: shape[0], op: "segment_sum")
        let zeros = Tensor.filled([o.count - 1] + shape.dropFirst(), value: 0, dtype: dtype == .f32 ? .f32 : .i64)
        return try zeros.indexAdd(0, index: Tensor.segmentIds(o), source: self)
    }

    /// Per-set means of the rows (empty sets give 0).
    /// ```swift
    /// let pooled = try x.segmentMean(offsets: offsets)
    /// ```
    public func segmentMean(offsets: Tensor) throws -> Tensor {
        let s = try to(.f32).segmentSum(offsets: offsets)
        let o = offsets.toInt64Array()
        let counts = (0..<(o.count - 1)).map { Float(Swift.max(o[$0 + 1] - o[$0], 1)) }
        let c = try Tensor(counts, shape: [counts.count] + [Int](repeating: 1, count: dim - 1))
        return try s.div(c)
    }

    /// Per-set maxima of the rows (empty sets give 0); the gradient goes to the first maximal row.
    /// ```swift
    /// let m = try x.segmentMax(offsets: offsets)
    /// ```
    public func segmentMax(offsets: Tensor) throws -> Tensor {
        guard dim >= 1 else { throw TensorError("segment_max: expected a packed tensor [T, ...], got a 0-D tensor") }
        let o = try Tensor.validatedOffsets(offsets, rows: shape[0], op: "segment_max")
        let B = o.count - 1
        let x = to(.f32).contiguous()
        let C = shape.dropFirst().reduce(1, *)
        let out = Tensor.filled([B] + shape.dropFirst(), value: 0, dtype: .f32)
        let arg = Tensor.filled([B] + shape.dropFirst(), value: -1, dtype: .i64)
        let px = x.pointer(Float.self), po = out.pointer(Float.self), pw = arg.pointer(Int64.self)
        for b in 0..<B where o[b + 1] > o[b] {
            for c in 0..<C {
                var best = px[o[b] * C + c], bi = o[b]
                if !best.isNaN {
                    for r in (o[b] + 1)..<o[b + 1] {
                        let v = px[r * C + c]
                        if v.isNaN { best = v; bi = r; break }
                        if v > best { best = v; bi = r }
                    }
                }
                po[b * C + c] = best
                pw[b * C + c] = Int64(bi)
            }
        }
        let inShape = x.shape
        return Tensor.record("segment_max", out, [x]) { g in
            let gi = g.contiguousData(), gp = gi.pointer(Float.self), pa = arg.pointer(Int64.self)
            let z = Tensor.filled(inShape, value: 0, dtype: .f32), zp = z.pointer(Float.self)
            for k in 0..<(B * C) where pa[k] >= 0 { zp[Int(pa[k]) * C + k % C] += gp[k] }
            return [z]
        }
    }

    /// Repeats each set's row [B, ...] over its rows: -> [T, ...] (the inverse of segmentSum).
    /// ```swift
    /// let centred = try x.sub(x.segmentMean(offsets: o).segmentExpand(offsets: o))
    /// ```
    public func segmentExpand(offsets: Tensor) throws -> Tensor {
        guard dim >= 1, offsets.numel == shape[0] + 1 else {
            throw TensorError("segment_expand: expected [B, ...] with offsets [B+1], got \(formatShape(shape)) and offsets \(formatShape(offsets.shape))")
        }
        let o = try Tensor.validatedOffsets(offsets, rows: offsets.toInt64Array().last.map(Int.init) ?? 0, op: "segment_expand")
        return try indexSelect(0, index: Tensor.segmentIds(o))
    }

    /// Softmax over the rows of each set, separately per trailing feature: [T, ...] -> [T, ...].
    /// ```swift
    /// let w = try scores.segmentSoftmax(offsets: offsets)
    /// ```
    public func segmentSoftmax(offsets: Tensor) throws -> Tensor {
        let x = to(.f32)
        let m = try withNoGrad { try x.segmentMax(offsets: offsets).segmentExpand(offsets: offsets) }
        let e = try x.sub(m).exp()
        return try e.div(e.segmentSum(offsets: offsets).segmentExpand(offsets: offsets))
    }

    /// Packs a padded batch [B, N, ...] with a bool mask [B, N] into rows [T, ...] (the masked-in
    /// rows, in order) and offsets [B+1].
    /// ```swift
    /// let (rows, offsets) = try padded.pack(mask: mask)
    /// ```
    public func pack(mask: Tensor) throws -> (packed: Tensor, offsets: Tensor) {
        guard dim >= 2, mask.dtype == .bool, mask.shape == Array(shape.prefix(2)) else {
            throw TensorError("pack: expected padded [B, N, ...] and a bool mask [B, N], got \(formatShape(shape)) and \(mask.dtype.name) \(formatShape(mask.shape))")
        }
        let B = shape[0], N = shape[1]
        let m = mask.toBoolArray()
        var idx: [Int64] = [], off: [Int64] = [0]
        for b in 0..<B {
            for n in 0..<N where m[b * N + n] { idx.append(Int64(b * N + n)) }
            off.append(Int64(idx.count))
        }
        let flat = try reshape([B * N] + shape.dropFirst(2))
        return (try flat.indexSelect(0, index: Tensor(idx, shape: [idx.count])), try Tensor(off, shape: [B + 1]))
    }

    /// Unpacks rows [T, ...] with offsets [B+1] into a zero-padded [B, N, ...] and a bool mask
    /// [B, N]; N defaults to the longest set.
    /// ```swift
    /// let (padded, mask) = try rows.unpack(offsets: offsets, length: 128)
    /// ```
    public func unpack(offsets: Tensor, length: Int? = nil) throws -> (padded: Tensor, mask: Tensor) {
        guard dim >= 1 else { throw TensorError("unpack: expected a packed tensor [T, ...], got a 0-D tensor") }
        let o = try Tensor.validatedOffsets(offsets, rows: shape[0], op: "unpack")
        let B = o.count - 1
        let longest = (0..<B).map { o[$0 + 1] - o[$0] }.max() ?? 0
        let N = length ?? longest
        guard N >= longest else {
            throw TensorError("unpack: a set has \(longest) rows, more than the requested length \(N)")
        }
        try Tensor.checkFitsInMemory([B, N] + shape.dropFirst(), dtype: dtype, op: "unpack")
        var idx: [Int64] = []
        var mask = [Bool](repeating: false, count: B * N)
        for b in 0..<B {
            for r in o[b]..<o[b + 1] {
                idx.append(Int64(b * N + r - o[b]))
                mask[b * N + r - o[b]] = true
            }
        }
        let zeros = Tensor.filled([B * N] + shape.dropFirst(), value: 0, dtype: dtype == .bool ? .i64 : dtype)
        let padded = try zeros.indexAdd(0, index: Tensor(idx, shape: [idx.count]), source: dtype == .bool ? to(.i64) : self)
        let shaped = try padded.reshape([B, N] + shape.dropFirst())
        return (dtype == .bool ? shaped.to(.bool) : shaped, try Tensor(mask, shape: [B, N]))
    }
}
