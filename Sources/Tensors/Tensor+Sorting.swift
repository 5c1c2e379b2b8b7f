/// Sorting and selection: sort, argsort (stable), topk, unique. Indices are 0-based int64.

extension Tensor {
    /// Sorts along `dim`; returns values and the 0-based indices they came from. Stable: equal
    /// values keep their order. NaN sorts as the largest value.
    /// ```swift
    /// let (v, i) = try x.sort(dim: -1, descending: true)
    /// ```
    public func sort(dim d: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        if dim == 0 { return (try clone(), Tensor.filled([], value: 0, dtype: .i64)) }
        let a = try normalizeDim(d, op: "sort")
        let n = shape[a]
        // Move the sorted dim last so each row is one contiguous run.
        let moved = try withNoGrad { try transpose(a, -1).contiguous() }
        let vals = moved.to(.f32).toFloatArray()
        let rows = n == 0 ? 0 : moved.numel / n
        var order = [Int64](repeating: 0, count: moved.numel)
        for r in 0..<rows {
            let base = r * n
            let idx = (0..<n).sorted { i, j in
                let x = vals[base + i], y = vals[base + j]
                if x.isNaN || y.isNaN { return descending ? (x.isNaN && !y.isNaN) : (!x.isNaN && y.isNaN) }
                return descending ? x > y : x < y
            }
            for (k, i) in idx.enumerated() { order[base + k] = Int64(i) }
        }
        let idxMoved = try Tensor(order, shape: moved.shape)
        let indices = try idxMoved.transpose(a, -1).contiguous()
        return (try gather(a, index: indices), indices)
    }

    /// Indices that sort `dim` (stable).
    /// ```swift
    /// let order = try x.argsort(dim: 0)
    /// ```
    public func argsort(dim d: Int = -1, descending: Bool = false) throws -> Tensor {
        try withNoGrad { try sort(dim: d, descending: descending).indices }
    }

    /// The `k` largest (or smallest) values along `dim`, sorted, with their indices.
    /// ```swift
    /// let (v, i) = try scores.topk(5)
    /// ```
    public func topk(_ k: Int, dim d: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        let a = try normalizeDim(d, op: "topk")
        let n = dim == 0 ? 1 : shape[a]
        guard k >= 0 && k <= n else { throw TensorError("topk: k = \(k) is out of range 0..\(n) for dim \(dim: d) of shape \(formatShape(shape))") }
        if dim == 0 { return try sort(dim: a, descending: largest) }
        let all = try withNoGrad { try sort(dim: a, descending: largest).indices }
        let idx = try all.narrow(a, start: 0, length: k).contiguous()
        return (try gather(a, index: idx), idx)
    }

    /// Sorted distinct values of the flattened tensor, optionally with, for each input element,
    /// the 0-based position of its value (inverse, input-shaped) and per-value counts.
    /// ```swift
    /// let (vals, inv, counts) = try labels.unique(returnInverse: true, returnCounts: true)
    /// ```
    public func unique(returnInverse: Bool = false, returnCounts: Bool = false) throws -> (values: Tensor, inverse: Tensor?, counts: Tensor?) {
        let flat = try withNoGrad { try reshape([-1]) }
        let order = try flat.argsort(dim: 0).toInt64Array().map(Int.init)
        let v = flat.to(.f32).toFloatArray()
        var groupOf = [Int64](repeating: 0, count: v.count)
        var firsts: [Int] = [], counts: [Int64] = []
        for (k, i) in order.enumerated() {
            if k == 0 || !(v[i] == v[order[k - 1]] || (v[i].isNaN && v[order[k - 1]].isNaN)) {
                firsts.append(i)
                counts.append(0)
            }
            counts[counts.count - 1] += 1
            groupOf[i] = Int64(firsts.count - 1)
        }
        let values = try withNoGrad {
            try flat.indexSelect(0, index: Tensor(firsts.map(Int64.init), shape: [firsts.count]))
        }
        return (values.detach(),
                returnInverse ? try Tensor(groupOf, shape: shape) : nil,
                returnCounts ? try Tensor(counts, shape: [counts.count]) : nil)
    }
}
