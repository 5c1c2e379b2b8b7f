/// Index-based ops: index_select, gather, scatter, scatter_add, index_add, masked_select,
/// nonzero, one_hot. Index tensors are int64 in `indexBase` (0 from Swift, 1 from Lua); every
/// value is range-checked and errors print it in the caller's base.

extension Tensor {
    /// Validated 0-based index values of an int64 tensor against a dim of size `n`.
    func indexValues(op: String, size n: Int, base indexBase: IndexBase, what: TensorError.Message) throws -> [Int] {
        guard dtype == .i64 else { throw TensorError("\(op): index must be int64, got \(dtype.name)") }
        let v = toInt64Array(), base = indexBase.value
        var out = [Int](repeating: 0, count: v.count)
        for (i, raw) in v.enumerated() {
            guard let x = Tensor.zeroBasedIndex(Int(raw), base: base, size: n, wrapsNegative: false) else {
                throw TensorError("\(op): index \(raw) out of range \(base)..\(n - 1 + base) (\(what) of size \(n))")
            }
            out[i] = x
        }
        return out
    }

    /// `raw` as a 0-based index into a dim of size `n`: counted from `base`, or from the end when
    /// negative and `wrapsNegative` (-1 is the last element in either base). Nil when out of
    /// range; never overflows, whatever integer a script passes.
    static func zeroBasedIndex(_ raw: Int, base: Int, size n: Int, wrapsNegative: Bool = true) -> Int? {
        let i: Int
        if raw < 0 && wrapsNegative {
            i = raw + n   // raw < 0 <= n: cannot overflow
        } else {
            let (shifted, overflow) = raw.subtractingReportingOverflow(base)
            guard !overflow else { return nil }
            i = shifted
        }
        return i >= 0 && i < n ? i : nil
    }

    /// Moves element bytes: dst[di] = src[si] for each pair, for any dtype.
    static func moveElements(_ dtype: DType, _ src: Tensor, _ dst: Tensor, _ pairs: (Int) -> (Int, Int), count: Int) {
        @inline(__always) func go<T>(_: T.Type) {
            let s = src.pointer(T.self), d = dst.pointer(T.self)
            for k in 0..<count { let (si, di) = pairs(k); d[di] = s[si] }
        }
        switch dtype.byteSize { case 4: go(UInt32.self); case 8: go(UInt64.self); default: go(UInt8.self) }
    }

    /// Rows of `dim` picked by a 1-D index: `try x.indexSelect(0, index: idx)`.
    public func indexSelect(_ d: Int, index: Tensor, indexBase: IndexBase = .zero) throws -> Tensor {
        let a = try normalizeDim(d, op: "index_select")
        guard index.dim <= 1 else { throw TensorError("index_select: index must be 1-D, got shape \(formatShape(index.shape))") }
        let src = dim == 0 ? try reshape([1]) : contiguous()
        let idx = try index.indexValues(op: "index_select", size: src.shape[a], base: indexBase, what: "dim \(dim: d)")
        var outShape = src.shape
        outShape[a] = idx.count
        try Tensor.checkFitsInMemory(outShape, dtype: dtype, op: "index_select")
        let A = src.shape[..<a].reduce(1, *), N = src.shape[a], C = src.shape[(a + 1)...].reduce(1, *), M = idx.count
        let out = Tensor(uninitialized: outShape, dtype: dtype)
        // Whole runs of C elements at a time: the rows of a packed [T, D] tensor are copied as rows.
        let bytes = C * dtype.byteSize
        let s = UnsafeRawPointer(src.storage.data + src.offset * dtype.byteSize), o = out.storage.data
        Functional.forRows(A * M, rowCost: C) { lo, hi in
            for r in lo..<hi {
                let ai = r / M, i = r % M
                (o + r * bytes).copyMemory(from: s + (ai * N + idx[i]) * bytes, byteCount: bytes)
            }
        }
        let inShape = src.shape
        let result = Tensor.record("index_select", out, [src]) { g in
            let gradient = Tensor.filled(inShape, value: 0, dtype: .f32)
            Tensor.addRows(into: gradient.pointer(Float.self), Functional.dense(g).pointer(Float.self), index: idx, outer: A, size: N, inner: C, alpha: 1)
            return [gradient]
        }
        return dim == 0 ? try result.reshape([]) : result
    }

