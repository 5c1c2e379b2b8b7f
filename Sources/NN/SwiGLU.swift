import Tensors

/// The gated feed-forward block of MPMv2: Linear(D -> 2*mult*D), split in halves a and b,
/// silu(a) * b, Linear(mult*D -> out), with optional dropout on the gated hidden layer.
///
/// Init: both Linears as PyTorch's default.
///
/// ```swift
/// let ff = try SwiGLU(dim: 512, mult: 2)     // 512 -> 2048 -> split -> 1024 -> 512
/// let y = try ff(x)
/// ```
public final class SwiGLU: Module {
    public let dim: Int
    public let hiddenDim: Int
    public let outDim: Int
    public let dropout: Double
    public let lin1: Linear
    public let lin2: Linear

    public init(dim: Int, mult: Double = 2, outDim: Int? = nil, dropout: Double = 0, bias: Bool = true) throws {
        try Init.checkSize(dim, "dim", "SwiGLU")
        let width = (Double(dim) * mult).rounded()
        guard mult > 0, width >= 1, width <= Double(Init.maxElements) else {
            throw TensorError("SwiGLU: mult must give a hidden width of at least 1 (dim \(dim), mult \(mult))")
        }
        let hidden = Int(width)
        guard dropout >= 0 && dropout < 1 else { throw TensorError("SwiGLU: dropout must be in [0, 1), got \(dropout)") }
        self.dim = dim
        self.hiddenDim = hidden
        self.outDim = outDim ?? dim
        self.dropout = dropout
        lin1 = try Linear(dim, 2 * hidden, bias: bias)
        lin2 = try Linear(hidden, outDim ?? dim, bias: bias)
        super.init()
        registerChild("lin1", lin1)
        registerChild("lin2", lin2)
    }

    public override var extraDescription: String { "dim=\(dim), hidden=\(hiddenDim), out=\(outDim)" }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var g = try Functional.swiglu(lin1(x))
        if training && dropout > 0 { g = try NNOps.dropout(g, p: dropout) }
        return try lin2(g)
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        [try self(arguments(inputs)[0]!)]
    }
}
