import CLua
import CSupport

/// Docstrings for `help(x)`: a registry table with weak keys maps functions (and class
/// metatables) to their text, so documenting a value never keeps it alive.
public enum LuaDocs {
    private static let registryName = "mpmlua.docs"

    /// Pushes the docs table, creating it on first use.
    static func pushTable(_ lua: LuaState) {
        lua.pushWeakRegistryTable(registryName, mode: "k")
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
