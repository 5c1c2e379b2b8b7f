/// Raw access to tensor memory through typed pointers, for kernels written outside this target
/// (data preparation, MPM kernels, optimiser updates). This is the one way other targets touch
/// storage:
///
/// - `Tensor.make(shape, T.self) { pointer, count in ... }` creates a fresh contiguous tensor
///   and lets `fill` write every element in place (no extra copy);
/// - `t.withElements(as: T.self) { buffer in ... }` reads the elements in row-major order,
///   converting the dtype and making a contiguous copy first only when needed, and keeping
///   that copy alive while `body` runs;
/// - `t.elementPointer(as: T.self)` is the typed pointer to the first element of a contiguous
///   tensor of that dtype (one the caller made, or updates in place);
/// - `t.toIntArray()` and `t.contiguousCopy(as:)` for offsets, indices and fresh copies.
///
/// ```swift
/// let squares = try Tensor.make([4], Float.self) { p, n in for i in 0..<n { p[i] = Float(i * i) } }
/// let total = squares.withElements(as: Float.self) { $0.reduce(0, +) }   // 14
/// ```
extension Tensor {
    /// A new contiguous tensor of `shape` and `T`'s dtype, its elements written by
    /// `fill(pointer, count)` (the memory starts uninitialised: write all `count` elements).
    ///
    /// ```swift
    /// let ramp = try Tensor.make([2, 3], Int64.self) { p, n in for i in 0..<n { p[i] = Int64(i) } }
    /// ```
    public static func make<T: TensorElement>(_ shape: [Int], _ type: T.Type,
                                              _ fill: (UnsafeMutablePointer<T>, Int) throws -> Void) throws -> Tensor {
        let t = try Tensor.empty(shape, dtype: T.dtype)
        try fill(t.pointer(T.self), t.numel)
        return t
    }

    /// Runs `body` on the elements of this tensor as `T` in row-major order. The tensor is
    /// converted to `T`'s dtype and made contiguous first when needed (outside the autograd
    /// graph); the buffer is valid only inside `body`.
    ///
    /// ```swift
    /// let largest = t.withElements(as: Float.self) { $0.max() }
    /// ```
    public func withElements<T: TensorElement, R>(as type: T.Type,
                                                  _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        let c = detach().to(T.dtype).contiguous()
        return try withExtendedLifetime(c) {
            try body(UnsafeBufferPointer(start: c.pointer(T.self), count: c.numel))
        }
    }

    /// The typed pointer to the first element of this tensor, which must be contiguous and of
    /// `T`'s dtype (a tensor made with `make`, or a parameter or state updated in place). Reads
    /// and writes through it bypass autograd and the version counter.
    ///
    /// ```swift
    /// let p = weights.elementPointer(as: Float.self); p[0] = 1
    /// ```
    public func elementPointer<T: TensorElement>(as type: T.Type) -> UnsafeMutablePointer<T> {
        assert(dtype == T.dtype && isContiguous, "elementPointer: needs a contiguous \(T.dtype.name) tensor")
        return pointer(T.self)
    }

    /// Records that this tensor's memory was written through `elementPointer`, as every in-place
    /// op does: a backward that saved it then refuses to use the changed values.
    ///
    /// ```swift
    /// weights.elementPointer(as: Float.self)[0] = 1; weights.markModified()
    /// ```
    public func markModified() { storage.bumpVersion() }

    /// A fresh contiguous copy converted to `T`'s dtype (never a view of this tensor).
    ///
    /// ```swift
    /// let scratch = try features.contiguousCopy(as: Float.self)
    /// ```
    public func contiguousCopy<T: TensorElement>(as type: T.Type) throws -> Tensor {
        try withElements(as: T.self) { src in
            try Tensor.make(shape, T.self) { p, n in if n > 0 { p.update(from: src.baseAddress!, count: n) } }
        }
    }

    /// The elements converted to Int, in row-major order (offsets, indices, labels).
    ///
    /// ```swift
    /// let o = try Tensor([0, 3, 5] as [Int64]).toIntArray()   // [0, 3, 5]
    /// ```
    public func toIntArray() -> [Int] { toInt64Array().map { Int($0) } }
}
