/// max / min (values with indices along one dim, or over everything), amax / amin over
/// several dims, argmax / argmin. Indices are 0-based int64. NaN wins, as in PyTorch.

extension Tensor {
    /// Values and 0-based indices of the extreme along the reduced block of `L`.
    private func extremeKernel(_ L: ReduceLayout, largest: Bool, keepDim: Bool) -> (Tensor, Tensor) {
        let outShape = keepDim ? L.keepShape : L.dropShape
        let vals = Tensor(uninitialized: outShape, dtype: dtype == .f32 ? .f32 : .i64)
        let idx = Tensor(uninitialized: outShape, dtype: .i64)
        let ip = idx.pointer(Int64.self)
        let (A, R, C) = (L.a, L.r, L.c)
        @inline(__always) func scan<T: Comparable>(_ src: Tensor, _: T.Type, _ isNaN: (T) -> Bool) {
            let s = src.pointer(T.self), o = vals.pointer(T.self)
            parallelFor(A * C, work: A * R * C) { lo, hi in
                for k in lo..<hi {
                    let ai = k / C, c = k % C
                    let base = s + ai * R * C + c
                    var best = base[0], bi = 0
                    if !isNaN(best) {
                        for ri in 1..<Swift.max(R, 1) {
                            let v = base[ri * C]
                            if isNaN(v) { best = v; bi = ri; break }
                            if largest ? v > best : v < best { best = v; bi = ri }
                        }
                    }
                    o[k] = best
                    ip[k] = Int64(bi)
                }
            }
        }
        if dtype == .f32 { scan(L.src, Float.self) { $0.isNaN } } else { scan(L.src.to(.i64), Int64.self) { _ in false } }
        return (vals, idx)
    }

    private func extreme(_ name: String, dim d: Int, largest: Bool, keepDim: Bool) throws -> (values: Tensor, indices: Tensor) {
        guard dim > 0 else {
            _ = try normalizeDim(d, op: name)
            return (try clone(), Tensor.filled([], value: 0, dtype: .i64))
        }
        let a = try normalizeDim(d, op: name)
        guard shape[a] > 0 else {
            throw TensorError("\(name): cannot reduce dim \(dim: d) of size 0 (shape \(formatShape(shape)))")
        }
        let L = reduceLayout([a])
        let (v, i) = extremeKernel(L, largest: largest, keepDim: keepDim)
        let inShape = shape, keepShape = L.keepShape
        let idx = i
        let values = Tensor.record(name, v, [self]) { g in
            [try Tensor.zeros(inShape).scatter(a, index: idx.reshape(keepShape), src: g.reshape(keepShape))]
        }
        return (values, i)
    }

    /// Largest values along `dim` and their 0-based indices.
    /// ```swift
    /// let (v, i) = try x.max(dim: 1)
    /// ```
    public func max(dim d: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme("max", dim: d, largest: true, keepDim: keepDim)
    }

    /// Smallest values along `dim` and their 0-based indices.
    public func min(dim d: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme("min", dim: d, largest: false, keepDim: keepDim)
    }

    /// Largest element (0-D); the gradient goes to the first maximal element.
    /// ```swift
    /// let m = try x.max()
    /// ```
    public func max() throws -> Tensor {
        guard numel > 0 else { throw TensorError("max: cannot reduce an empty tensor") }
        return try reshape([-1]).max(dim: 0).values
    }

    /// Smallest element (0-D).
    public func min() throws -> Tensor {
        guard numel > 0 else { throw TensorError("min: cannot reduce an empty tensor") }
        return try reshape([-1]).min(dim: 0).values
    }

    /// Max over several dims (all when nil); ties share the gradient evenly.
    /// ```swift
    /// let m = try x.amax(dims: [1, 2])
    /// ```
    public func amax(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        try extremeMulti("amax", dims: dims, largest: true, keepDim: keepDim)
    }

    /// Min over several dims (all when nil).
    public func amin(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        try extremeMulti("amin", dims: dims, largest: false, keepDim: keepDim)
    }

    private func extremeMulti(_ name: String, dims: [Int]?, largest: Bool, keepDim: Bool) throws -> Tensor {
        let d = try reductionDims(dims, op: name)
        if let z = d.first(where: { shape[$0] == 0 }) {
            throw TensorError("\(name): cannot reduce dim \(dim: z) of size 0 (shape \(formatShape(shape)))")
        }
        let L = reduceLayout(d)
        // The reduced block is either the middle of a contiguous [A, R, C] or the tail of a copy.
        let (v, _) = extremeKernel(L, largest: largest, keepDim: keepDim)
        let x = Saved(self, op: name), y = Saved(v, op: name), keepShape = L.keepShape
        return Tensor.record(name, v, [self]) { g in
            let xv = try x.get(), yv = try y.get().reshape(keepShape)
            let mask = try xv.eq(yv).to(.f32)
            let count = try mask.sum(dims: d, keepDim: true)
            return [try mask.mul(g.reshape(keepShape)).div(count)]
        }
    }

    /// 0-based index of the largest element along `dim`, or in the flattened tensor when nil.
    /// ```swift
    /// let cls = try logits.argmax(dim: -1)
    /// ```
    public func argmax(dim d: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        guard let d else { return try withNoGrad { try reshape([-1]).max(dim: 0).indices } }
        return try withNoGrad { try self.max(dim: d, keepDim: keepDim).indices }
    }

    /// 0-based index of the smallest element along `dim`, or in the flattened tensor when nil.
    public func argmin(dim d: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        guard let d else { return try withNoGrad { try reshape([-1]).min(dim: 0).indices } }
        return try withNoGrad { try self.min(dim: d, keepDim: keepDim).indices }
    }
}
