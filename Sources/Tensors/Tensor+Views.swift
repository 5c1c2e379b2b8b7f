/// Views that share storage (view, transpose, permute, narrow, select, squeeze, unsqueeze,
/// expand, flatten, slicing) and their autograd rules.

/// One entry of a slicing expression, Python style and 0-based: `.index(2)` selects (and drops
/// the dim), `.range(start, stop, step)` keeps it (nil bounds mean the ends; negative bounds
/// count from the end; bounds are clamped as in Python), `.all` keeps the whole dim.
public enum TensorIndex: Equatable {
    case index(Int)
    case range(Int?, Int?, Int)
    case all
}

extension Tensor {
    func aliased(_ shape: [Int], _ strides: [Int], _ offset: Int) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// Records a view whose gradient is scattered into zeros through the same view.
    func recordSliceView(_ name: String, _ out: Tensor, _ make: @escaping (Tensor) throws -> Tensor) -> Tensor {
        let inShape = shape
        return Tensor.record(name, out, [self]) { g in
            let z = Tensor.filled(inShape, value: 0, dtype: .f32)
            let v = try make(z)
            g.copyElements(into: v, shape: v.shape, srcStrides: g.broadcastStrides(to: v.shape))
            return [z]
        }
    }

    /// Resolves a shape with at most one -1 against `count` elements.
    static func inferShape(_ shape: [Int], count: Int, op: String, from: [Int]) throws -> [Int] {
        var out = shape
        let unknown = shape.indices.filter { shape[$0] == -1 }
        if unknown.count > 1 { throw TensorError("\(op): only one dimension can be -1 (got \(formatShape(shape)))") }
        if let bad = shape.first(where: { $0 < -1 }) { throw TensorError("\(op): invalid size \(bad) in \(formatShape(shape))") }
        var known = 1
        for size in shape where size != -1 {
            let (product, overflow) = known.multipliedReportingOverflow(by: size)
            if overflow { throw TensorError("\(op): shape \(formatShape(shape)) is invalid for input of shape \(formatShape(from)) (\(count) elements)") }
            known = product
        }
        if let u = unknown.first {
            guard known != 0 && count % known == 0 else {
                throw TensorError("\(op): shape \(formatShape(shape)) is invalid for input of shape \(formatShape(from)) (\(count) elements)")
            }
            out[u] = count / known
        } else if known != count {
            throw TensorError("\(op): shape \(formatShape(shape)) is invalid for input of shape \(formatShape(from)) (\(count) elements)")
        }
        // An empty tensor fits any shape with a 0 in it, but strides still multiply the other sizes.
        try checkFitsInMemory(out, dtype: .bool, op: op)
        return out
    }

    /// A view with a new shape (one dim may be -1); needs a contiguous tensor.
    /// ```swift
    /// let m = try Tensor.arange(6).view([2, -1])
    /// ```
    public func view(_ newShape: [Int]) throws -> Tensor {
        let s = try Tensor.inferShape(newShape, count: numel, op: "view", from: shape)
        guard isContiguous else {
            throw TensorError("view: tensor of shape \(formatShape(shape)) is not contiguous; use reshape (copies) or contiguous() first")
        }
        let out = aliased(s, Tensor.contiguousStrides(s), offset)
        let inShape = shape
        return Tensor.record("view", out, [self]) { g in [try g.reshape(inShape)] }
    }

