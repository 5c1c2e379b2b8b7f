import CLua
import CSupport

/// Docstrings for `help(x)`: a registry table with weak keys maps functions (and class
/// metatables) to their text, so documenting a value never keeps it alive.
public enum LuaDocs {
    private static let registryName = "mpmlua.docs"

    /// Pushes the docs table, creating it on first use. The registry has no metatable, so
    /// these field accesses cannot run metamethods.
    static func pushTable(_ lua: LuaState) {
        if lua_getfield(lua.state, mpm_registryindex(), registryName) == LUA_TTABLE { return }
        lua.pop()
        lua.newTable()
        lua.newTable()
        lua.push("k")
        lua.setRawField(-2, "__mode")
        lua_setmetatable(lua.state, -2)
        lua.pushValue(-1)
        lua_setfield(lua.state, mpm_registryindex(), registryName)
    }

    /// Attaches `doc` to the value at `index`.
    public static func attach(_ lua: LuaState, doc: String, to index: Int32) {
        let index = lua.absolute(index)
        pushTable(lua)
        lua.pushValue(index)
        lua.push(doc)
        lua_rawset(lua.state, -3)
        lua.pop()
    }

    /// Pushes the doc of the value at `index`, or nil.
    static func pushDoc(_ lua: LuaState, of index: Int32) {
        let index = lua.absolute(index)
        pushTable(lua)
        lua.pushValue(index)
        lua_rawget(lua.state, -2)
        lua_rotate(lua.state, -2, 1)
        lua.pop()
    }
}
