import Tensors

/// Returns its input unchanged (a placeholder where a block is optional).
///
/// ```swift
/// let norm: Module = useNorm ? try LayerNorm(64) : Identity()
/// ```
public final class Identity: Module {
    public override init() { super.init() }
    public override var isRowWise: Bool { true }
    public func callAsFunction(_ x: Tensor) -> Tensor { x }
    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] { [try arguments(inputs)[0]!] }
}
