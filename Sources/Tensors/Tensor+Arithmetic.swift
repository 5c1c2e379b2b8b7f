import Foundation

/// Broadcasting binary arithmetic (add sub mul div pow maximum minimum) with dtype promotion
/// (bool < int64 < float32; division and pow always compute in float32) and in-place forms.

/// Binary arithmetic ops, exposed so the bindings can register them in one loop.
public enum BinaryOp: String, CaseIterable {
    case add, sub, mul, div, pow, maximum, minimum
}

extension Tensor {
    /// Forward computation of `op` with promotion and broadcasting into a fresh tensor.
    static func binaryForward(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try broadcastShapes(a.shape, b.shape, op: op.rawValue)
        var dt = DType.promoted(a.dtype, b.dtype)
        if dt == .bool || op == .div || op == .pow { dt = (op == .div || op == .pow) ? .f32 : .i64 }
        let x = a.to(dt).elementwiseOperand(for: shape), y = b.to(dt).elementwiseOperand(for: shape)
        let out = Tensor(uninitialized: shape, dtype: dt)
        try binaryInto(op, x, y, out)
        return out
    }

    /// Runs the kernel for `op` writing into `out` (same dtype as x and y).
    static func binaryInto(_ op: BinaryOp, _ x: Tensor, _ y: Tensor, _ out: Tensor) throws {
        if out.dtype == .f32 {
            switch op {
            case .add: binaryKernel(x, y, into: out, FloatAdd())
            case .sub: binaryKernel(x, y, into: out, FloatSub())
            case .mul: binaryKernel(x, y, into: out, FloatMul())
            case .div: binaryKernel(x, y, into: out, FloatDiv())
            case .pow: binaryKernel(x, y, into: out, FloatPow())
            case .maximum: binaryKernel(x, y, into: out, FloatMaximum())
            case .minimum: binaryKernel(x, y, into: out, FloatMinimum())
            }
        } else if out.dtype == .i64 {
            switch op {
            case .add: binaryKernel(x, y, into: out, IntAdd())
            case .sub: binaryKernel(x, y, into: out, IntSub())
            case .mul: binaryKernel(x, y, into: out, IntMul())
            case .maximum: binaryKernel(x, y, into: out, IntMaximum())
            case .minimum: binaryKernel(x, y, into: out, IntMinimum())
            case .div, .pow: throw TensorError("\(op.rawValue): an int64 result cannot hold a true division or power")
            }
        } else {
            throw TensorError("\(op.rawValue): cannot write into a bool tensor")
        }
    }

