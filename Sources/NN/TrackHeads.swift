import Tensors

/// The MPMv2 per-track head (vertex finding and track identification): an MLP on every row of
/// a packed set, `depth` blocks Linear -> LayerNorm -> SiLU -> Dropout of width `hidden`, then
/// Linear(hidden -> out). Fed the backbone's particle outputs with the registers removed
/// (mpm.finetune with `input = "particles"`), one output row per track.
///
/// ```swift
/// let head = try PerTrackMLP(inputDim: 128, outputs: 4)
/// let logits = try head(particles)                          // [T, 4]
/// ```
public final class PerTrackMLP: Module {
    public struct Options {
        public var hidden = 128
        public var depth = 3
        public var dropout = 0.2
        public var activation = Activation.Kind.silu
        public init() {}
    }

    public let inputDim: Int
    public let outputs: Int
    public let mlp: MLP

    public init(inputDim: Int, outputs: Int, options o: Options = Options()) throws {
        try Init.checkSize(inputDim, "input_dim", "PerTrackMLP")
        try Init.checkSize(outputs, "outputs", "PerTrackMLP")
        self.inputDim = inputDim
        self.outputs = outputs
        mlp = try MLP(inFeatures: inputDim, outFeatures: outputs, hidden: o.hidden, depth: o.depth,
                      activation: o.activation, norm: true, dropout: o.dropout)
        super.init()
        registerChild("mlp", mlp)
    }

    public override var extraDescription: String { "in=\(inputDim), out=\(outputs)" }
    public override var isRowWise: Bool { true }
    public override var signature: Signature { Signature(["x"], optional: ["offsets"]) }

    /// Outputs [T, outputs] of packed rows x [T, inputDim].
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.dim == 2, x.shape[1] == inputDim else {
            throw TensorError("PerTrackMLP(in=\(inputDim)): x must be packed [T, \(inputDim)], got \(formatShape(x.shape))")
        }
        return try mlp(x)
    }

    /// offsets (optional) are accepted for a uniform head call and checked against x.
    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        if let offsets = a[1] { _ = try Tensor.validatedOffsets(offsets, rows: a[0]!.shape.first ?? 0, op: "PerTrackMLP") }
        return [try self(a[0]!)]
    }
}

/// The MPMv2 vertex-finding edge head, a twin network: F = PerTrackMLP(inputDim -> hidden) on
/// every track, then for every pair i < j of tracks of the same set the logit
/// G(|F(z_i) - F(z_j)|) with G = Linear(hidden -> 1). Pairs are computed per set on its true
/// length by the fused kernel `Tensor.pairAbsDiff` (layout of `Tensor.setPairs`: set after
/// set, upper triangle in row-major order), so no pair crosses two jets.
///
/// ```swift
/// let head = try EdgeHead(inputDim: 128)
/// let (logits, pairOffsets) = try head(particles, offsets: offsets)   // [P], [B+1]
/// ```
public final class EdgeHead: Module {
    public let inputDim: Int
    public let embedding: PerTrackMLP
    public let output: Linear

    public init(inputDim: Int, options o: PerTrackMLP.Options = PerTrackMLP.Options()) throws {
        self.inputDim = inputDim
        embedding = try PerTrackMLP(inputDim: inputDim, outputs: o.hidden, options: o)
        output = try Linear(o.hidden, 1)
        super.init()
        registerChild("embedding", embedding)
        registerChild("output", output)
    }

    public override var extraDescription: String { "in=\(inputDim), hidden=\(output.inFeatures)" }
    public override var signature: Signature { Signature(["x", "offsets"]) }

    /// Edge logits [P] for the pairs of each set of packed x [T, inputDim], and the pair offsets [B+1].
    public func callAsFunction(_ x: Tensor, offsets: Tensor) throws -> (Tensor, Tensor) {
        let (d, pairOffsets) = try embedding(x).pairAbsDiff(offsets: offsets)
        return (try output(d).reshape([-1]), pairOffsets)
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        let (logits, pairOffsets) = try self(a[0]!, offsets: a[1]!)
        return [logits, pairOffsets]
    }
}
