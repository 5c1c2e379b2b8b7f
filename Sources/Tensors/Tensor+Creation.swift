import Foundation

/// Factories (zeros, ones, full, arange, linspace, eye, *_like) and dtype conversion.
extension Tensor {
    /// Internal fill: sizes already validated.
    static func filled(_ shape: [Int], value: Double, dtype: DType) -> Tensor {
        let t = Tensor(uninitialized: shape, dtype: dtype)
        t.fillRaw(value)
        return t
    }

    /// Writes `value` into every element of this (contiguous, freshly allocated) tensor.
    func fillRaw(_ value: Double) {
        let n = numel
        switch dtype {
        case .f32:
            let p = pointer(Float.self), v = Float(value)
            parallelFor(n, work: n) { a, b in (p + a).update(repeating: v, count: b - a) }
        case .i64:
            let p = pointer(Int64.self), v = Int64(exactly: value.rounded(.towardZero)) ?? 0
            parallelFor(n, work: n) { a, b in (p + a).update(repeating: v, count: b - a) }
        case .bool:
            let p = pointer(Bool.self), v = value != 0
            parallelFor(n, work: n) { a, b in (p + a).update(repeating: v, count: b - a) }
        }
    }

    /// A tensor of the given shape filled with `value`.
    /// ```swift
    /// let t = try Tensor.full([2, 3], value: 7)
    /// ```
    public static func full(_ shape: [Int], value: Double, dtype: DType = .f32) throws -> Tensor {
        try checkShape(shape, dtype: dtype, op: "full")
        return filled(shape, value: value, dtype: dtype)
    }

    /// Zeros. `try Tensor.zeros([2, 3])`
    public static func zeros(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try checkShape(shape, dtype: dtype, op: "zeros")
        return filled(shape, value: 0, dtype: dtype)
    }

    /// Ones. `try Tensor.ones([4], dtype: .i64)`
    public static func ones(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try checkShape(shape, dtype: dtype, op: "ones")
        return filled(shape, value: 1, dtype: dtype)
    }

    /// Uninitialised contents (fast; overwrite before reading). `try Tensor.empty([1024])`
    public static func empty(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try checkShape(shape, dtype: dtype, op: "empty")
        return Tensor(uninitialized: shape, dtype: dtype)
    }

    /// Zeros shaped like `self`: `x.zerosLike()`.
    public func zerosLike(dtype: DType? = nil) -> Tensor { Tensor.filled(shape, value: 0, dtype: dtype ?? self.dtype) }
    /// Ones shaped like `self`: `x.onesLike()`.
    public func onesLike(dtype: DType? = nil) -> Tensor { Tensor.filled(shape, value: 1, dtype: dtype ?? self.dtype) }
    /// `value` everywhere, shaped like `self`: `x.fullLike(3)`.
    public func fullLike(_ value: Double, dtype: DType? = nil) -> Tensor {
        Tensor.filled(shape, value: value, dtype: dtype ?? self.dtype)
    }
    /// Uninitialised, shaped like `self`.
    public func emptyLike(dtype: DType? = nil) -> Tensor { Tensor(uninitialized: shape, dtype: dtype ?? self.dtype) }

