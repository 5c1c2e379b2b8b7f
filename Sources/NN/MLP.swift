import Tensors

/// A multilayer perceptron: `depth` hidden blocks of width `hidden`, each
/// Linear -> [LayerNorm] -> activation -> [Dropout], then a Linear to `out` (torchvision's block
/// order). depth 0 is a single Linear(in -> out).
///
/// ```swift
/// let head = try MLP(inFeatures: 128, outFeatures: 7, hidden: 256, depth: 2, activation: .silu)
/// let y = try head(x)
/// ```
public final class MLP: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    public let hidden: Int
    public let depth: Int
    public let layers: Sequential

    public init(inFeatures: Int, outFeatures: Int, hidden: Int, depth: Int = 1, activation: Activation.Kind = .silu,
                norm: Bool = false, dropout: Double = 0) throws {
        try Init.checkSize(inFeatures, "in_features", "MLP")
        try Init.checkSize(outFeatures, "out_features", "MLP")
        try Init.checkSize(hidden, "hidden", "MLP")
        guard depth >= 0 else { throw TensorError("MLP: depth must be at least 0, got \(depth)") }
        guard dropout >= 0 && dropout < 1 else { throw TensorError("MLP: dropout must be in [0, 1), got \(dropout)") }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hidden = hidden
        self.depth = depth
        var blocks: [Module] = []
        var width = inFeatures
        for _ in 0..<depth {
            blocks.append(try Linear(width, hidden))
            if norm { blocks.append(try LayerNorm(hidden)) }
            blocks.append(Activation(activation))
            if dropout > 0 { blocks.append(try Dropout(dropout)) }
            width = hidden
        }
        blocks.append(try Linear(width, outFeatures))
        layers = Sequential(blocks)
        super.init()
        registerChild("layers", layers)
    }

    public override var extraDescription: String {
        "in=\(inFeatures), out=\(outFeatures), hidden=\(hidden), depth=\(depth)"
    }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try layers.forward([x])[0] }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        [try self(arguments(inputs)[0]!)]
    }
}
