import Foundation

/// Elementwise unary math with autograd. Each op is a forward function and a derivative
/// dy/dx written in terms of the input x and the output y, applied in one fused pass.

/// Unary ops, exposed so the bindings can register them (and their `_` forms) in one loop.
public enum UnaryOp: String, CaseIterable {
    case neg, abs, exp, log, log1p, expm1, sqrt, rsqrt, sin, cos, tanh, sigmoid, relu, silu, gelu,
         softplus, sign, floor, ceil, round, square, reciprocal
}

@inline(__always) private func sigmoidf(_ x: Float) -> Float {
    // Split by sign so exp never overflows.
    x >= 0 ? 1 / (1 + expf(-x)) : { let e = expf(x); return e / (1 + e) }()
}

private let invSqrt2: Float = 0.70710678118654752
private let invSqrt2Pi: Float = 0.39894228040143268

extension UnaryOp {
    /// Whether the op maps int64 to int64 (the rest compute in float32).
    var keepsIntegers: Bool {
        switch self {
        case .neg, .abs, .sign, .floor, .ceil, .round, .relu, .square: return true
        default: return false
        }
    }

    @inline(__always) func forward(_ x: Float) -> Float {
        switch self {
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .exp: return expf(x)
        case .log: return logf(x)
        case .log1p: return log1pf(x)
        case .expm1: return expm1f(x)
        case .sqrt: return x.squareRoot()
        case .rsqrt: return 1 / x.squareRoot()
        case .sin: return sinf(x)
        case .cos: return cosf(x)
        case .tanh: return tanhf(x)
        case .sigmoid: return sigmoidf(x)
        case .relu: return x > 0 ? x : (x.isNaN ? x : 0)
        case .silu: return x * sigmoidf(x)
        case .gelu: return 0.5 * x * (1 + erff(x * invSqrt2))
        case .softplus: return x > 20 ? x : log1pf(expf(x))
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0))
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .round: return x.rounded(.toNearestOrEven)
        case .square: return x * x
        case .reciprocal: return 1 / x
        }
    }

    /// dy/dx given input x and output y.
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .neg: return -1
        case .abs: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .exp: return y
        case .log: return 1 / x
        case .log1p: return 1 / (1 + x)
        case .expm1: return y + 1
        case .sqrt: return 0.5 / y
        case .rsqrt: return -0.5 * y * y * y
        case .sin: return cosf(x)
        case .cos: return -sinf(x)
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .relu: return x > 0 ? 1 : 0
        case .silu: let s = sigmoidf(x); return s * (1 + x * (1 - s))
        case .gelu: return 0.5 * (1 + erff(x * invSqrt2)) + x * invSqrt2Pi * expf(-0.5 * x * x)
        case .softplus: return sigmoidf(x)
        case .sign, .floor, .ceil, .round: return 0
        case .square: return 2 * x
        case .reciprocal: return -y * y
        }
    }

    @inline(__always) func forwardInt(_ x: Int64) -> Int64 {
        switch self {
        case .neg: return 0 &- x
        case .abs: return x < 0 ? 0 &- x : x
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .relu: return x > 0 ? x : 0
        case .square: return x &* x
        default: return x
        }
    }
}

extension Tensor {
    /// Forward kernel of `op` into `out` (which has the result dtype).
    func unaryInto(_ op: UnaryOp, _ out: Tensor) {
        if out.dtype == .i64 {
            let src = to(.i64)
            unaryKernel(src, into: out, UnaryIntForward(op: op))
            return
        }
        let src = to(.f32)
        // The hot ops get their own specialisation so the loop has no switch inside.
        @inline(__always) func run<T: UnaryOpTag>(_: T.Type) { unaryKernel(src, into: out, UnaryForward<T>()) }
        switch op {
        case .neg: run(NegTag.self)
        case .exp: run(ExpTag.self)
        case .relu: run(ReluTag.self)
        case .sigmoid: run(SigmoidTag.self)
        case .tanh: run(TanhTag.self)
        case .sqrt: run(SqrtTag.self)
        case .silu: run(SiluTag.self)
        case .gelu: run(GeluTag.self)
        case .square: run(SquareTag.self)
        default: unaryKernel(src, into: out, UnaryDynamicForward(op: op))
        }
    }

    /// Applies a unary op with autograd.
    /// ```swift
    /// let y = x.apply(.gelu)
    /// ```
    public func apply(_ op: UnaryOp) -> Tensor {
        let dt: DType = op.keepsIntegers && dtype != .f32 ? .i64 : .f32
        let out = Tensor(uninitialized: shape, dtype: dt)
        unaryInto(op, out)
        guard GradMode.isEnabled && requiresGrad else { return out }
        let x = Saved(self, op: op.rawValue), y = Saved(out, op: op.rawValue)
        return Tensor.record(op.rawValue, out, [self]) { g in
            let xv = try x.get(), yv = try y.get()
            @inline(__always) func grad<T: UnaryOpTag>(_: T.Type) -> Tensor { Tensor.map3(g.shape, g, xv, yv, UnaryBackward<T>()) }
            switch op {
            case .neg: return [grad(NegTag.self)]
            case .exp: return [grad(ExpTag.self)]
            case .relu: return [grad(ReluTag.self)]
            case .sigmoid: return [grad(SigmoidTag.self)]
            case .tanh: return [grad(TanhTag.self)]
            case .sqrt: return [grad(SqrtTag.self)]
            case .silu: return [grad(SiluTag.self)]
            case .gelu: return [grad(GeluTag.self)]
            case .square: return [grad(SquareTag.self)]
            default: return [Tensor.map3(g.shape, g, xv, yv, UnaryDynamicBackward(op: op))]
            }
        }
    }