    /// Values from `start` up to (not including) `end` by `step`. The dtype defaults to int64
    /// when all three are integral, else float32 (as torch.arange).
    /// ```swift
    /// try Tensor.arange(0, 5)          // [0, 1, 2, 3, 4] int64
    /// try Tensor.arange(0, 1, step: 0.25)
    /// ```
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType? = nil) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw TensorError("arange: step must be a nonzero finite number and bounds finite (got start \(start), end \(end), step \(step))")
        }
        guard (end - start) / step >= 0 else {
            throw TensorError("arange: step \(step) has the wrong sign for start \(start) and end \(end)")
        }
        let count = ((end - start) / step).rounded(.up)
        guard count <= Double(physicalMemory / 4) else {
            throw TensorError("arange: \(count) values from \(start) to \(end) by \(step) would not fit in this machine's memory")
        }
        let n = Int(count)
        let integral = start.rounded() == start && end.rounded() == end && step.rounded() == step
        let dt = dtype ?? (integral ? .i64 : .f32)
        if dt == .i64 && n > 0 {
            // Both ends inside int64's range (2^63 is the first Double outside it).
            let last = start + Double(n - 1) * step
            guard Swift.max(Swift.abs(start), Swift.abs(last)) < 9.223372036854775808e18 else {
                throw TensorError("arange: values from \(start) to \(last) do not fit in int64")
            }
        }
        let t = Tensor(uninitialized: [n], dtype: dt)
        switch dt {
        case .f32: let p = t.pointer(Float.self); for i in 0..<n { p[i] = Float(start + Double(i) * step) }
        case .i64: let p = t.pointer(Int64.self); for i in 0..<n { p[i] = Int64(start + Double(i) * step) }
        case .bool: throw TensorError("arange: dtype bool is not supported")
        }
        return t
    }

    /// Values from 0 up to `end`: `try Tensor.arange(5)`.
    public static func arange(_ end: Double, dtype: DType? = nil) throws -> Tensor {
        try arange(0, end, step: 1, dtype: dtype)
    }

    /// `steps` evenly spaced float32 values from `start` to `end` inclusive.
    /// ```swift
    /// try Tensor.linspace(0, 1, steps: 5)   // [0, 0.25, 0.5, 0.75, 1]
    /// ```
    public static func linspace(_ start: Double, _ end: Double, steps: Int) throws -> Tensor {
        guard steps >= 0 else { throw TensorError("linspace: steps must be non-negative (got \(steps))") }
        try checkFitsInMemory([steps], dtype: .f32, op: "linspace")
        let t = Tensor(uninitialized: [steps], dtype: .f32)
        let p = t.pointer(Float.self)
        let d = steps > 1 ? (end - start) / Double(steps - 1) : 0
        for i in 0..<steps { p[i] = Float(i == steps - 1 && steps > 1 ? end : start + Double(i) * d) }
        return t
    }

    /// Identity matrix `n` x `m` (m defaults to n): `try Tensor.eye(3)`.
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .f32) throws -> Tensor {
        let cols = m ?? n
        try checkShape([n, cols], dtype: dtype, op: "eye")
        let t = filled([n, cols], value: 0, dtype: dtype)
        for i in 0..<Swift.min(n, cols) {
            switch dtype {
            case .f32: t.pointer(Float.self)[i * cols + i] = 1
            case .i64: t.pointer(Int64.self)[i * cols + i] = 1
            case .bool: t.pointer(Bool.self)[i * cols + i] = true
            }
        }
        return t
    }

    /// This tensor converted to `dtype` (self when it already has it). Float to int truncates
    /// toward zero; nonzero (and NaN) becomes true. Only f32 -> f32 keeps the graph.
    /// ```swift
    /// let labels = x.to(.i64)
    /// ```
    public func to(_ dtype: DType) -> Tensor { to(dtype, copyAlways: false) }

    func to(_ target: DType, copyAlways: Bool) -> Tensor {
        if target == dtype { return copyAlways ? contiguousData() : self }
        let src = isContiguous ? self : contiguousData()
        let out = Tensor(uninitialized: shape, dtype: target)
        let n = numel
        @inline(__always) func convert<A, B>(_ a: A.Type, _ b: B.Type, _ f: (A) -> B) {
            let s = src.pointer(A.self), d = out.pointer(B.self)
            parallelFor(n, work: n) { lo, hi in for i in lo..<hi { d[i] = f(s[i]) } }
        }
        switch (dtype, target) {
        case (.f32, .i64): convert(Float.self, Int64.self) { $0.isFinite ? Int64(Swift.max(Swift.min($0, 9.2e18), -9.2e18)) : 0 }
        case (.f32, .bool): convert(Float.self, Bool.self) { $0 != 0 }
        case (.i64, .f32): convert(Int64.self, Float.self) { Float($0) }
        case (.i64, .bool): convert(Int64.self, Bool.self) { $0 != 0 }
        case (.bool, .f32): convert(Bool.self, Float.self) { $0 ? 1 : 0 }
        case (.bool, .i64): convert(Bool.self, Int64.self) { $0 ? 1 : 0 }
        default: break
        }
        return out
    }
}
