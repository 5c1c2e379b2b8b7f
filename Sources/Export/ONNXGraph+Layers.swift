import NN
import Tensors

/// The layers of the Swift modules as ONNX nodes on padded sets. Activations are [B, L, D]
/// (batch, set length, width); attention takes an additive key bias [B, 1, 1, Lk] that is 0 for
/// real keys and -1e30 for padding, so exp() of a padded key's score is exactly 0 and padding
/// never changes a real element's output. Weights are stored under the modules' state-dict names
/// (`encoder.layers.1.attn.qkv.weight`), a Linear's weight transposed to [in, out] for MatMul.
///
/// ```swift
/// let y = try graph.transformerLayer(x, layer, path: "encoder.layers.1", keyBias: bias)
/// ```
extension ONNXGraph {
    /// The bias that masks a padded key out of a softmax.
    static let maskedScore: Float = -1e30

    /// x W^T + b on the last dim.
    func linear(_ x: String, _ m: Linear, path: String) throws -> String {
        let y = op("MatMul", [x, try weight(path + ".weight", m.weight, transposed: true)], name: path)
        guard let b = m.bias else { return y }
        return op("Add", [y, try weight(path + ".bias", b)], name: path)
    }

    /// LayerNormalization over the last dim (opset 17).
    func layerNorm(_ x: String, _ m: Module, path: String) throws -> String {
        guard let n = m as? LayerNorm else { throw Self.unknown(m, path: path) }
        let scale = try n.weight.map { try weight(path + ".weight", $0) } ?? constant(Array(repeating: 1, count: n.dim), shape: [n.dim], name: path + ".weight")
        let shift = try n.bias.map { try weight(path + ".bias", $0) } ?? constant(Array(repeating: 0, count: n.dim), shape: [n.dim], name: path + ".bias")
        return op("LayerNormalization", [x, scale, shift], name: path, [("axis", .int(-1)), ("epsilon", .float(Float(n.eps)))])
    }

    /// lin2(silu(a) * b) for [a | b] = lin1(x) (dropout is off in an exported graph).
    func swiglu(_ x: String, _ m: SwiGLU, path: String) throws -> String {
        let h = try linear(x, m.lin1, path: path + ".lin1")
        let halves = node("Split", [h, constant([m.hiddenDim, m.hiddenDim], name: path + ".split")], name: path, outputs: 2,
                          attributes: [("axis", .int(-1))])
        let gate = op("Mul", [halves[0], op("Sigmoid", [halves[0]], name: path)], name: path)
        return try linear(op("Mul", [gate, halves[1]], name: path), m.lin2, path: path + ".lin2")
    }

    /// Multi-head attention of q [B, Lq, D] to k, v [B, Lk, D] with `heads` heads of D/heads
    /// channels each (channels h*D/heads ..< (h+1)*D/heads, as PackedAttention splits them).
    func attend(q: String, k: String, v: String, dim: Int, heads: Int, keyBias: String, path: String) -> String {
        let hd = dim / heads
        let split = constant([0, 0, heads, hd], name: path + ".heads_shape")
        func heads4(_ x: String, _ perm: [Int64]) -> String {
            op("Transpose", [op("Reshape", [x, split], name: path)], name: path, [("perm", .ints(perm))])
        }
        let scale = constant([Float(1 / Double(hd).squareRoot())], shape: [], name: path + ".scale")
        let q4 = op("Mul", [heads4(q, [0, 2, 1, 3]), scale], name: path)            // [B, H, Lq, hd]
        let scores = op("Add", [op("MatMul", [q4, heads4(k, [0, 2, 3, 1])], name: path), keyBias], name: path)
        let weights = op("Softmax", [scores], name: path, [("axis", .int(-1))])      // [B, H, Lq, Lk]
        let o = op("Transpose", [op("MatMul", [weights, heads4(v, [0, 2, 1, 3])], name: path)], name: path,
                   [("perm", .ints([0, 2, 1, 3]))])
        return op("Reshape", [o, constant([0, 0, dim], name: path + ".merged_shape")], name: path)
    }