    /// `self` with `alpha * source` slices added at the rows given by a 1-D index along `dim`
    /// (repeated indices accumulate).
    /// ```swift
    /// let acc = try zeros.indexAdd(0, index: idx, source: rows)
    /// ```
    public func indexAdd(_ d: Int, index: Tensor, source: Tensor, alpha: Double = 1, indexBase: IndexBase = .zero) throws -> Tensor {
        try requireDims("index_add")
        let a = try normalizeDim(d, op: "index_add")
        guard index.dim <= 1 else { throw TensorError("index_add: index must be 1-D, got shape \(formatShape(index.shape))") }
        let idx = try index.indexValues(op: "index_add", size: shape[a], base: indexBase, what: "dim \(dim: d)")
        var expect = shape
        expect[a] = idx.count
        guard source.shape == expect else {
            throw TensorError("index_add: source has shape \(formatShape(source.shape)), expected \(formatShape(expect)) for \(idx.count) indices into \(formatShape(shape))")
        }
        let dt = DType.promoted(DType.promoted(dtype, source.dtype), .i64)
        guard dt == dtype || dtype == .f32 else { throw TensorError("index_add: cannot add \(source.dtype.name) into \(dtype.name)") }
        let out = to(dt, copyAlways: true), src = source.to(dt).contiguous()
        let A = shape[..<a].reduce(1, *), N = shape[a], C = shape[(a + 1)...].reduce(1, *), M = idx.count
        if dt == .f32 {
            Tensor.addRows(into: out.pointer(Float.self), src.pointer(Float.self), index: idx, outer: A, size: N, inner: C, alpha: Float(alpha))
        } else {
            guard let al = Int64(exactly: alpha) else {
                throw TensorError("index_add: alpha must be an integer to add into an int64 tensor (got \(alpha))")
            }
            let o = out.pointer(Int64.self), s = src.pointer(Int64.self)
            for ai in 0..<A { for i in 0..<M { for c in 0..<C { o[(ai * N + idx[i]) * C + c] &+= al &* s[(ai * M + i) * C + c] } } }
        }
        let i0 = try Tensor(idx.map(Int64.init), shape: [M])
        return Tensor.record("index_add", out, [self, source]) { g in
            [g, try g.indexSelect(a, index: i0).mul(alpha)]
        }
    }

    /// o[ai, idx[i], :] += alpha * s[ai, i, :] for o [A, N, C] and s [A, M, C], both dense: the
    /// index_add kernel, and index_select's backward without a copy of its zeros.
    static func addRows(into o: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, index idx: [Int],
                        outer A: Int, size N: Int, inner C: Int, alpha: Float) {
        let M = idx.count
        for ai in 0..<A {
            for i in 0..<M {
                let dst = o + (ai * N + idx[i]) * C, src = s + (ai * M + i) * C
                for c in 0..<C { dst[c] += alpha * src[c] }
            }
        }
    }

