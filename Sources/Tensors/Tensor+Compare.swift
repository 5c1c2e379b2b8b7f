/// Comparisons (-> bool), logical ops, NaN tests, `where`, `maskedFill` and `clamp`.

/// Comparison ops, exposed so the bindings can register them in one loop.
public enum CompareOp: String, CaseIterable {
    case eq, ne, lt, le, gt, ge
}

extension Tensor {
    /// Compares elementwise with broadcasting; operands are promoted to a common dtype.
    /// ```swift
    /// let mask = try x.compare(.gt, Tensor(scalar: Float(0)))
    /// ```
    public func compare(_ op: CompareOp, _ other: Tensor) throws -> Tensor {
        let shape = try broadcastShapes(self.shape, other.shape, op: op.rawValue)
        let out = Tensor(uninitialized: shape, dtype: .bool)
        let dt = DType.promoted(DType.promoted(dtype, other.dtype), .i64)
        let a = to(dt).elementwiseOperand(for: shape), b = other.to(dt).elementwiseOperand(for: shape)
        @inline(__always) func run<T: Comparable>(_: T.Type) {
            switch op {
            case .eq: binaryKernel(a, b, into: out, IsEqual<T>())
            case .ne: binaryKernel(a, b, into: out, IsNotEqual<T>())
            case .lt: binaryKernel(a, b, into: out, IsLess<T>())
            case .le: binaryKernel(a, b, into: out, IsLessOrEqual<T>())
            case .gt: binaryKernel(a, b, into: out, IsGreater<T>())
            case .ge: binaryKernel(a, b, into: out, IsGreaterOrEqual<T>())
            }
        }
        if dt == .f32 { run(Float.self) } else { run(Int64.self) }
        return out
    }

    /// Compares with a scalar: `try x.compare(.lt, 0.5)`.
    public func compare(_ op: CompareOp, _ s: Double) throws -> Tensor { try compare(op, scalarOperand(s)) }

    /// `self == other`.
    public func eq(_ other: Tensor) throws -> Tensor { try compare(.eq, other) }
    /// `self != other`.
    public func ne(_ other: Tensor) throws -> Tensor { try compare(.ne, other) }
    /// `self < other`.
    public func lt(_ other: Tensor) throws -> Tensor { try compare(.lt, other) }
    /// `self <= other`.
    public func le(_ other: Tensor) throws -> Tensor { try compare(.le, other) }
    /// `self > other`.
    public func gt(_ other: Tensor) throws -> Tensor { try compare(.gt, other) }
    /// `self >= other`.
    public func ge(_ other: Tensor) throws -> Tensor { try compare(.ge, other) }
    /// `self == s`.
    public func eq(_ s: Double) throws -> Tensor { try compare(.eq, s) }
    /// `self != s`.
    public func ne(_ s: Double) throws -> Tensor { try compare(.ne, s) }
    /// `self < s`.
    public func lt(_ s: Double) throws -> Tensor { try compare(.lt, s) }
    /// `self <= s`.
    public func le(_ s: Double) throws -> Tensor { try compare(.le, s) }
    /// `self > s`.
    public func gt(_ s: Double) throws -> Tensor { try compare(.gt, s) }
    /// `self >= s`.
    public func ge(_ s: Double) throws -> Tensor { try compare(.ge, s) }

    /// Logical and (nonzero is true): `try m.logicalAnd(n)`.
    public func logicalAnd(_ other: Tensor) throws -> Tensor { try logical("logical_and", other, LogicalAnd()) }
    /// Logical or.
    public func logicalOr(_ other: Tensor) throws -> Tensor { try logical("logical_or", other, LogicalOr()) }
    /// Logical exclusive or.
    public func logicalXor(_ other: Tensor) throws -> Tensor { try logical("logical_xor", other, IsNotEqual<Bool>()) }
    /// Logical not: `m.logicalNot()`.
    public func logicalNot() -> Tensor {
        let out = Tensor(uninitialized: shape, dtype: .bool)
        unaryKernel(to(.bool), into: out, LogicalNot())
        return out
    }

