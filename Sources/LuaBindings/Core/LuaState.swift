import CLua
import CSupport

/// A borrowed `lua_State *`, with argument readers that throw instead of raising.
///
/// Only non-raising Lua API calls are made here (`lua_type`, `lua_tonumberx`, `lua_rawget*`,
/// `luaL_testudata`, pushes of numbers and booleans); see docs/lua-binding.md.
///
/// ```swift
/// let size = try lua.integer(2)   // bad argument #2 to 'narrow' (number expected, got string)
/// ```
public struct LuaState {
    public let state: OpaquePointer

    public init(_ state: OpaquePointer) { self.state = state }

    // MARK: Stack

    public var top: Int32 { lua_gettop(state) }
    public func setTop(_ index: Int32) { lua_settop(state, index) }  // no to-be-closed slots here
    public func pop(_ count: Int32 = 1) { mpm_pop(state, count) }
    public func absolute(_ index: Int32) -> Int32 { lua_absindex(state, index) }
    public func type(_ index: Int32) -> Int32 { lua_type(state, index) }
    public func isNoneOrNil(_ index: Int32) -> Bool { lua_type(state, index) <= LUA_TNIL }
    public func typeName(_ index: Int32) -> String { String(cString: lua_typename(state, lua_type(state, index))) }

    /// Makes room for `count` more stack slots, or throws (never raises).
    public func ensureStack(_ count: Int32) throws {
        if lua_checkstack(state, count) == 0 { throw LuaError.message("stack overflow (cannot push \(count) values)") }
    }

    // MARK: Reading arguments

    /// Lua's own wording for a type mismatch: `number expected, got string`.
    public func typeError(_ index: Int32, expected: String) -> LuaError {
        let got: String
        if lua_type(state, index) == LUA_TUSERDATA, let name = userdataTypeName(index) {
            got = name
        } else {
            got = lua_type(state, index) == LUA_TNONE ? "no value" : typeName(index)
        }
        return .argument(index, "\(expected) expected, got \(got)")
    }

    /// The `__name` of a userdata's metatable, read without metamethods.
    func userdataTypeName(_ index: Int32) -> String? {
        guard lua_getmetatable(state, index) != 0 else { return nil }
        defer { pop() }
        lua_pushstring(state, "__name")
        guard lua_rawget(state, -2) == LUA_TSTRING, let name = lua_tolstring(state, -1, nil) else { pop(); return nil }
        let result = String(cString: name)
        pop()
        return result
    }

    public func number(_ index: Int32) throws -> Double {
        var ok: Int32 = 0
        let value = lua_tonumberx(state, index, &ok)
        if ok == 0 || lua_type(state, index) != LUA_TNUMBER { throw typeError(index, expected: "number") }
        return value
    }

    public func optionalNumber(_ index: Int32, default value: Double) throws -> Double {
        isNoneOrNil(index) ? value : try number(index)
    }

    /// An integer; integral floats (3.0) are accepted, 3.5 is rejected as Lua does.
    public func integer(_ index: Int32) throws -> Int {
        guard lua_type(state, index) == LUA_TNUMBER else { throw typeError(index, expected: "number") }
        var ok: Int32 = 0
        let value = lua_tointegerx(state, index, &ok)
        if ok == 0 { throw LuaError.argument(index, "number has no integer representation") }
        return Int(value)
    }

    public func optionalInteger(_ index: Int32, default value: Int) throws -> Int {
        isNoneOrNil(index) ? value : try integer(index)
    }

    public func string(_ index: Int32) throws -> String {
        guard lua_type(state, index) == LUA_TSTRING, let pointer = lua_tolstring(state, index, nil) else {
            throw typeError(index, expected: "string")
        }
        return String(cString: pointer)
    }