    /// Like `view`, copying first when the layout requires it.
    /// ```swift
    /// let flat = try x.transpose(0, 1).reshape([-1])
    /// ```
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        if isContiguous { return try view(newShape) }
        _ = try Tensor.inferShape(newShape, count: numel, op: "reshape", from: shape)
        return try contiguous().view(newShape)
    }

    /// A contiguous tensor with the same values (self when already contiguous).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        return Tensor.record("contiguous", contiguousData(), [self]) { g in [g] }
    }

    /// A contiguous copy that owns its storage; differentiable.
    /// ```swift
    /// let y = try x.clone()
    /// ```
    public func clone() throws -> Tensor {
        Tensor.record("clone", contiguousData(), [self]) { g in [g] }
    }

    /// Swaps two dims: `try x.transpose(0, 1)`.
    public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
        let a = try normalizeDim(d0, op: "transpose"), b = try normalizeDim(d1, op: "transpose")
        if dim == 0 { return self }
        var sh = shape, st = strides
        sh.swapAt(a, b); st.swapAt(a, b)
        return Tensor.record("transpose", aliased(sh, st, offset), [self]) { g in [try g.transpose(a, b)] }
    }

    /// Transpose of a 2-D tensor (`t()` in PyTorch).
    public func t() throws -> Tensor {
        guard dim <= 2 else { throw TensorError("t: expects a tensor with at most 2 dims, got \(dim)-D; use transpose") }
        return dim < 2 ? self : try transpose(0, 1)
    }

    /// Reorders dims: `try x.permute([2, 0, 1])`.
    public func permute(_ dims: [Int]) throws -> Tensor {
        guard dims.count == dim else {
            throw TensorError("permute: got \(dims.count) dims for a \(dim)-D tensor of shape \(formatShape(shape))")
        }
        let p = try dims.map { try normalizeDim($0, op: "permute") }
        guard Set(p).count == p.count else { throw TensorError("permute: repeated dim in \(formatShape(dims))") }
        var inverse = [Int](repeating: 0, count: p.count)
        for (i, d) in p.enumerated() { inverse[d] = i }
        let out = aliased(p.map { shape[$0] }, p.map { strides[$0] }, offset)
        return Tensor.record("permute", out, [self]) { g in [try g.permute(inverse)] }
    }

    /// `length` elements of `dim` starting at `start` (0-based): `try x.narrow(1, start: 2, length: 3)`.
    public func narrow(_ d: Int, start: Int, length: Int) throws -> Tensor {
        let a = try normalizeDim(d, op: "narrow")
        guard dim > 0 else { throw TensorError("narrow: cannot narrow a 0-D tensor") }
        let s = start < 0 ? start + shape[a] : start
        guard s >= 0, s <= shape[a], length >= 0, length <= shape[a] - s else {
            throw TensorError("narrow: start \(start) and length \(length) exceed size \(shape[a]) of dim \(dim: d) (shape \(formatShape(shape)))")
        }
        var sh = shape
        sh[a] = length
        let out = aliased(sh, strides, offset + s * strides[a])
        return recordSliceView("narrow", out) { z in try z.narrow(a, start: s, length: length) }
    }

    /// Removes `dim` by taking element `index` of it; `indexBase` is the base of `index` (the Lua
    /// bindings pass 1).
    /// ```swift
    /// let row = try m.select(0, 1)
    /// ```
    public func select(_ d: Int, _ index: Int, indexBase: IndexBase = .zero) throws -> Tensor {
        guard dim > 0 else { throw TensorError("select: cannot index a 0-D tensor") }
        let a = try normalizeDim(d, op: "select")
        let n = shape[a]
        guard let i = Tensor.zeroBasedIndex(index, base: indexBase.value, size: n) else {
            throw TensorError("select: index \(index) out of range \(indexBase)..\(n - 1 + indexBase.value) for dim \(dim: d) of shape \(formatShape(shape))")
        }
        var sh = shape, st = strides
        sh.remove(at: a); st.remove(at: a)
        let out = aliased(sh, st, offset + i * strides[a])
        return recordSliceView("select", out) { z in try z.select(a, i) }
    }

    /// Removes size-1 dims (all of them, or only `dim`): `try x.squeeze(0)`.
    public func squeeze(_ d: Int? = nil) throws -> Tensor {
        var keep = Array(0..<dim)
        if let d {
            let a = try normalizeDim(d, op: "squeeze")
            if dim > 0 && shape[a] == 1 { keep.remove(at: a) }
        } else {
            keep = keep.filter { shape[$0] != 1 }
        }
        let inShape = shape
        let out = aliased(keep.map { shape[$0] }, keep.map { strides[$0] }, offset)
        return Tensor.record("squeeze", out, [self]) { g in [try g.reshape(inShape)] }
    }

    /// Inserts a size-1 dim at position `dim` (0...rank): `try x.unsqueeze(0)`.
    public func unsqueeze(_ d: Int) throws -> Tensor {
        let a = try normalizeDim(d, op: "unsqueeze", rank: dim + 1)
        var sh = shape, st = strides
        sh.insert(1, at: a)
        st.insert(a < dim ? strides[a] * shape[a] : 1, at: a)
        let inShape = shape
        return Tensor.record("unsqueeze", aliased(sh, st, offset), [self]) { g in [try g.reshape(inShape)] }
    }

    /// Broadcasts to a larger shape without copying (-1 keeps a size): `try b.expand([4, 3])`.
    public func expand(_ target: [Int]) throws -> Tensor {
        guard target.count >= dim else {
            throw TensorError("expand: target \(formatShape(target)) has fewer dims than the tensor \(formatShape(shape))")
        }
        let lead = target.count - dim
        var sh = target
        for i in 0..<dim where target[i + lead] == -1 { sh[i + lead] = shape[i] }
        for i in 0..<sh.count {
            let src = i >= lead ? shape[i - lead] : 1
            guard sh[i] >= 0, src == sh[i] || src == 1 else {
                throw TensorError("expand: shape \(formatShape(shape)) cannot expand to \(formatShape(target))")
            }
        }
        if sh == shape { return self }
        // A view costs nothing, but a copy of it (contiguous, any elementwise op) must fit.
        try Tensor.checkFitsInMemory(sh, dtype: dtype, op: "expand")
        let inShape = shape
        let out = aliased(sh, broadcastStrides(to: sh), offset)
        return Tensor.record("expand", out, [self]) { g in [try g.sumTo(inShape)] }
    }

    /// Expands to `other`'s shape: `try b.expandAs(a)`.
    public func expandAs(_ other: Tensor) throws -> Tensor { try expand(other.shape) }

    /// Merges dims `startDim...endDim` into one: `try x.flatten(1)`.
    public func flatten(_ startDim: Int = 0, _ endDim: Int = -1) throws -> Tensor {
        if dim == 0 { return try reshape([1]) }
        let a = try normalizeDim(startDim, op: "flatten"), b = try normalizeDim(endDim, op: "flatten")
        guard a <= b else { throw TensorError("flatten: start dim must not come after end dim") }
        let merged = shape[a...b].reduce(1, *)
        return try reshape(Array(shape[..<a]) + [merged] + Array(shape[(b + 1)...]))
    }

    /// Resolves a slicing expression into a view's shape, strides and offset.
    func resolveSlice(_ indices: [TensorIndex], indexBase: IndexBase, op: String) throws -> ([Int], [Int], Int) {
        guard indices.count <= dim else {
            throw TensorError("\(op): \(indices.count) indices for a \(dim)-D tensor of shape \(formatShape(shape))")
        }
        var sh: [Int] = [], st: [Int] = [], off = offset
        for d in 0..<dim {
            let n = shape[d]
            switch d < indices.count ? indices[d] : .all {
            case .all:
                sh.append(n); st.append(strides[d])
            case .index(let raw):
                guard let i = Tensor.zeroBasedIndex(raw, base: indexBase.value, size: n) else {
                    throw TensorError("\(op): index \(raw) out of range \(indexBase)..\(n - 1 + indexBase.value) for dim \(dim: d) of shape \(formatShape(shape))")
                }
                off += i * strides[d]
            case .range(let start, let stop, let step):
                guard step > 0 else { throw TensorError("\(op): slice step must be positive (got \(step))") }
                func clampBound(_ v: Int?, _ dflt: Int) -> Int {
                    guard let v else { return dflt }
                    return Swift.min(Swift.max(v < 0 ? v + n : v, 0), n)
                }
                let a = clampBound(start, 0), b = Swift.max(clampBound(stop, n), a)
                let count = (b - a) / step + ((b - a) % step == 0 ? 0 : 1)
                sh.append(count)
                // A step beyond the dim leaves at most one element, whose stride is never used.
                st.append(count > 1 ? strides[d] * step : strides[d])
                off += a * strides[d]
            }
        }
        return (sh, st, off)
    }

    /// A view selected by a slicing expression (like `x[1, 2:5, ::2]` in Python); `indexBase`
    /// applies to `.index` entries.
    /// ```swift
    /// let v = try x.slice([.index(1), .range(2, 5, 1)])
    /// ```
    public func slice(_ indices: [TensorIndex], indexBase: IndexBase = .zero) throws -> Tensor {
        let (sh, st, off) = try resolveSlice(indices, indexBase: indexBase, op: "index")
        let idx = indices
        return recordSliceView("slice", aliased(sh, st, off)) { z in try z.slice(idx) }
    }

    /// Writes `value` (broadcast) into the slice; differentiable with respect to both.
    /// ```swift
    /// try x.setSlice([.index(0)], value: Tensor([1, 2, 3]))
    /// ```
    public func setSlice(_ indices: [TensorIndex], value: Tensor, indexBase: IndexBase = .zero) throws {
        let (sh, st, off) = try resolveSlice(indices, indexBase: indexBase, op: "index assignment")
        _ = try broadcastShapes(sh, value.shape, op: "index assignment")
        let lead = value.dim - sh.count
        guard lead <= 0 || value.shape[..<lead].allSatisfy({ $0 == 1 }),
              (try broadcastShapes(sh, value.shape, op: "index assignment")).suffix(sh.count) == ArraySlice(sh) else {
            throw TensorError("index assignment: value of shape \(formatShape(value.shape)) cannot be broadcast to the slice shape \(formatShape(sh))")
        }
        let src = lead > 0 ? try value.reshape(Array(value.shape[lead...])) : value
        let idx = indices
        try inPlace("index assignment", others: [value], compute: { base in
            try base.sliceScatter(idx, src)
        }, fast: {
            let v = src.dtype == dtype ? src : src.to(dtype)
            v.copyElements(into: aliased(sh, st, off), shape: sh, srcStrides: v.broadcastStrides(to: sh))
        })
    }

    /// Writes a scalar into the slice: `try x.setSlice([.all, .index(0)], value: 0)`.
    public func setSlice(_ indices: [TensorIndex], value: Double, indexBase: IndexBase = .zero) throws {
        try setSlice(indices, value: Tensor.filled([], value: value, dtype: dtype), indexBase: indexBase)
    }

    /// Out-of-place slice assignment: a copy of self with the slice replaced by `src`.
    func sliceScatter(_ indices: [TensorIndex], _ src: Tensor) throws -> Tensor {
        let out = contiguousData()
        let (sh, st, off) = try out.resolveSlice(indices, indexBase: 0, op: "index assignment")
        let v = src.dtype == dtype ? src : src.to(dtype)
        v.copyElements(into: out.aliased(sh, st, off), shape: sh, srcStrides: v.broadcastStrides(to: sh))
        let srcShape = src.shape
        return Tensor.record("slice_assign", out, [self, src]) { g in
            let gs = try g.slice(indices)
            let gBase = g.contiguousData()
            let (s2, t2, o2) = try gBase.resolveSlice(indices, indexBase: 0, op: "index assignment")
            gBase.aliased(s2, t2, o2).fillStrided(0)
            return [gBase, try gs.sumTo(srcShape)]
        }
    }

    /// Copies `src` (broadcast, converted to this dtype) into this tensor in place.
    /// ```swift
    /// try w.copy_(pretrained)
    /// ```
    @discardableResult
    public func copy_(_ src: Tensor) throws -> Tensor {
        try setSlice([], value: src)
        return self
    }

    /// Sets every element to `value` in place: `try x.fill_(0)`.
    @discardableResult
    public func fill_(_ value: Double) throws -> Tensor {
        try setSlice([], value: value)
        return self
    }

    /// Writes `value` into every element of this (possibly strided) view, without autograd.
    func fillStrided(_ value: Double) {
        let one = Tensor.filled([], value: value, dtype: dtype)
        one.copyElements(into: self, shape: shape, srcStrides: [Int](repeating: 0, count: dim))
    }
}
