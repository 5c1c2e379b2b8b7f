import CLua
import CSupport

/// What the bindings keep per Lua state instead of in process-wide variables. Each state
/// opened with `MPMLibrary.open` owns one, held in its registry and released when the state
/// closes; coroutines share their main state's. Two states in one process therefore never see
/// each other's context, and Swift code outside Lua sees none of it.
///
/// Conventions follow from the calling side rather than from a setting: everything called
/// from Lua passes `IndexBase.one` down (module forwards) and renders errors 1-based
/// (`recordError`), while Swift callers keep the 0-based defaults.
///
/// ```swift
/// try LuaStateContext.calling(lua) { try module.forward(inputs, base: .one) }
/// ```
final class LuaStateContext {
    /// The Lua thread (main state or coroutine) of the innermost call from this state into
    /// Swift that may call back into Lua (module forwards, `t:backward`, `autograd.grad_of`).
    /// Lua modules held by Swift containers and Lua autograd backwards call back on it.
    var current: LuaState?

    private static let registryKey = "mpmlua.state_context"
    private static let objectClass = LuaClass<LuaStateContext>(name: "mpm.state_context")

    /// Creates the context of `lua`'s state (called once by `MPMLibrary.open`).
    static func install(_ lua: LuaState) {
        objectClass.install(lua)
        objectClass.push(lua, LuaStateContext())
        lua_setfield(lua.state, mpm_registryindex(), registryKey)
    }

    /// The context of the state `lua` belongs to; nil if the state was not opened with
    /// `MPMLibrary.open`.
    static func of(_ lua: LuaState) -> LuaStateContext? {
        lua_getfield(lua.state, mpm_registryindex(), registryKey)
        defer { lua.pop() }
        return try? objectClass.test(lua, -1)
    }

    /// Runs `body` with `current` set to `lua` (the running thread), restoring the outer value
    /// after, so nested calls from coroutines call back on the right thread.
    static func calling<R>(_ lua: LuaState, _ body: () throws -> R) rethrows -> R {
        guard let context = of(lua) else { return try body() }
        let outer = context.current
        context.current = lua
        defer { context.current = outer }
        return try body()
    }
}
