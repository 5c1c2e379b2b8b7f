import CLua
import CSupport
import Foundation
import JetData
import Tensors

/// `mpm.save(path, value)` and `mpm.load(path)`: nested Lua tables of tensors, numbers, strings
/// and booleans as HDF5, readable from h5py (docs/nn.md, "Saved values"). The file layout is
/// `ValueFile`'s (JetData); this file converts Lua values to and from `ValueFile.Node`.
///
/// The whole value is read from Lua and checked before the file is created, and the file is
/// written to a temporary name and renamed into place: a failure leaves no file and never a
/// partial one. Loading reads everything before building any Lua value.
enum ValueFileLibrary {
    typealias Key = ValueFile.Key
    typealias Node = ValueFile.Node
    static let reservedPrefix = ValueFile.reservedPrefix

    // MARK: Lua -> Node

    /// The Lua value at `index` as a node; errors name `function` (mpm.save, mpm.records.save)
    /// and the value's place inside the saved table (`path`).
    static func read(_ lua: LuaState, _ index: Int32, path: String, function: String = "mpm.save",
                     onPath: inout Set<UnsafeRawPointer>) throws -> Node {
        let shown = path.isEmpty ? "the value" : path
        switch lua.type(index) {
        case LUA_TNUMBER:
            if lua_isinteger(lua.state, index) != 0 { return .int(Int64(lua_tointegerx(lua.state, index, nil))) }
            return .double(lua_tonumberx(lua.state, index, nil))
        case LUA_TSTRING:
            var length = 0
            guard let p = lua_tolstring(lua.state, index, &length) else { return .string("") }
            let bytes = UnsafeRawBufferPointer(start: p, count: length)
            guard !bytes.contains(0) else { throw LuaError.message("\(function): \(shown) is a string with NUL bytes, which HDF5 attributes cannot hold") }
            return .string(String(decoding: bytes, as: UTF8.self))
        case LUA_TBOOLEAN:
            return .bool(lua_toboolean(lua.state, index) != 0)
        case LUA_TUSERDATA:
            if let t = try tensorClass.test(lua, index) { return .tensor(t) }
            throw LuaError.message("\(function): \(shown) is a \(lua.userdataTypeName(index) ?? "userdata"); only tables, tensors, numbers, strings and booleans can be saved (save a module's state_dict())")
        case LUA_TTABLE:
            let table = lua.absolute(index)
            guard let pointer = lua_topointer(lua.state, table) else { return .table([]) }
            guard onPath.insert(pointer).inserted else {
                throw LuaError.message("\(function): \(shown) contains itself (a cycle cannot be saved)")
            }
            defer { onPath.remove(pointer) }
            if let list = try numberList(lua, table) { return list }
            var entries: [(Key, Node)] = []
            try lua.forEachPair(table) { k, v in
                let key: Key
                switch lua.type(k) {
                case LUA_TSTRING:
                    let s = try lua.string(k)
                    guard !s.isEmpty, s != ".", !s.contains("/") else {
                        throw LuaError.message("\(function): key '\(s)' in \(shown) cannot be an HDF5 name (empty, '.' or containing '/')")
                    }
                    guard !s.hasPrefix(reservedPrefix) else {
                        throw LuaError.message("\(function): key '\(s)' in \(shown) starts with '\(reservedPrefix)', which is reserved")
                    }
                    key = .string(s)
                case LUA_TNUMBER where lua_isinteger(lua.state, k) != 0:
                    key = .int(Int64(lua_tointegerx(lua.state, k, nil)))
                default:
                    throw LuaError.message("\(function): \(shown) has a key of type \(lua.typeName(k)); keys must be strings or integers")
                }
                let child = path.isEmpty ? key.name : path + "/" + key.name
                entries.append((key, try read(lua, v, path: child, function: function, onPath: &onPath)))
            }
            var names = Set<String>()
            for (k, _) in entries where !names.insert(k.name).inserted {
                throw LuaError.message("\(function): \(shown) has both the key \(k.name) and the key '\(k.name)' (they would share one HDF5 name)")
            }
            entries.sort { $0.0.name < $1.0.name }
            return .table(entries)
        default:
            throw LuaError.message("\(function): \(shown) is a \(lua.typeName(index)); only tables, tensors, numbers, strings and booleans can be saved")
        }
    }