    /// Self-attention (qkv fused), or cross-attention of x to `kv` (q and kv projections).
    func attention(_ x: String, _ m: MultiheadAttention, kv: String?, keyBias: String, path: String) throws -> String {
        let y: String
        if let qkv = m.qkv {
            let parts = node("Split", [try linear(x, qkv, path: path + ".qkv"), constant([m.dim, m.dim, m.dim], name: path + ".split")],
                             name: path, outputs: 3, attributes: [("axis", .int(-1))])
            y = attend(q: parts[0], k: parts[1], v: parts[2], dim: m.dim, heads: m.heads, keyBias: keyBias, path: path)
        } else if let q = m.q, let kvLayer = m.kv, let kv {
            let parts = node("Split", [try linear(kv, kvLayer, path: path + ".kv"), constant([m.dim, m.dim], name: path + ".split")],
                             name: path, outputs: 2, attributes: [("axis", .int(-1))])
            y = attend(q: try linear(x, q, path: path + ".q"), k: parts[0], v: parts[1], dim: m.dim, heads: m.heads,
                       keyBias: keyBias, path: path)
        } else {
            throw ExportError("\(path): cross-attention without a key set")
        }
        return try linear(y, m.out, path: path + ".out")
    }

    /// x + ls1 * attn(norm1(x)), then + ls2 * ff(norm2(.)): a pre-norm TransformerLayer (self-
    /// attention, or cross-attention to `kv`, which is used as given, as the layer does).
    func transformerLayer(_ x: String, _ layer: TransformerLayer, kv: String? = nil, keyBias: String, path: String) throws -> String {
        func child(_ name: String) -> Module? { layer.children.first(where: { $0.name == name })?.module }
        func scaled(_ branch: String, _ name: String) throws -> String {
            guard let s = child(name) else { return branch }
            guard let ls = s as? LayerScale else { throw Self.unknown(s, path: path + "." + name) }
            return op("Mul", [branch, try weight(path + "." + name + ".gamma", ls.gamma)], name: path + "." + name)
        }
        guard let norm1 = child("norm1"), let norm2 = child("norm2") else { throw ExportError("\(path): a TransformerLayer without its norms") }
        let a = try attention(try layerNorm(x, norm1, path: path + ".norm1"), layer.attn, kv: kv, keyBias: keyBias, path: path + ".attn")
        let y = op("Add", [x, try scaled(a, "ls1")], name: path)
        let f = try swiglu(try layerNorm(y, norm2, path: path + ".norm2"), layer.ff, path: path + ".ff")
        return op("Add", [y, try scaled(f, "ls2")], name: path)
    }

    /// An MLP's blocks in order (Linear, LayerNorm, activation; dropout is off).
    func mlp(_ x: String, _ m: MLP, path: String) throws -> String {
        var h = x
        for (name, block) in m.layers.children {
            let p = path + ".layers." + name
            switch block {
            case let l as Linear: h = try linear(h, l, path: p)
            case let n as LayerNorm: h = try layerNorm(h, n, path: p)
            case let a as Activation: h = activation(h, a.kind, path: p)
            case is Dropout: continue
            default: throw Self.unknown(block, path: p)
            }
        }
        return h
    }

    /// An elementwise activation as Activation computes it (GELU exact, with erf).
    func activation(_ x: String, _ kind: Activation.Kind, path: String) -> String {
        switch kind {
        case .relu: return op("Relu", [x], name: path)
        case .silu: return op("Mul", [x, op("Sigmoid", [x], name: path)], name: path)
        case .tanh: return op("Tanh", [x], name: path)
        case .sigmoid: return op("Sigmoid", [x], name: path)
        case .softplus: return op("Softplus", [x], name: path)
        case .gelu:
            let erf = op("Erf", [op("Mul", [x, constant([Float(1 / 2.0.squareRoot())], shape: [], name: path + ".sqrt_half")], name: path)],
                         name: path)
            let half = constant([0.5], shape: [], name: path + ".half"), one = constant([1], shape: [], name: path + ".one")
            return op("Mul", [op("Mul", [x, half], name: path), op("Add", [erf, one], name: path)], name: path)
        }
    }

    /// The refusal of a module the exporter has no nodes for, naming it and where it sits.
    static func unknown(_ m: Module, path: String) -> ExportError { ONNXExport.unknown(m.typeName, at: path) }
}
