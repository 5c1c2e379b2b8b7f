/// Joining and splitting: cat, stack, split, chunk.

extension Tensor {
    /// Concatenates tensors along `dim` (shapes equal elsewhere; dtypes promoted).
    /// ```swift
    /// let x = try Tensor.cat([a, b], dim: 1)
    /// ```
    public static func cat(_ tensors: [Tensor], dim d: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("cat: expected a non-empty list of tensors") }
        guard first.dim > 0 else { throw TensorError("cat: zero-dimensional tensors cannot be concatenated (use stack)") }
        let a = try first.normalizeDim(d, op: "cat")
        var total = 0
        var dt = first.dtype
        for (i, t) in tensors.enumerated() {
            let ok = t.dim == first.dim && (0..<t.dim).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] }
            guard ok else {
                throw TensorError("cat: tensor \(index: i) has shape \(formatShape(t.shape)), expected \(formatShape(first.shape)) except in dim \(dim: d)")
            }
            total += t.shape[a]
            dt = DType.promoted(dt, t.dtype)
        }
        var shape = first.shape
        shape[a] = total
        try checkFitsInMemory(shape, dtype: dt, op: "cat")
        let out = Tensor(uninitialized: shape, dtype: dt)
        var start = 0
        var sizes: [Int] = []
        for t in tensors {
            let n = t.shape[a]
            var sh = shape
            sh[a] = n
            let dst = out.aliased(sh, out.strides, start * out.strides[a])
            let src = t.to(dt)
            src.copyElements(into: dst, shape: sh, srcStrides: src.strides)
            start += n
            sizes.append(n)
        }
        return record("cat", out, tensors) { g in
            var s = 0
            return try sizes.map { n in defer { s += n }; return try g.narrow(a, start: s, length: n) }
        }
    }

    /// Stacks equally shaped tensors along a new dim.
    /// ```swift
    /// let batch = try Tensor.stack([x, y])   // [2, ...]
    /// ```
    public static func stack(_ tensors: [Tensor], dim d: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("stack: expected a non-empty list of tensors") }
        for (i, t) in tensors.enumerated() where t.shape != first.shape {
            throw TensorError("stack: tensor \(index: i) has shape \(formatShape(t.shape)), expected \(formatShape(first.shape))")
        }
        let a = try first.normalizeDim(d, op: "stack", rank: first.dim + 1)
        return try cat(tensors.map { try $0.unsqueeze(a) }, dim: a)
    }

    /// Splits into views of `size` along `dim` (the last may be smaller).
    /// ```swift
    /// let parts = try x.split(2, dim: 0)
    /// ```
    public func split(_ size: Int, dim d: Int = 0) throws -> [Tensor] {
        guard size > 0 else { throw TensorError("split: split size must be positive (got \(size))") }
        try requireDims("split")
        let a = try normalizeDim(d, op: "split")
        let n = shape[a]
        return try views(along: a, lengths: stride(from: 0, to: Swift.max(n, 1), by: size).map { Swift.min(size, n - $0) })
    }

    /// Splits into views with the given sizes along `dim` (they must sum to the dim's size).
    /// ```swift
    /// let (q, kv) = try x.split(sizes: [64, 128], dim: -1)
    /// ```
    public func split(sizes: [Int], dim d: Int = 0) throws -> [Tensor] {
        try requireDims("split")
        let a = try normalizeDim(d, op: "split")
        // Each size within the dim first, so the sum cannot overflow.
        guard sizes.allSatisfy({ $0 >= 0 && $0 <= shape[a] }), sizes.reduce(0, +) == shape[a] else {
            throw TensorError("split: sizes \(formatShape(sizes)) do not sum to \(shape[a]), the size of dim \(dim: d)")
        }
        return try views(along: a, lengths: sizes)
    }

    /// Consecutive views of `lengths` along dim `a`, recorded as one op: the backward writes each
    /// part's gradient into its slice of one input-sized gradient (zeros only where no gradient
    /// came). Separate narrows would each build a zero tensor of the whole input and sum them.
    private func views(along a: Int, lengths: [Int]) throws -> [Tensor] {
        var starts: [Int] = []
        var s = 0
        for n in lengths { starts.append(s); s += n }
        let parts = try withNoGrad { try zip(starts, lengths).map { try narrow(a, start: $0, length: $1) } }
        let inShape = shape
        let assemble: ([Tensor?]) throws -> [Tensor?] = { gradients in
            let whole = gradients.contains { $0 == nil } ? Tensor.filled(inShape, value: 0, dtype: .f32)
                : Tensor(uninitialized: inShape, dtype: .f32)
            for (k, g) in gradients.enumerated() {
                guard let g else { continue }
                let slice = try whole.narrow(a, start: starts[k], length: lengths[k])
                g.copyElements(into: slice, shape: slice.shape, srcStrides: g.strides)
            }
            return [whole]
        }
        if parts.count == 1 { return [Tensor.record("split", parts[0], [self]) { g in try assemble([g]) }] }
        return Tensor.recordOutputs("split", parts, [self], assemble)
    }

    /// Splits into `chunks` nearly equal views along `dim` (as torch.chunk: fewer when too small).
    /// ```swift
    /// let halves = try x.chunk(2, dim: -1)
    /// ```
    public func chunk(_ chunks: Int, dim d: Int = 0) throws -> [Tensor] {
        guard chunks > 0 else { throw TensorError("chunk: number of chunks must be positive (got \(chunks))") }
        try requireDims("chunk")
        let a = try normalizeDim(d, op: "chunk")
        let n = shape[a]
        let size = Swift.max(1, n / chunks + (n % chunks == 0 ? 0 : 1))
        return try split(size, dim: a)
    }
}
