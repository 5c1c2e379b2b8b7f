import Tensors

/// One tensor operation exposed to Lua, both as a method (`t:exp()`) and, when `isFunction`,
/// as `mpm.exp(t)` — the tensor is argument 1 either way, so one body serves both.
struct TensorFunction {
    let name: String
    let doc: String
    let isFunction: Bool
    let body: LuaClass<Tensor>.Method

    init(_ name: String, _ doc: String, function isFunction: Bool = true, _ body: @escaping LuaClass<Tensor>.Method) {
        self.name = name
        self.doc = doc
        self.isFunction = isFunction
        self.body = body
    }
}

extension LuaState {
    /// Pushes one tensor result: the common tail of most tensor functions.
    func result(_ tensor: Tensor) -> Int32 {
        push(tensor)
        return 1
    }
}