    private func logical<F: Elementwise2>(_ name: String, _ other: Tensor, _ f: F) throws -> Tensor
    where F.A == Bool, F.B == Bool, F.R == Bool {
        let shape = try broadcastShapes(self.shape, other.shape, op: name)
        let out = Tensor(uninitialized: shape, dtype: .bool)
        binaryKernel(to(.bool), other.to(.bool), into: out, f)
        return out
    }

    /// True where the value is NaN: `x.isnan()`.
    public func isnan() -> Tensor {
        guard dtype == .f32 else { return Tensor.filled(shape, value: 0, dtype: .bool) }
        let out = Tensor(uninitialized: shape, dtype: .bool)
        unaryKernel(self, into: out, IsNaN())
        return out
    }

    /// True where the value is neither NaN nor infinite.
    public func isfinite() -> Tensor {
        guard dtype == .f32 else { return Tensor.filled(shape, value: 1, dtype: .bool) }
        let out = Tensor(uninitialized: shape, dtype: .bool)
        unaryKernel(self, into: out, IsFinite())
        return out
    }

    /// `a` where `condition` is true, else `b`, with broadcasting of all three.
    /// ```swift
    /// let y = try Tensor.where(x.gt(0), x, x.mul(0.1))
    /// ```
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let s1 = try broadcastShapes(a.shape, b.shape, op: "where")
        let shape = try broadcastShapes(condition.shape, s1, op: "where")
        let dt = DType.promoted(a.dtype, b.dtype)
        let out = Tensor(uninitialized: shape, dtype: dt)
        let c = condition.to(.bool), x = a.to(dt), y = b.to(dt)
        switch dt {
        case .f32: ternaryKernel(c, x, y, into: out, Select<Float>())
        case .i64: ternaryKernel(c, x, y, into: out, Select<Int64>())
        case .bool: ternaryKernel(c, x, y, into: out, Select<Bool>())
        }
        guard GradMode.isEnabled && (a.requiresGrad || b.requiresGrad) else { return out }
        let sa = a.shape, sb = b.shape
        let cs = Saved(c, op: "where")
        return record("where", out, [a, b]) { g in
            let cv = try cs.get(), zero = Tensor.filled([], value: 0, dtype: .f32)
            let ga = Tensor(uninitialized: g.shape, dtype: .f32), gb = Tensor(uninitialized: g.shape, dtype: .f32)
            ternaryKernel(cv, g, zero, into: ga, Select<Float>())
            ternaryKernel(cv, zero, g, into: gb, Select<Float>())
            return [try ga.sumTo(sa), try gb.sumTo(sb)]
        }
    }

    /// `where` with a scalar for the false branch: `try Tensor.where(mask, x, 0)`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Double) throws -> Tensor {
        try Tensor.where(condition, a, a.scalarOperand(b))
    }

    /// `where` with a scalar for the true branch.
    public static func `where`(_ condition: Tensor, _ a: Double, _ b: Tensor) throws -> Tensor {
        try Tensor.where(condition, b.scalarOperand(a), b)
    }

    /// Replaces elements where `mask` (broadcast to self) is true by `value`.
    /// ```swift
    /// let scores = try s.maskedFill(pad, value: -.infinity)
    /// ```
    public func maskedFill(_ mask: Tensor, value: Double) throws -> Tensor {
        let shape = try broadcastShapes(self.shape, mask.shape, op: "masked_fill")
        guard shape == self.shape else {
            throw TensorError("masked_fill: mask of shape \(formatShape(mask.shape)) cannot broadcast to the tensor's shape \(formatShape(self.shape))")
        }
        guard mask.dtype == .bool else { throw TensorError("masked_fill: mask must be bool, got \(mask.dtype.name)") }
        return try Tensor.where(mask, Tensor.filled([], value: value, dtype: dtype), self)
    }

    /// In-place `maskedFill`.
    @discardableResult
    public func maskedFill_(_ mask: Tensor, value: Double) throws -> Tensor {
        let r = try broadcastShapes(shape, mask.shape, op: "masked_fill_")
        guard r == shape, mask.dtype == .bool else {
            throw TensorError("masked_fill_: mask must be bool and broadcast to \(formatShape(shape)) (got \(mask.dtype.name) \(formatShape(mask.shape)))")
        }
        let fill = Tensor.filled([], value: value, dtype: dtype)
        return try inPlace("masked_fill_", compute: { try $0.maskedFill(mask, value: value) }, fast: {
            switch dtype {
            case .f32: ternaryKernel(mask, fill, self, into: self, Select<Float>())
            case .i64: ternaryKernel(mask, fill, self, into: self, Select<Int64>())
            case .bool: ternaryKernel(mask, fill, self, into: self, Select<Bool>())
            }
        })
    }

    /// Limits values to [min, max] (either bound optional); the gradient passes where the
    /// value was inside the bounds.
    /// ```swift
    /// let y = try x.clamp(min: 0, max: 6)
    /// ```
    public func clamp(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
        guard lo != nil || hi != nil else { throw TensorError("clamp: at least one of min and max must be given") }
        if dtype != .f32 {
            var r: Tensor = self
            if let lo { r = try r.maximum(lo) }
            if let hi { r = try r.minimum(hi) }
            return r
        }
        let l = Float(lo ?? -.infinity), h = Float(hi ?? .infinity)
        let out = Tensor(uninitialized: shape, dtype: .f32)
        unaryKernel(self, into: out, FloatClamp(low: l, high: h))
        let x = Saved(self, op: "clamp")
        return Tensor.record("clamp", out, [self]) { g in
            [Tensor.map2(g.shape, g, try x.get(), ClampGrad(low: l, high: h))]
        }
    }

    /// In-place `clamp`.
    @discardableResult
    public func clamp_(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
        let r = try clamp(min: lo, max: hi)
        guard r.dtype == dtype else { throw TensorError("clamp_: result type float32 cannot be stored in a \(dtype.name) tensor") }
        return try inPlace("clamp_", compute: { try $0.clamp(min: lo, max: hi) }, fast: {
            r.copyElements(into: self, shape: shape, srcStrides: r.strides)
        })
    }
}

