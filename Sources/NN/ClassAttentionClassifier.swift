import Tensors

/// The MPMv2 downstream classifier: Linear(D -> hidden) on every element of a packed set, a
/// learned class token that attends to the set through `depth` blocks (only the token is
/// updated; 4 heads, SwiGLU with ff multiplier 1, dropout 0.2, no LayerScale), a final
/// LayerNorm and Linear(hidden -> classes), or one logit for a binary task. Fed the backbone's
/// output with its registers, so the class token sees registers and particles.
///
/// ```swift
/// let head = try ClassAttentionClassifier(inputDim: 128, classes: 10)
/// let logits = try head(encoded, offsets: encodedOffsets)      // [B, 10]
/// ```
public final class ClassAttentionClassifier: Module {
    public struct Options {
        public var hidden = 128
        public var heads = 4
        public var depth = 2
        public var ffMult = 1.0
        public var dropout = 0.2
        public init() {}
    }

    public let inputDim: Int
    public let classes: Int
    public let input: Linear
    public let pool: ClassAttentionPooling
    public let norm: LayerNorm
    public let output: Linear

    /// `classes` = 1 gives one logit (binary tasks, with a BCE loss).
    public init(inputDim: Int, classes: Int, options o: Options = Options()) throws {
        try Init.checkSize(classes, "classes", "ClassAttentionClassifier")
        self.inputDim = inputDim
        self.classes = classes
        var t = TransformerOptions()
        t.ffMult = o.ffMult
        t.dropout = o.dropout
        input = try Linear(inputDim, o.hidden)
        pool = try ClassAttentionPooling(dim: o.hidden, heads: o.heads, depth: o.depth, options: t)
        norm = try LayerNorm(o.hidden)
        output = try Linear(o.hidden, classes)
        super.init()
        registerChild("input", input)
        registerChild("pool", pool)
        registerChild("norm", norm)
        registerChild("output", output)
    }

    public override var extraDescription: String { "in=\(inputDim), classes=\(classes)" }
    public override var signature: Signature { Signature(["x", "offsets"]) }

    /// Logits [B, classes] for the sets of a packed x [T, inputDim].
    public func callAsFunction(_ x: Tensor, offsets: Tensor) throws -> Tensor {
        guard x.dim == 2, x.shape[1] == inputDim else {
            throw TensorError("ClassAttentionClassifier(in=\(inputDim)): x must be packed [T, \(inputDim)], got \(formatShape(x.shape))")
        }
        return try output(try norm(try pool(try input(x), offsets: offsets)))
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        return [try self(a[0]!, offsets: a[1]!)]
    }
}