    /// Offsets (into self, into index) for every element of `index` along `dim`, validated.
    private func gatherPositions(_ op: String, _ a: Int, _ index: Tensor, base: IndexBase, limitShape: [Int]? = nil) throws -> [(Int, Int)] {
        guard index.dim == dim else {
            throw TensorError("\(op): index has \(index.dim) dims but the tensor has \(dim) (shape \(formatShape(shape)))")
        }
        for d in 0..<dim where d != a && index.shape[d] > shape[d] {
            throw TensorError("\(op): index shape \(formatShape(index.shape)) exceeds tensor shape \(formatShape(shape)) in dim \(dim: d)")
        }
        if let l = limitShape {
            for d in 0..<dim where index.shape[d] > l[d] {
                throw TensorError("\(op): index shape \(formatShape(index.shape)) exceeds src shape \(formatShape(l)) in dim \(dim: d)")
            }
        }
        let idx = try index.indexValues(op: op, size: dim == 0 ? 1 : shape[a], base: base, what: "dim \(dim: a)")
        let selfStrides = Tensor.contiguousStrides(shape)
        let limStrides = Tensor.contiguousStrides(limitShape ?? index.shape)
        var coords = [Int](repeating: 0, count: index.dim)
        var res = [(Int, Int)]()
        res.reserveCapacity(idx.count)
        for k in 0..<idx.count {
            var so = 0, lo = 0
            for d in 0..<coords.count {
                so += (d == a ? idx[k] : coords[d]) * selfStrides[d]
                lo += coords[d] * limStrides[d]
            }
            res.append((so, lo))
            var d = coords.count - 1
            while d >= 0 { coords[d] += 1; if coords[d] < index.shape[d] { break }; coords[d] = 0; d -= 1 }
        }
        return res
    }

    /// out[i][j] = self[index[i][j]][j] for dim 0 (torch.gather); out has index's shape.
    /// ```swift
    /// let picked = try logp.gather(1, index: labels.unsqueeze(1))
    /// ```
    public func gather(_ d: Int, index: Tensor, indexBase: IndexBase = .zero) throws -> Tensor {
        let a = try normalizeDim(d, op: "gather")
        let src = contiguous()
        let pos = try src.gatherPositions("gather", a, index, base: indexBase)
        let out = Tensor(uninitialized: index.shape, dtype: dtype)
        Tensor.moveElements(dtype, src, out, { k in (pos[k].0, k) }, count: pos.count)
        let inShape = shape, idx = index.contiguousData(), base = indexBase
        return Tensor.record("gather", out, [src]) { g in
            [try Tensor.zeros(inShape).scatterAdd(a, index: idx, src: g, indexBase: base)]
        }
    }

    /// A copy of self with src values written at the index positions along `dim` (torch.scatter).
    /// ```swift
    /// let y = try Tensor.zeros([3, 5]).scatter(1, index: idx, src: vals)
    /// ```
    public func scatter(_ d: Int, index: Tensor, src: Tensor, indexBase: IndexBase = .zero) throws -> Tensor {
        try scatterImpl("scatter", d, index, src, indexBase, accumulate: false)
    }

    /// scatter with one value everywhere: `try x.scatter(1, index: idx, value: 1)`.
    public func scatter(_ d: Int, index: Tensor, value: Double, indexBase: IndexBase = .zero) throws -> Tensor {
        try scatterImpl("scatter", d, index, Tensor.filled(index.shape, value: value, dtype: dtype), indexBase, accumulate: false)
    }

    /// A copy of self with src values added at the index positions along `dim` (repeats accumulate).
    /// ```swift
    /// let counts = try Tensor.zeros([5]).scatterAdd(0, index: labels, src: ones)
    /// ```
    public func scatterAdd(_ d: Int, index: Tensor, src: Tensor, indexBase: IndexBase = .zero) throws -> Tensor {
        try scatterImpl("scatter_add", d, index, src, indexBase, accumulate: true)
    }