    /// The bytes of the Lua string at `index`, all of them (a string may hold any byte, NUL and
    /// invalid UTF-8 included: a PNG read with io.open(path, "rb")).
    public func bytes(_ index: Int32) throws -> [UInt8] {
        var length = 0
        guard lua_type(state, index) == LUA_TSTRING, let pointer = lua_tolstring(state, index, &length) else {
            throw typeError(index, expected: "string")
        }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    public func optionalString(_ index: Int32) throws -> String? {
        isNoneOrNil(index) ? nil : try string(index)
    }

    public func boolean(_ index: Int32) throws -> Bool {
        guard lua_type(state, index) == LUA_TBOOLEAN else { throw typeError(index, expected: "boolean") }
        return lua_toboolean(state, index) != 0
    }

    public func optionalBoolean(_ index: Int32, default value: Bool) throws -> Bool {
        isNoneOrNil(index) ? value : try boolean(index)
    }

    public func checkTable(_ index: Int32) throws {
        if lua_type(state, index) != LUA_TTABLE { throw typeError(index, expected: "table") }
    }

    public func checkFunction(_ index: Int32) throws {
        if lua_type(state, index) != LUA_TFUNCTION { throw typeError(index, expected: "function") }
    }

    /// A Lua string or number as text, without calling `__tostring` (which could raise).
    public func plainString(_ index: Int32) -> String? {
        switch lua_type(state, index) {
        case LUA_TSTRING: return lua_tolstring(state, index, nil).map { String(cString: $0) }
        case LUA_TNUMBER:
            if lua_isinteger(state, index) != 0 { return String(lua_tointegerx(state, index, nil)) }
            return String(lua_tonumberx(state, index, nil))
        default: return nil
        }
    }

    // MARK: Tables (raw access only: no metamethods, so no raising)

    /// Pushes `table[key]` (raw) and returns its Lua type.
    @discardableResult
    public func rawField(_ table: Int32, _ key: String) -> Int32 {
        let table = absolute(table)
        lua_pushstring(state, key)
        return lua_rawget(state, table)
    }

    /// Pushes `table[index]` (raw) and returns its Lua type.
    @discardableResult
    public func rawIndex(_ table: Int32, _ index: Int) -> Int32 {
        lua_rawgeti(state, table, lua_Integer(index))
    }

    /// Pushes the global `name`, raw: a metatable on _G (strict mode) cannot raise here.
    @discardableResult
    public func rawGlobal(_ name: String) -> Int32 {
        mpm_pushglobaltable(state)
        let type = rawField(-1, name)
        mpm_remove(state, -2)
        return type
    }

    /// Sets the global `name` to the value on top of the stack (raw) and pops it.
    public func setRawGlobal(_ name: String) {
        mpm_pushglobaltable(state)
        lua_rotate(state, -2, 1)
        setRawField(-2, name)
        pop()
    }

    /// Pushes the registry table `name`, creating it with weak keys ("k") or values ("v") on
    /// first use. The registry has no metatable, so these accesses cannot run metamethods.
    public func pushWeakRegistryTable(_ name: String, mode: String) {
        if lua_getfield(state, mpm_registryindex(), name) == LUA_TTABLE { return }
        pop()
        newTable()
        newTable()
        push(mode)
        setRawField(-2, "__mode")
        lua_setmetatable(state, -2)
        pushValue(-1)
        lua_setfield(state, mpm_registryindex(), name)
    }

    /// Length of a sequence table, without `__len`.
    public func rawLength(_ index: Int32) -> Int { Int(lua_rawlen(state, index)) }

    /// Sets `table[key] = top of stack` (raw) and pops the value.
    public func setRawField(_ table: Int32, _ key: String) {
        let table = absolute(table)
        lua_pushstring(state, key)
        lua_rotate(state, -2, 1)
        lua_rawset(state, table)
    }

    /// Calls `body(keyIndex, valueIndex)` for each pair of the table, raw (`lua_next`).
    public func forEachPair(_ table: Int32, _ body: (Int32, Int32) throws -> Void) throws {
        let table = absolute(table)
        lua_pushnil(state)
        while lua_next(state, table) != 0 {
            do { try body(top - 1, top) } catch { pop(2); throw error }
            pop()
        }
    }

    /// Reads an options table: every key must be a string in `allowed`, or the call fails
    /// naming the unknown option ("unknown option 'lr2' (expected one of: lr, weight_decay)").
    public func checkOptions(_ index: Int32, allowed: [String], function: String) throws {
        guard !isNoneOrNil(index) else { return }
        try checkTable(index)
        try forEachPair(index) { key, _ in
            guard lua_type(state, key) == LUA_TSTRING, let name = plainString(key) else {
                throw LuaError.argument(index, "option names must be strings")
            }
            if !allowed.contains(name) {
                throw LuaError.argument(index, "\(function): unknown option '\(name)' (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }

    // MARK: Pushing

    public func push(_ value: Double) { lua_pushnumber(state, value) }
    public func push(_ value: Int) { lua_pushinteger(state, lua_Integer(value)) }
    public func push(_ value: Bool) { lua_pushboolean(state, value ? 1 : 0) }
    public func push(_ value: String) { lua_pushstring(state, value) }
    public func pushNil() { lua_pushnil(state) }

    /// Pushes a sequence table of integers (a shape, a list of sizes).
    public func push(integers: [Int]) { push(sequence: integers, push) }

    /// Pushes a sequence table of strings (names).
    public func push(strings: [String]) { push(sequence: strings, push) }

    private func push<T>(sequence: [T], _ pushOne: (T) -> Void) {
        newTable(array: Int32(sequence.count))
        for (position, value) in sequence.enumerated() {
            pushOne(value)
            lua_rawseti(state, -2, lua_Integer(position + 1))
        }
    }
    public func pushValue(_ index: Int32) { lua_pushvalue(state, index) }
    public func newTable(array: Int32 = 0, hash: Int32 = 0) { lua_createtable(state, array, hash) }
}
