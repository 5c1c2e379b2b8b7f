import CLua
import CSupport
import Foundation

/// A Swift function callable from Lua: reads its arguments from `lua`, pushes its results and
/// returns how many; throws to raise a Lua error (raised by the C trampoline, never by Swift).
public typealias LuaFunction = (LuaState) throws -> Int32

/// Every Swift function exposed to Lua, by the integer index the trampoline carries as upvalue.
/// Append-only. Each Lua state lives on one thread, but several states may live on several
/// threads (tests, embedders), so the table is locked.
private enum FunctionTable {
    nonisolated(unsafe) static var functions: [LuaFunction] = []
    static let lock = NSLock()

    static func append(_ function: @escaping LuaFunction) -> Int {
        lock.lock()
        defer { lock.unlock() }
        functions.append(function)
        return functions.count - 1
    }

    static func function(at index: Int) -> LuaFunction? {
        lock.lock()
        defer { lock.unlock() }
        return functions.indices.contains(index) ? functions[index] : nil
    }
}

/// The one entry point from C into Swift.
private let dispatch: mpm_dispatch_function = { state, index in
    guard let state, let function = FunctionTable.function(at: Int(index)) else {
        mpm_error_set("mpmlua: unknown Swift function \(index)", 0)
        return Int32(MPM_ERROR_MESSAGE)
    }
    do {
        return try function(LuaState(state))
    } catch {
        return recordError(error)
    }
}

extension LuaState {
    /// Pushes `function` as a Lua function; `doc` is shown by `help(f)`.
    ///
    /// ```swift
    /// lua.push(function: { lua in lua.push(try lua.number(1) * 2); return 1 }, doc: "double(x)")
    /// ```
    public func push(function: @escaping LuaFunction, doc: String? = nil) {
        mpm_set_dispatcher(dispatch)
        mpm_push_swift_function(state, lua_Integer(FunctionTable.append(function)))
        if let doc { LuaDocs.attach(self, doc: doc, to: -1) }
    }

    /// Sets `table[name]` to a Swift function with its docstring.
    ///
    /// ```swift
    /// lua.register("matmul", in: mpmTable, doc: "mpm.matmul(a, b): matrix product") { lua in ... }
    /// ```
    public func register(_ name: String, in table: Int32, doc: String? = nil, _ function: @escaping LuaFunction) {
        let table = absolute(table)
        push(function: function, doc: doc)
        setRawField(table, name)
    }

    /// Calls the function below `arguments` values on the stack in protected mode. A Lua error
    /// becomes `LuaError.luaValue`, with the original error value kept for the trampoline to
    /// re-raise unchanged (tables included).
    public func protectedCall(arguments: Int32, results: Int32) throws {
        let status = mpm_pcall(state, arguments, results, 0)
        guard status != LUA_OK else { return }
        let text = plainString(-1) ?? "(error object is a \(typeName(-1)) value)"
        mpm_error_store_value(state)
        throw LuaError.luaValue(text)
    }
}