    /// Applies a unary op in place (the dtype must not change).
    /// ```swift
    /// try h.apply_(.relu)
    /// ```
    @discardableResult
    public func apply_(_ op: UnaryOp) throws -> Tensor {
        if dtype == .bool || (dtype == .i64 && !op.keepsIntegers) {
            throw TensorError("\(op.rawValue)_: result type float32 cannot be stored in place in a \(dtype.name) tensor")
        }
        return try inPlace(op.rawValue + "_", compute: { $0.apply(op) }, fast: { unaryInto(op, self) })
    }

    /// Negation: `x.neg()`.
    public func neg() -> Tensor { apply(.neg) }
    /// Absolute value.
    public func abs() -> Tensor { apply(.abs) }
    /// e^x: `x.exp()`.
    public func exp() -> Tensor { apply(.exp) }
    /// Natural log.
    public func log() -> Tensor { apply(.log) }
    /// log(1 + x), accurate near 0.
    public func log1p() -> Tensor { apply(.log1p) }
    /// e^x - 1, accurate near 0.
    public func expm1() -> Tensor { apply(.expm1) }
    /// Square root.
    public func sqrt() -> Tensor { apply(.sqrt) }
    /// 1 / sqrt(x).
    public func rsqrt() -> Tensor { apply(.rsqrt) }
    /// Sine.
    public func sin() -> Tensor { apply(.sin) }
    /// Cosine.
    public func cos() -> Tensor { apply(.cos) }
    /// Hyperbolic tangent.
    public func tanh() -> Tensor { apply(.tanh) }
    /// Logistic sigmoid.
    public func sigmoid() -> Tensor { apply(.sigmoid) }
    /// max(x, 0).
    public func relu() -> Tensor { apply(.relu) }
    /// x * sigmoid(x).
    public func silu() -> Tensor { apply(.silu) }
    /// Exact GELU, 0.5 x (1 + erf(x / sqrt 2)).
    public func gelu() -> Tensor { apply(.gelu) }
    /// log(1 + e^x) (linear above 20, as PyTorch's default threshold).
    public func softplus() -> Tensor { apply(.softplus) }
    /// -1, 0 or 1.
    public func sign() -> Tensor { apply(.sign) }
    /// Round down.
    public func floor() -> Tensor { apply(.floor) }
    /// Round up.
    public func ceil() -> Tensor { apply(.ceil) }
    /// Round half to even.
    public func round() -> Tensor { apply(.round) }
    /// x * x.
    public func square() -> Tensor { apply(.square) }
    /// 1 / x.
    public func reciprocal() -> Tensor { apply(.reciprocal) }
}

// MARK: Elementwise functions for the kernels

/// A unary op fixed at compile time: `UnaryForward<ExpTag>` specialises the kernel for exp, so
/// the switch in `UnaryOp.forward` folds away and the loop has none.
protocol UnaryOpTag { static var op: UnaryOp { get } }
enum NegTag: UnaryOpTag { static var op: UnaryOp { .neg } }
enum ExpTag: UnaryOpTag { static var op: UnaryOp { .exp } }
enum ReluTag: UnaryOpTag { static var op: UnaryOp { .relu } }
enum SigmoidTag: UnaryOpTag { static var op: UnaryOp { .sigmoid } }
enum TanhTag: UnaryOpTag { static var op: UnaryOp { .tanh } }
enum SqrtTag: UnaryOpTag { static var op: UnaryOp { .sqrt } }
enum SiluTag: UnaryOpTag { static var op: UnaryOp { .silu } }
enum GeluTag: UnaryOpTag { static var op: UnaryOp { .gelu } }
enum SquareTag: UnaryOpTag { static var op: UnaryOp { .square } }

struct UnaryForward<T: UnaryOpTag>: Elementwise1 {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { T.op.forward(x) }
}

/// g * dy/dx from the gradient g, input x and output y.
struct UnaryBackward<T: UnaryOpTag>: Elementwise3 {
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { g * T.op.derivative(x, y) }
}

/// The other ops: one kernel for all, switching per element.
struct UnaryDynamicForward: Elementwise1 {
    let op: UnaryOp
    @inline(__always) func callAsFunction(_ x: Float) -> Float { op.forward(x) }
}

struct UnaryDynamicBackward: Elementwise3 {
    let op: UnaryOp
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { g * op.derivative(x, y) }
}

struct UnaryIntForward: Elementwise1 {
    let op: UnaryOp
    @inline(__always) func callAsFunction(_ x: Int64) -> Int64 { op.forwardInt(x) }
}