    /// Applies a binary op with broadcasting and autograd.
    /// ```swift
    /// let y = try x.binary(.mul, w)
    /// ```
    public func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        let out = try Tensor.binaryForward(op, self, other)
        guard GradMode.isEnabled && (requiresGrad || other.requiresGrad) else { return out }
        let sa = shape, sb = other.shape, os = out.shape
        switch op {
        case .add:
            return Tensor.record("add", out, [self, other]) { g in [try g.sumTo(sa), try g.sumTo(sb)] }
        case .sub:
            return Tensor.record("sub", out, [self, other]) { g in [try g.sumTo(sa), try g.neg().sumTo(sb)] }
        case .mul:
            let x = Saved(self, op: "mul"), y = Saved(other, op: "mul")
            return Tensor.record("mul", out, [self, other]) { g in
                let xv = try x.get(), yv = try y.get()
                return [try g.mul(yv).sumTo(sa), try g.mul(xv).sumTo(sb)]
            }
        case .div:
            let x = Saved(self, op: "div"), y = Saved(other, op: "div")
            return Tensor.record("div", out, [self, other]) { g in
                let xv = try x.get(), yv = try y.get()
                let ga = Tensor.map2(os, g, yv.to(.f32), FloatDiv())
                let gb = Tensor.map3(os, g, xv.to(.f32), yv.to(.f32), DivGradDivisor())
                return [try ga.sumTo(sa), try gb.sumTo(sb)]
            }
        case .pow:
            let x = Saved(self, op: "pow"), y = Saved(other, op: "pow"), r = Saved(out, op: "pow")
            return Tensor.record("pow", out, [self, other]) { g in
                let xv = try x.get().to(.f32), yv = try y.get().to(.f32), rv = try r.get()
                let ga = Tensor.map3(os, g, xv, yv, PowGradBase())
                let gb = Tensor.map3(os, g, xv, rv, PowGradExponent())
                return [try ga.sumTo(sa), try gb.sumTo(sb)]
            }
        case .maximum, .minimum:
            let x = Saved(self, op: op.rawValue), y = Saved(other, op: op.rawValue)
            let sign: Float = op == .maximum ? 1 : -1
            return Tensor.record(op.rawValue, out, [self, other]) { g in
                let xv = try x.get(), yv = try y.get()
                let ga = Tensor.map3(os, g, xv, yv, ExtremumGrad(sign: sign))
                let gb = Tensor.map3(os, g, yv, xv, ExtremumGrad(sign: sign))
                return [try ga.sumTo(sa), try gb.sumTo(sb)]
            }
        }
    }

    /// In-place binary op; the result must keep this tensor's shape and dtype.
    /// ```swift
    /// try x.binary_(.add, y)
    /// ```
    @discardableResult
    public func binary_(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        let shape = try broadcastShapes(self.shape, other.shape, op: op.rawValue + "_")
        guard shape == self.shape else {
            throw TensorError("\(op.rawValue)_: result shape \(formatShape(shape)) does not match the in-place target \(formatShape(self.shape))")
        }
        let dt = DType.promoted(dtype, other.dtype)
        if dt != dtype || (dtype != .f32 && (op == .div || op == .pow)) {
            throw TensorError("\(op.rawValue)_: result type \((op == .div || op == .pow) ? "float32" : dt.name) cannot be stored in place in a \(dtype.name) tensor")
        }
        return try inPlace(op.rawValue + "_", others: [other], compute: { try $0.binary(op, other) }, fast: {
            try Tensor.binaryInto(op, self, other.to(dtype), self)
        })
    }

    /// Elementwise sum with broadcasting: `try a.add(b)`.
    public func add(_ other: Tensor) throws -> Tensor { try binary(.add, other) }
    /// `self + alpha * other` (torch.add with alpha): `try a.add(b, alpha: -0.5)`.
    public func add(_ other: Tensor, alpha: Double) throws -> Tensor {
        alpha == 1 ? try binary(.add, other) : try binary(.add, other.mul(alpha))
    }
    /// Difference: `try a.sub(b)`.
    public func sub(_ other: Tensor) throws -> Tensor { try binary(.sub, other) }
    /// Product: `try a.mul(b)`.
    public func mul(_ other: Tensor) throws -> Tensor { try binary(.mul, other) }
    /// True division (always float32): `try a.div(b)`.
    public func div(_ other: Tensor) throws -> Tensor { try binary(.div, other) }
    /// Power (float32): `try a.pow(b)`.
    public func pow(_ other: Tensor) throws -> Tensor { try binary(.pow, other) }
    /// Elementwise maximum (NaN propagates): `try a.maximum(b)`.
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(.maximum, other) }
    /// Elementwise minimum: `try a.minimum(b)`.
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(.minimum, other) }

    /// `self + s`: `try x.add(1)`.
    public func add(_ s: Double) throws -> Tensor { try binary(.add, scalarOperand(s)) }
    /// `self - s`.
    public func sub(_ s: Double) throws -> Tensor { try binary(.sub, scalarOperand(s)) }
    /// `self * s`.
    public func mul(_ s: Double) throws -> Tensor { try binary(.mul, scalarOperand(s)) }
    /// `self / s`.
    public func div(_ s: Double) throws -> Tensor { try binary(.div, scalarOperand(s)) }
    /// `self ^ s`: `try x.pow(2)`.
    public func pow(_ s: Double) throws -> Tensor {
        // A scalar exponent gets its own rule: no gradient towards the constant, and the
        // common small powers avoid powf.
        let x = to(.f32)
        let e = Float(s)
        let out = Tensor(uninitialized: shape, dtype: .f32)
        if e == 2 { unaryKernel(x, into: out, FloatSquare()) } else if e == 1 {
            unaryKernel(x, into: out, FloatIdentity())
        } else { unaryKernel(x, into: out, FloatPowScalar(e: e)) }
        let sv = Saved(self, op: "pow")
        return Tensor.record("pow", out, [self]) { g in
            let xv = try sv.get()
            return [Tensor.map2(g.shape, g, xv, PowScalarGrad(e: e))]
        }
    }
    /// `s - self` (the reflected form for `2 - x`).
    public func rsub(_ s: Double) throws -> Tensor { try scalarOperand(s).binary(.sub, self) }
    /// `s / self`.
    public func rdiv(_ s: Double) throws -> Tensor { try scalarOperand(s).binary(.div, self) }
    /// `s ^ self`.
    public func rpow(_ s: Double) throws -> Tensor { try scalarOperand(s).binary(.pow, self) }
    /// Elementwise maximum with a scalar.
    public func maximum(_ s: Double) throws -> Tensor { try binary(.maximum, scalarOperand(s)) }
    /// Elementwise minimum with a scalar.
    public func minimum(_ s: Double) throws -> Tensor { try binary(.minimum, scalarOperand(s)) }

    /// In-place sum: `try x.add_(y)`.
    @discardableResult public func add_(_ other: Tensor) throws -> Tensor { try binary_(.add, other) }
    /// In-place `self += alpha * other` (optimisers): `try p.add_(g, alpha: -lr)`.
    @discardableResult public func add_(_ other: Tensor, alpha: Double) throws -> Tensor {
        if alpha == 1 { return try binary_(.add, other) }
        if dtype == .f32 && other.dtype == .f32 && !(GradMode.isEnabled && (requiresGrad || other.requiresGrad)) {
            // Fused axpy for the optimiser hot path: one pass, no temporary.
            try checkInPlace("add_")
            let shape = try broadcastShapes(self.shape, other.shape, op: "add_")
            guard shape == self.shape else {
                throw TensorError("add_: result shape \(formatShape(shape)) does not match the in-place target \(formatShape(self.shape))")
            }
            let a = Float(alpha)
            binaryKernel(self, other, into: self, FloatAxpy(a: a))
            storage.bumpVersion()
            return self
        }
        return try binary_(.add, other.mul(alpha))
    }
    /// In-place difference.
    @discardableResult public func sub_(_ other: Tensor) throws -> Tensor { try binary_(.sub, other) }
    /// In-place product.
    @discardableResult public func mul_(_ other: Tensor) throws -> Tensor { try binary_(.mul, other) }
    /// In-place division.
    @discardableResult public func div_(_ other: Tensor) throws -> Tensor { try binary_(.div, other) }
    /// In-place `self += s`: `try x.add_(1)`.
    @discardableResult public func add_(_ s: Double) throws -> Tensor { try binary_(.add, scalarOperand(s)) }
    /// In-place `self -= s`.
    @discardableResult public func sub_(_ s: Double) throws -> Tensor { try binary_(.sub, scalarOperand(s)) }
    /// In-place `self *= s`.
    @discardableResult public func mul_(_ s: Double) throws -> Tensor { try binary_(.mul, scalarOperand(s)) }
    /// In-place `self /= s`.
    @discardableResult public func div_(_ s: Double) throws -> Tensor { try binary_(.div, scalarOperand(s)) }
    /// In-place power by a scalar.
    @discardableResult public func pow_(_ s: Double) throws -> Tensor { try binary_(.pow, scalarOperand(s)) }

    // MARK: Operators (Swift convenience; the same ops as the methods).

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.add(b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.sub(b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.mul(b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.div(b) }
    public static func + (a: Tensor, b: Double) throws -> Tensor { try a.add(b) }
    public static func - (a: Tensor, b: Double) throws -> Tensor { try a.sub(b) }
    public static func * (a: Tensor, b: Double) throws -> Tensor { try a.mul(b) }
    public static func / (a: Tensor, b: Double) throws -> Tensor { try a.div(b) }
    public static func + (a: Double, b: Tensor) throws -> Tensor { try b.add(a) }
    public static func - (a: Double, b: Tensor) throws -> Tensor { try b.rsub(a) }
    public static func * (a: Double, b: Tensor) throws -> Tensor { try b.mul(a) }
    public static func / (a: Double, b: Tensor) throws -> Tensor { try b.rdiv(a) }
    public static prefix func - (a: Tensor) -> Tensor { a.neg() }
}

// MARK: Elementwise functions (types rather than closures, so the kernels inline them)

struct FloatAdd: Elementwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
struct FloatSub: Elementwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
struct FloatMul: Elementwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
struct FloatDiv: Elementwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
struct FloatPow: Elementwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { powf(a, b) } }
/// NaN-propagating, as torch.maximum.
struct FloatMaximum: Elementwise2 {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
}
struct FloatMinimum: Elementwise2 {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }
}
/// x + a * y (the optimisers' fused update).
struct FloatAxpy: Elementwise2 {
    let a: Float
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x + a * y }
}
struct FloatSquare: Elementwise1 { @inline(__always) func callAsFunction(_ a: Float) -> Float { a * a } }
struct FloatIdentity: Elementwise1 { @inline(__always) func callAsFunction(_ a: Float) -> Float { a } }
struct FloatPowScalar: Elementwise1 {
    let e: Float
    @inline(__always) func callAsFunction(_ a: Float) -> Float { powf(a, e) }
}