    private func scatterImpl(_ op: String, _ d: Int, _ index: Tensor, _ src: Tensor, _ base: IndexBase, accumulate: Bool) throws -> Tensor {
        let a = try normalizeDim(d, op: op)
        guard src.dim == dim else {
            throw TensorError("\(op): src has \(src.dim) dims but the tensor has \(dim) (shape \(formatShape(shape)))")
        }
        let pos = try gatherPositions(op, a, index, base: base, limitShape: src.shape)
        let dt = accumulate ? DType.promoted(DType.promoted(dtype, src.dtype), .i64) : dtype
        let out = to(dt, copyAlways: true), s = src.to(dt).contiguous()
        if accumulate {
            if dt == .f32 {
                let o = out.pointer(Float.self), p = s.pointer(Float.self)
                for (so, lo) in pos { o[so] += p[lo] }
            } else {
                let o = out.pointer(Int64.self), p = s.pointer(Int64.self)
                for (so, lo) in pos { o[so] &+= p[lo] }
            }
        } else {
            Tensor.moveElements(dt, s, out, { k in (pos[k].1, pos[k].0) }, count: pos.count)
        }
        let idx = index.contiguousData(), srcShape = src.shape
        return Tensor.record(op, out, [self, src]) { g in
            let gSelf = accumulate ? g : try withNoGrad { try g.scatter(a, index: idx, value: 0, indexBase: base) }
            let gSrc = try g.gather(a, index: idx, indexBase: base)
            // src may be larger than index; its other elements get no gradient.
            let full = try Tensor.zeros(srcShape)
            let region = gSrc.shape.map { TensorIndex.range(0, $0, 1) }
            try full.setSlice(region, value: gSrc)
            return [gSelf, full]
        }
    }

    /// Elements where `mask` (broadcast with self) is true, as a 1-D tensor.
    /// ```swift
    /// let real = try x.maskedSelect(mask)
    /// ```
    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        guard mask.dtype == .bool else { throw TensorError("masked_select: mask must be bool, got \(mask.dtype.name)") }
        let s = try broadcastShapes(shape, mask.shape, op: "masked_select")
        let flat = try expand(s).reshape([-1])
        let m = try mask.expand(s).reshape([-1]).toBoolArray()
        var idx: [Int64] = []
        for (i, b) in m.enumerated() where b { idx.append(Int64(i)) }
        return try flat.indexSelect(0, index: Tensor(idx, shape: [idx.count]))
    }

    /// 0-based coordinates of nonzero elements, one row per element: [count, dim] int64.
    /// ```swift
    /// let where_ = x.nonzero()
    /// ```
    public func nonzero() -> Tensor {
        let b = toBoolArray()
        let nz = b.indices.filter { b[$0] }
        let st = Tensor.contiguousStrides(shape)
        var out = [Int64]()
        out.reserveCapacity(nz.count * dim)
        for i in nz {
            var rem = i
            for d in 0..<dim { out.append(Int64(rem / st[d])); rem %= st[d] }
        }
        return Tensor(uninitialized: [nz.count, dim], dtype: .i64).filledWith(out)
    }

    func filledWith(_ v: [Int64]) -> Tensor {
        let p = pointer(Int64.self)
        for (i, x) in v.enumerated() { p[i] = x }
        return self
    }

    /// One-hot int64 encoding with a new last dim of `numClasses` (-1: max value + 1).
    /// ```swift
    /// let oh = try labels.oneHot(numClasses: 10)
    /// ```
    public func oneHot(numClasses: Int = -1, indexBase: IndexBase = .zero) throws -> Tensor {
        guard dtype == .i64 else { throw TensorError("one_hot: expects an int64 tensor, got \(dtype.name)") }
        let raw = toInt64Array()
        // -1: one more than the largest label (as a count from indexBase); an absurd label is
        // caught by indexValues below.
        let largest = Int(raw.max() ?? Int64(indexBase.value - 1))
        let c = numClasses >= 0 ? numClasses : Swift.max(0, largest.subtractingReportingOverflow(indexBase.value - 1).partialValue)
        let idx = try indexValues(op: "one_hot", size: c, base: indexBase, what: "num_classes")
        try Tensor.checkFitsInMemory(shape + [c], dtype: .i64, op: "one_hot")
        let out = Tensor.filled(shape + [c], value: 0, dtype: .i64)
        let p = out.pointer(Int64.self)
        for (i, k) in idx.enumerated() { p[i * c + k] = 1 }
        return out
    }
}
