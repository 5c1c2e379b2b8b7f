import CLua
import Tensors

/// A Lua value that Swift calls back later (a Lua-defined module's forward, an
/// `mpm.autograd.Function`'s backward), kept alive by a `LuaReference`. It is called on its
/// state's `LuaStateContext.current`: the thread of the innermost call from that state into
/// Swift, so a callback always runs on the running coroutine of its own state.
struct LuaCallback {
    let reference: LuaReference
    /// What it is called in messages (the module's class name, the function's name).
    let name: String
    let context: LuaStateContext?

    init(_ lua: LuaState, index: Int32, name: String) {
        reference = LuaReference(lua, index: index)
        self.name = name
        context = LuaStateContext.of(lua)
    }

    /// The thread to call on; `what` says what cannot run when Lua is not calling into Swift.
    func thread(_ what: String) throws -> LuaState {
        guard let lua = context?.current else {
            throw TensorError("\(name): \(what) can only run while Lua is calling into Swift")
        }
        return lua
    }
}
