import Tensors

/// A lookup table: integer ids [...] -> rows [..., dim]. Ids count from `indexBase` (0 in
/// Swift; the Lua binding passes 1, so particle type 1 is the first row).
///
/// Init (PyTorch's default): N(0, 1).
///
/// ```swift
/// let types = try Embedding(8, 128)
/// let e = try types(ids)        // ids int64 [T] in 0..<8 -> [T, 128]
/// ```
public final class Embedding: Module {
    public let count: Int
    public let dim: Int
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int) throws {
        try Init.checkSize(count, "num_embeddings", "Embedding")
        try Init.checkSize(dim, "embedding_dim", "Embedding")
        self.count = count
        self.dim = dim
        try Init.checkShape([count, dim], "weight", "Embedding")
        weight = Init.normal([count, dim])
        super.init()
        registerParameter("weight", weight)
    }

    public override var extraDescription: String { "\(count), \(dim)" }
    public override var signature: Signature { Signature(["ids"]) }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ ids: Tensor, indexBase: IndexBase = .zero) throws -> Tensor {
        guard ids.dtype == .i64 else {
            throw TensorError("Embedding(\(count), \(dim)): ids must be int64, got \(ids.dtype.name) \(formatShape(ids.shape))")
        }
        let flat = try ids.reshape([-1])
        let rows: Tensor
        do {
            rows = try weight.indexSelect(0, index: flat, indexBase: indexBase)
        } catch let e as TensorError {
            throw e.prefixed("Embedding(\(count), \(dim)): ")
        }
        return try rows.reshape(ids.shape + [dim])
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        // Ids count from the caller's base: 0 from Swift containers, 1 from Lua.
        [try self(arguments(inputs)[0]!, indexBase: base)]
    }
}