// MARK: Elementwise functions (types rather than closures, so the kernels inline them)

struct IsEqual<T: Equatable>: Elementwise2 { @inline(__always) func callAsFunction(_ a: T, _ b: T) -> Bool { a == b } }
struct IsNotEqual<T: Equatable>: Elementwise2 { @inline(__always) func callAsFunction(_ a: T, _ b: T) -> Bool { a != b } }
struct IsLess<T: Comparable>: Elementwise2 { @inline(__always) func callAsFunction(_ a: T, _ b: T) -> Bool { a < b } }
struct IsLessOrEqual<T: Comparable>: Elementwise2 { @inline(__always) func callAsFunction(_ a: T, _ b: T) -> Bool { a <= b } }
struct IsGreater<T: Comparable>: Elementwise2 { @inline(__always) func callAsFunction(_ a: T, _ b: T) -> Bool { a > b } }
struct IsGreaterOrEqual<T: Comparable>: Elementwise2 { @inline(__always) func callAsFunction(_ a: T, _ b: T) -> Bool { a >= b } }

struct LogicalAnd: Elementwise2 { @inline(__always) func callAsFunction(_ a: Bool, _ b: Bool) -> Bool { a && b } }
struct LogicalOr: Elementwise2 { @inline(__always) func callAsFunction(_ a: Bool, _ b: Bool) -> Bool { a || b } }
struct LogicalNot: Elementwise1 { @inline(__always) func callAsFunction(_ a: Bool) -> Bool { !a } }
struct IsNaN: Elementwise1 { @inline(__always) func callAsFunction(_ a: Float) -> Bool { a.isNaN } }
struct IsFinite: Elementwise1 { @inline(__always) func callAsFunction(_ a: Float) -> Bool { a.isFinite } }

/// `condition ? a : b`, the kernel of `where` and `masked_fill`.
struct Select<T>: Elementwise3 {
    @inline(__always) func callAsFunction(_ condition: Bool, _ a: T, _ b: T) -> T { condition ? a : b }
}

/// Clamps to [low, high]; NaN stays NaN.
struct FloatClamp: Elementwise1 {
    let low: Float, high: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x.isNaN ? x : Swift.min(Swift.max(x, low), high) }
}

/// The gradient of `clamp`: passes where the input was inside the bounds.
struct ClampGrad: Elementwise2 {
    let low: Float, high: Float
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { x >= low && x <= high ? g : 0 }
}