    /// A non-empty sequence 1..n of numbers (and nothing else) as one array, or nil.
    static func numberList(_ lua: LuaState, _ table: Int32) throws -> Node? {
        let n = lua.rawLength(table)
        guard n > 0 else { return nil }
        var count = 0
        var allInts = true
        var ints: [Int64] = [], doubles: [Double] = []
        var isList = true
        try lua.forEachPair(table) { k, v in
            count += 1
            guard isList, lua.type(k) == LUA_TNUMBER, lua_isinteger(lua.state, k) != 0, lua.type(v) == LUA_TNUMBER else {
                isList = false
                return
            }
        }
        guard isList, count == n else { return nil }
        for i in 1...n {
            lua.rawIndex(table, i)
            defer { lua.pop() }
            if lua_isinteger(lua.state, -1) != 0 {
                let v = Int64(lua_tointegerx(lua.state, -1, nil))
                ints.append(v)
                doubles.append(Double(v))
            } else {
                allInts = false
                doubles.append(lua_tonumberx(lua.state, -1, nil))
            }
        }
        return allInts ? .ints(ints) : .doubles(doubles)
    }

    /// ValueFile and Record (JetData) report their failures as data errors; Lua names the function instead.
    static func stripped(_ e: DataError) -> String {
        e.message.hasPrefix("data: ") ? String(e.message.dropFirst(6)) : e.message
    }

    // MARK: Node -> Lua

    static func push(_ lua: LuaState, _ node: Node) throws {
        try lua.ensureStack(4)
        switch node {
        case .int(let v): lua_pushinteger(lua.state, lua_Integer(v))
        case .double(let v): lua.push(v)
        case .string(let s): lua.push(s)
        case .bool(let b): lua.push(b)
        case .tensor(let t): lua.push(t)
        case .ints(let v):
            lua.newTable(array: Int32(v.count))
            for (i, x) in v.enumerated() {
                lua_pushinteger(lua.state, lua_Integer(x))
                lua_rawseti(lua.state, -2, lua_Integer(i + 1))
            }
        case .doubles(let v):
            lua.newTable(array: Int32(v.count))
            for (i, x) in v.enumerated() {
                lua.push(x)
                lua_rawseti(lua.state, -2, lua_Integer(i + 1))
            }
        case .table(let entries):
            lua.newTable(hash: Int32(entries.count))
            for (key, child) in entries {
                switch key {
                case .int(let i): lua_pushinteger(lua.state, lua_Integer(i))
                case .string(let s): lua.push(s)
                }
                try push(lua, child)
                lua_rawset(lua.state, -3)
            }
        }
    }

    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.register("save", in: mpm, doc: """
            mpm.save(path, value)
            Writes nested tables of tensors, numbers, strings and booleans to an HDF5 file that h5py
            reads: tables are groups, tensors datasets (state-dict keys become dataset names),
            scalars attributes. Written to a temporary file and renamed: never half a file.
            mpm.save("ckpt.h5", {model = model:state_dict(), optim = opt:state_dict(), step = 1000})
            """) { lua in
            let path = try lua.string(1)
            guard lua.top >= 2 else { throw LuaError.argument(2, "value expected") }
            var onPath = Set<UnsafeRawPointer>()
            let node = try read(lua, 2, path: "", onPath: &onPath)
            do { try ValueFile.save(node, to: path) } catch let e as DataError { throw LuaError.message("mpm.save: " + stripped(e)) }
            return 0
        }
        lua.register("load", in: mpm, doc: """
            mpm.load(path) -> value
            Reads a file written by mpm.save back into the same nested tables; tensors come back bit
            for bit. Files that mpm.save did not write are refused with a clear message.
            """) { lua in
            let node: Node
            do { node = try ValueFile.load(try lua.string(1)) } catch let e as DataError { throw LuaError.message("mpm.load: " + stripped(e)) }
            try push(lua, node)
            return 1
        }
    }
}
