import CLua
import CSupport
import NN
import Tensors

/// A Lua-defined module (`mpm.nn.Module:extend "Name"`) seen from Swift, so Swift containers
/// (Sequential, ModuleList) can hold it. Its forward calls the Lua module through `lua_pcall`;
/// a Lua error comes back as a Swift throw carrying the original error value. Its parameters
/// and children live in Lua and are found by the Lua module protocol, which unwraps the proxy.
/// The Lua table is a `LuaCallback`: kept alive, and called on its own state's running thread.
final class LuaModuleProxy: Module {
    let callback: LuaCallback
    var name: String { callback.name }

    /// Wraps the Lua module at `index`; `name` is its class name.
    init(_ lua: LuaState, index: Int32, name: String) {
        callback = LuaCallback(lua, index: index, name: name)
        super.init()
    }

    /// Pushes the Lua module this proxy stands for.
    func pushModule(_ lua: LuaState) { callback.reference.push(lua) }

    override var typeName: String { name }
    override var signature: Signature { Signature(["x"], optional: ["..."]) }

    override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let lua = try callback.thread("a Lua module")
        try lua.ensureStack(Int32(inputs.count) + 4)
        let base = lua.top
        defer { lua.setTop(base) }
        pushModule(lua)
        for t in inputs {
            if let t { lua.push(t) } else { lua.pushNil() }
        }
        // Calling the table runs its __call (the Lua forward), in protected mode.
        try lua.protectedCall(arguments: Int32(inputs.count), results: LUA_MULTRET)
        var outputs: [Tensor] = []
        for i in stride(from: base + 1, through: lua.top, by: 1) {
            guard let t = try tensorClass.test(lua, i) else {
                if i == base + 1 {
                    throw TensorError("\(name): forward returned \(lua.typeName(i)), expected a tensor")
                }
                break
            }
            outputs.append(t)
        }
        if outputs.isEmpty { throw TensorError("\(name): forward returned nothing, expected a tensor") }
        return outputs
    }
}
