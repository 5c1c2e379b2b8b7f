import Tensors

/// Holds modules in order so their parameters are found; it has no forward of its own (iterate
/// and call the children). Children are named "1", "2", ...
///
/// ```swift
/// let layers = ModuleList((0..<4).map { _ in try! TransformerLayer(dim: 128, heads: 4) })
/// for case let layer as TransformerLayer in layers.modules { x = try layer(x, offsets: o) }
/// ```
public final class ModuleList: Module {
    public init(_ modules: [Module] = []) {
        super.init()
        for m in modules { appendChild(m) }
    }

    public var count: Int { children.count }
    public var modules: [Module] { children.map { $0.module } }

    /// Appends a module at the end; throws when `module` contains this ModuleList (a cycle).
    public func append(_ module: Module) throws { try appendChildRefusingCycles(module, operation: "ModuleList:append") }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        throw TensorError("ModuleList is not callable: iterate over it and call its modules")
    }
}