struct IntAdd: Elementwise2 { @inline(__always) func callAsFunction(_ a: Int64, _ b: Int64) -> Int64 { a &+ b } }
struct IntSub: Elementwise2 { @inline(__always) func callAsFunction(_ a: Int64, _ b: Int64) -> Int64 { a &- b } }
struct IntMul: Elementwise2 { @inline(__always) func callAsFunction(_ a: Int64, _ b: Int64) -> Int64 { a &* b } }
struct IntMaximum: Elementwise2 { @inline(__always) func callAsFunction(_ a: Int64, _ b: Int64) -> Int64 { Swift.max(a, b) } }
struct IntMinimum: Elementwise2 { @inline(__always) func callAsFunction(_ a: Int64, _ b: Int64) -> Int64 { Swift.min(a, b) } }

/// d(a / b)/db times g.
struct DivGradDivisor: Elementwise3 {
    @inline(__always) func callAsFunction(_ g: Float, _ a: Float, _ b: Float) -> Float { -g * a / (b * b) }
}
/// d(a^b)/da times g.
struct PowGradBase: Elementwise3 {
    @inline(__always) func callAsFunction(_ g: Float, _ a: Float, _ b: Float) -> Float { b == 0 ? 0 : g * b * powf(a, b - 1) }
}
/// d(a^b)/db times g, from the result r = a^b.
struct PowGradExponent: Elementwise3 {
    @inline(__always) func callAsFunction(_ g: Float, _ a: Float, _ r: Float) -> Float { a == 0 ? 0 : g * r * logf(a) }
}
/// d(a^e)/da times g for a scalar exponent.
struct PowScalarGrad: Elementwise2 {
    let e: Float
    @inline(__always) func callAsFunction(_ g: Float, _ a: Float) -> Float { e == 0 ? 0 : g * e * powf(a, e - 1) }
}
/// The gradient of maximum (sign 1) or minimum (sign -1) towards `a`, the other operand being
/// `b`; ties split the gradient evenly, as PyTorch does.
struct ExtremumGrad: Elementwise3 {
    let sign: Float
    @inline(__always) func callAsFunction(_ g: Float, _ a: Float, _ b: Float) -> Float {
        sign * a > sign * b ? g : (a == b ? g / 2 : 0)
    }
}
