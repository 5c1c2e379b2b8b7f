import Tensors

/// Multi-head attention on packed sets (input [T, D] + offsets int64 [B+1]); each set attends
/// only within itself (self-attention) or to the matching set of another packed tensor
/// (cross-attention). Self-attention uses one fused projection Linear(D -> 3D) for q, k, v;
/// cross-attention projects q with Linear(D -> D) and k, v with one Linear(kv_dim -> 2D).
/// The heads are merged by Linear(D -> D).
///
/// Init: every projection as PyTorch's Linear default (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
/// weights and biases), as the MPMv2 reference builds its attention from nn.Linear.
///
/// ```swift
/// let attn = try MultiheadAttention(dim: 128, heads: 4)
/// let y = try attn(x, offsets: o)                                   // self
/// let cross = try MultiheadAttention(dim: 128, heads: 4, cross: true, kvDim: 256)
/// let z = try cross(x, offsets: o, kv: memory, kvOffsets: mo)       // cross
/// ```
public final class MultiheadAttention: Module {
    public let dim: Int
    public let heads: Int
    public let kvDim: Int
    public let cross: Bool
    public let dropout: Double
    public let qkv: Linear?
    public let q: Linear?
    public let kv: Linear?
    public let out: Linear

    public init(dim: Int, heads: Int, cross: Bool = false, kvDim: Int? = nil, dropout: Double = 0, bias: Bool = true) throws {
        try Init.checkSize(dim, "dim", "MultiheadAttention")
        try Init.checkSize(heads, "heads", "MultiheadAttention")
        guard dim % heads == 0 else {
            throw TensorError("MultiheadAttention: dim \(dim) is not divisible by \(heads) heads")
        }
        guard dropout >= 0 && dropout < 1 else { throw TensorError("MultiheadAttention: dropout must be in [0, 1), got \(dropout)") }
        if !cross, let kvDim, kvDim != dim {
            throw TensorError("MultiheadAttention: kv_dim \(kvDim) differs from dim \(dim) but cross is false (self-attention has no separate key input)")
        }
        self.dim = dim
        self.heads = heads
        self.kvDim = kvDim ?? dim
        self.cross = cross
        self.dropout = dropout
        if cross {
            qkv = nil
            q = try Linear(dim, dim, bias: bias)
            kv = try Linear(kvDim ?? dim, 2 * dim, bias: bias)
        } else {
            qkv = try Linear(dim, 3 * dim, bias: bias)
            q = nil
            kv = nil
        }
        out = try Linear(dim, dim, bias: bias)
        super.init()
        if let qkv { registerChild("qkv", qkv) }
        if let q { registerChild("q", q) }
        if let kv { registerChild("kv", kv) }
        registerChild("out", out)
    }

    public override var extraDescription: String {
        "dim=\(dim), heads=\(heads)" + (cross ? ", cross=true, kv_dim=\(kvDim)" : "") + (dropout > 0 ? ", dropout=\(dropout)" : "")
    }

    public override var signature: Signature {
        cross ? Signature(["x", "offsets", "kv", "kv_offsets"]) : Signature(["x", "offsets"])
    }

    public func callAsFunction(_ x: Tensor, offsets: Tensor, kv memory: Tensor? = nil, kvOffsets: Tensor? = nil) throws -> Tensor {
        let name = "MultiheadAttention(\(dim), \(heads) heads)"
        guard x.dim == 2, x.shape[1] == dim else {
            throw TensorError("\(name): x must be packed [T, \(dim)], got \(formatShape(x.shape))")
        }
        let p = training ? dropout : 0
        if let qkv {
            guard memory == nil, kvOffsets == nil else {
                throw TensorError("\(name): this is self-attention (cross = false); it takes no kv set")
            }
            let parts = try qkv(x).chunk(3, dim: 1)
            return try out(PackedAttention.attend(q: parts[0], k: parts[1], v: parts[2], queryOffsets: offsets,
                                                  keyOffsets: offsets, heads: heads, dropout: p, op: name))
        }
        guard let memory, let kvOffsets, let q, let kv else {
            throw TensorError("\(name): cross-attention needs kv and kv_offsets")
        }
        guard memory.dim == 2, memory.shape[1] == kvDim else {
            throw TensorError("\(name): kv must be packed [S, \(kvDim)], got \(formatShape(memory.shape))")
        }
        let kvParts = try kv(memory).chunk(2, dim: 1)
        return try out(PackedAttention.attend(q: q(x), k: kvParts[0], v: kvParts[1], queryOffsets: offsets,
                                              keyOffsets: kvOffsets, heads: heads, dropout: p, op: name))
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        return [try self(a[0]!, offsets: a[1]!, kv: cross ? a[2] : nil, kvOffsets: cross ? a[3] : nil)]
    }
}
