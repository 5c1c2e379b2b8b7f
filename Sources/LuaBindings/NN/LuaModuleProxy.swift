import CLua
import CSupport
import NN
import Tensors

/// A Lua-defined module (`mpm.nn.Module:extend "Name"`) seen from Swift, so Swift containers
/// (Sequential, ModuleList) can hold it. Its forward calls the Lua module through `lua_pcall`;
/// a Lua error comes back as a Swift throw carrying the original error value. Its parameters
/// and children live in Lua and are found by the Lua module protocol, which unwraps the proxy.
///
/// The Lua table is kept in a registry table under an integer id. `deinit` must not touch the
/// Lua state (it may run inside `__gc`), so it only queues the id; the queue is drained the
/// next time a proxy is made.
final class LuaModuleProxy: Module {
    private static let registryName = "mpmlua.nn.proxies"
    nonisolated(unsafe) private static var nextId: lua_Integer = 1
    nonisolated(unsafe) private static var released: [lua_Integer] = []

    /// The Lua state calls run on: the innermost Swift module call from Lua sets it (the
    /// calling coroutine's state), so a proxy always calls back on the running thread.
    nonisolated(unsafe) static var current: LuaState?

    let id: lua_Integer
    let name: String

    /// Wraps the Lua module at `index`; `name` is its class name.
    init(_ lua: LuaState, index: Int32, name: String) {
        let index = lua.absolute(index)
        LuaModuleProxy.pushTable(lua)
        for stale in LuaModuleProxy.released {
            lua.pushNil()
            lua_rawseti(lua.state, -2, stale)
        }
        LuaModuleProxy.released.removeAll()
        id = LuaModuleProxy.nextId
        LuaModuleProxy.nextId += 1
        lua.pushValue(index)
        lua_rawseti(lua.state, -2, id)
        lua.pop()
        self.name = name
        super.init()
    }

    deinit { LuaModuleProxy.released.append(id) }

    private static func pushTable(_ lua: LuaState) {
        if lua_getfield(lua.state, mpm_registryindex(), registryName) == LUA_TTABLE { return }
        lua.pop()
        lua.newTable()
        lua.pushValue(-1)
        lua_setfield(lua.state, mpm_registryindex(), registryName)
    }

    /// Pushes the Lua module this proxy stands for.
    func pushModule(_ lua: LuaState) {
        LuaModuleProxy.pushTable(lua)
        lua_rawgeti(lua.state, -1, id)
        mpm_remove(lua.state, -2)
    }

    override var typeName: String { name }
    override var signature: Signature { Signature(["x"], optional: ["..."]) }

    override func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        guard let lua = LuaModuleProxy.current else {
            throw TensorError("\(name): a Lua module can only run while Lua is calling into Swift")
        }
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
