import Tensors

/// In train mode zeroes each element with probability p and scales the survivors by 1/(1-p);
/// in eval mode returns its input. Draws come from the default generator (`manualSeed`).
///
/// ```swift
/// let drop = try Dropout(0.2)
/// let y = try drop(x)
/// drop.eval()                   // now the identity
/// ```
public final class Dropout: Module {
    public let p: Double

    public init(_ p: Double = 0.5) throws {
        guard p >= 0 && p < 1 else { throw TensorError("Dropout: p must be in [0, 1), got \(p)") }
        self.p = p
        super.init()
    }

    public override var extraDescription: String { "p=\(p)" }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        training && p > 0 ? try NNOps.dropout(x, p: p) : x
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        [try self(arguments(inputs)[0]!)]
    }
}
