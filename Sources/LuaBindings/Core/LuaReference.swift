import CLua
import CSupport

/// A Lua value kept alive for a Swift object (a Lua module inside a Swift container, the Lua
/// backward of an autograd node), in a registry table under an integer id.
///
/// `deinit` may run inside `__gc` or in the middle of a backward pass, where it must not touch
/// the Lua state, so it only queues its id; the queue is drained the next time a reference is
/// made. Ids are unique across states, so a stale id never clears another value.
///
/// ```swift
/// let reference = LuaReference(lua, index: 1)   // keeps argument 1 alive
/// reference.push(lua)                            // pushes it again later
/// ```
final class LuaReference {
    private static let registryName = "mpmlua.references"
    nonisolated(unsafe) private static var nextId: lua_Integer = 1
    nonisolated(unsafe) private static var released: [lua_Integer] = []

    let id: lua_Integer

    init(_ lua: LuaState, index: Int32) {
        let index = lua.absolute(index)
        LuaReference.pushTable(lua)
        for stale in LuaReference.released {
            lua.pushNil()
            lua_rawseti(lua.state, -2, stale)
        }
        LuaReference.released.removeAll()
        id = LuaReference.nextId
        LuaReference.nextId += 1
        lua.pushValue(index)
        lua_rawseti(lua.state, -2, id)
        lua.pop()
    }

    deinit { LuaReference.released.append(id) }

    /// Pushes the referenced value.
    func push(_ lua: LuaState) {
        LuaReference.pushTable(lua)
        lua_rawgeti(lua.state, -1, id)
        mpm_remove(lua.state, -2)
    }

    private static func pushTable(_ lua: LuaState) {
        if lua_getfield(lua.state, mpm_registryindex(), registryName) == LUA_TTABLE { return }
        lua.pop()
        lua.newTable()
        lua.pushValue(-1)
        lua_setfield(lua.state, mpm_registryindex(), registryName)
    }
}
