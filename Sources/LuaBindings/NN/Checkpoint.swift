import CLua
import CSupport
import Foundation
import JetData
import Tensors

/// `mpm.save(path, value)` and `mpm.load(path)`: nested Lua tables of tensors, numbers, strings
/// and booleans as HDF5, readable from h5py (docs/nn.md, "Checkpoints").
///
/// Layout: a table is a group; a tensor is a dataset (float32, int64, or h5py's bool) named by
/// its key, so state-dict keys such as "layers.1.weight" become dataset names; a number, string
/// or boolean is an attribute of its table's group; a non-empty list of numbers is one array
/// attribute. Markers (attributes named `mpmlua_*`) record what HDF5 cannot: integer keys,
/// booleans, and which arrays are lists. The root carries `mpmlua_format` and
/// `mpmlua_version`, so a foreign file is refused with a clear message.
///
/// The whole value is read from Lua and checked before the file is created, and the file is
/// written to a temporary name and renamed into place: a failure leaves no file and never a
/// partial one. Loading reads everything before building any Lua value.
enum Checkpoint {
    static let format = "mpmlua.checkpoint"
    static let version: Int64 = 1
    static let reservedPrefix = "mpmlua_"

    enum Key: Hashable {
        case string(String)
        case int(Int64)

        var name: String {
            switch self {
            case .string(let s): return s
            case .int(let i): return String(i)
            }
        }
    }

    indirect enum Node {
        case table([(Key, Node)])
        case tensor(Tensor)
        case int(Int64)
        case double(Double)
        case string(String)
        case bool(Bool)
        case ints([Int64])
        case doubles([Double])
    }

    // MARK: Lua -> Node

    static func read(_ lua: LuaState, _ index: Int32, path: String, onPath: inout Set<UnsafeRawPointer>) throws -> Node {
        let shown = path.isEmpty ? "the value" : path
        switch lua.type(index) {
        case LUA_TNUMBER:
            if lua_isinteger(lua.state, index) != 0 { return .int(Int64(lua_tointegerx(lua.state, index, nil))) }
            return .double(lua_tonumberx(lua.state, index, nil))
        case LUA_TSTRING:
            var length = 0
            guard let p = lua_tolstring(lua.state, index, &length) else { return .string("") }
            let bytes = UnsafeRawBufferPointer(start: p, count: length)
            guard !bytes.contains(0) else { throw LuaError.message("mpm.save: \(shown) is a string with NUL bytes, which HDF5 attributes cannot hold") }
            return .string(String(decoding: bytes, as: UTF8.self))
        case LUA_TBOOLEAN:
            return .bool(lua_toboolean(lua.state, index) != 0)
        case LUA_TUSERDATA:
            if let t = try tensorClass.test(lua, index) { return .tensor(t) }
            throw LuaError.message("mpm.save: \(shown) is a \(lua.userdataTypeName(index) ?? "userdata"); only tables, tensors, numbers, strings and booleans can be saved (save a module's state_dict())")
        case LUA_TTABLE:
            let table = lua.absolute(index)
            guard let pointer = lua_topointer(lua.state, table) else { return .table([]) }
            guard onPath.insert(pointer).inserted else {
                throw LuaError.message("mpm.save: \(shown) contains itself (a cycle cannot be saved)")
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
                        throw LuaError.message("mpm.save: key '\(s)' in \(shown) cannot be an HDF5 name (empty, '.' or containing '/')")
                    }
                    guard !s.hasPrefix(reservedPrefix) else {
                        throw LuaError.message("mpm.save: key '\(s)' in \(shown) starts with '\(reservedPrefix)', which is reserved")
                    }
                    key = .string(s)
                case LUA_TNUMBER where lua_isinteger(lua.state, k) != 0:
                    key = .int(Int64(lua_tointegerx(lua.state, k, nil)))
                default:
                    throw LuaError.message("mpm.save: \(shown) has a key of type \(lua.typeName(k)); keys must be strings or integers")
                }
                let child = path.isEmpty ? key.name : path + "/" + key.name
                entries.append((key, try read(lua, v, path: child, onPath: &onPath)))
            }
            var names = Set<String>()
            for (k, _) in entries where !names.insert(k.name).inserted {
                throw LuaError.message("mpm.save: \(shown) has both the key \(k.name) and the key '\(k.name)' (they would share one HDF5 name)")
            }
            entries.sort { $0.0.name < $1.0.name }
            return .table(entries)
        default:
            throw LuaError.message("mpm.save: \(shown) is a \(lua.typeName(index)); only tables, tensors, numbers, strings and booleans can be saved")
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

    // MARK: Node -> HDF5

    static func write(_ root: Node, to path: String) throws {
        let top: [(Key, Node)]
        var wrapped = false
        if case .table(let entries) = root { top = entries } else { top = [(.string("value"), root)]; wrapped = true }
        do {
            try H5File.createAtomically(path) { file in
                try file.setAttribute("mpmlua_format", .string(format))
                try file.setAttribute("mpmlua_version", .int(version))
                if wrapped { try file.setAttribute("mpmlua_wrapped", .int(1)) }
                try writeTable(top, into: file)
            }
        } catch let e as DataError {
            throw LuaError.message("mpm.save: " + stripped(e))
        }
    }

    static func stripped(_ e: DataError) -> String {
        e.message.hasPrefix("data: ") ? String(e.message.dropFirst(6)) : e.message
    }

    static func writeTable(_ entries: [(Key, Node)], into group: H5Group) throws {
        var integerKeys: [Int64] = [], booleans: [String] = [], intLists: [String] = [], floatLists: [String] = []
        for (key, node) in entries {
            if case .int(let i) = key { integerKeys.append(i) }
            let name = key.name
            switch node {
            case .table(let children):
                try writeTable(children, into: try group.createGroup(name))
            case .tensor(let t):
                try writeTensor(t, name: name, into: group)
            case .int(let v): try group.setAttribute(name, .int(v))
            case .double(let v): try group.setAttribute(name, .double(v))
            case .string(let v): try group.setAttribute(name, .string(v))
            case .bool(let v):
                try group.setAttribute(name, .int(v ? 1 : 0))
                booleans.append(name)
            case .ints(let v):
                try group.setAttribute(name, .ints(v))
                intLists.append(name)
            case .doubles(let v):
                try group.setAttribute(name, .doubles(v))
                floatLists.append(name)
            }
        }
        if !integerKeys.isEmpty { try group.setAttribute("mpmlua_integer_keys", .ints(integerKeys)) }
        if !booleans.isEmpty { try group.setAttribute("mpmlua_booleans", .strings(booleans)) }
        if !intLists.isEmpty { try group.setAttribute("mpmlua_int_lists", .strings(intLists)) }
        if !floatLists.isEmpty { try group.setAttribute("mpmlua_float_lists", .strings(floatLists)) }
    }

    static func writeTensor(_ t: Tensor, name: String, into group: H5Group) throws {
        // Checkpoints are read whole and often: no compression, so saving a large model costs
        // only the copy to disk.
        let options = H5WriteOptions(gzipLevel: nil)
        let c = t.contiguous()
        let base = c.storage.data + c.offset * c.dtype.byteSize
        switch c.dtype {
        case .f32:
            try group.write(name, UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: c.numel), shape: c.shape, options: options)
        case .i64:
            try group.write(name, UnsafeBufferPointer(start: base.assumingMemoryBound(to: Int64.self), count: c.numel), shape: c.shape, options: options)
        case .bool:
            try group.write(name, UnsafeBufferPointer(start: base.assumingMemoryBound(to: Bool.self), count: c.numel), shape: c.shape, options: options)
        }
    }

    // MARK: HDF5 -> Node

    static func load(_ path: String) throws -> Node {
        do {
            let file = try H5File.open(path)
            guard let f = try file.attribute("mpmlua_format")?.stringValue else {
                throw LuaError.message("mpm.load: \(path) is an HDF5 file but not an mpmlua checkpoint (no mpmlua_format attribute); read other HDF5 files with mpm.data")
            }
            guard f == format else {
                throw LuaError.message("mpm.load: \(path) has format '\(f)', expected '\(format)'")
            }
            let v = try file.attribute("mpmlua_version")?.intValue ?? 0
            guard v >= 1 && v <= version else {
                throw LuaError.message("mpm.load: \(path) is checkpoint version \(v); this mpmlua reads versions 1...\(version)")
            }
            let root = try readGroup(file, path: path)
            if try file.attribute("mpmlua_wrapped")?.intValue == 1, case .table(let entries) = root,
               let value = entries.first(where: { $0.0 == .string("value") }) {
                return value.1
            }
            return root
        } catch let e as DataError {
            throw LuaError.message("mpm.load: " + stripped(e))
        }
    }

    static func readGroup(_ group: H5Group, path: String) throws -> Node {
        func strings(_ name: String) throws -> Set<String> {
            switch try group.attribute(name) {
            case .strings(let s)?: return Set(s)
            case .string(let s)?: return [s]
            default: return []
            }
        }
        var integerKeys = Set<String>()
        switch try group.attribute("mpmlua_integer_keys") {
        case .ints(let v)?: integerKeys = Set(v.map { String($0) })
        case .int(let v)?: integerKeys = [String(v)]
        default: break
        }
        let booleans = try strings("mpmlua_booleans"), intLists = try strings("mpmlua_int_lists")
        let floatLists = try strings("mpmlua_float_lists")
        func key(_ name: String) -> Key {
            if integerKeys.contains(name), let i = Int64(name) { return .int(i) }
            return .string(name)
        }
        var entries: [(Key, Node)] = []
        for name in try group.members() {
            switch group.kind(of: name) {
            case .group?:
                entries.append((key(name), try readGroup(try group.group(name), path: path)))
            case .dataset?:
                entries.append((key(name), .tensor(try readTensor(try group.dataset(name), path: path))))
            default:
                throw LuaError.message("mpm.load: \(path): member '\(name)' is neither a group nor a dataset")
            }
        }
        for name in try group.attributeNames() where !name.hasPrefix(reservedPrefix) {
            guard let value = try group.attribute(name) else { continue }
            let node: Node
            switch value {
            case .int(let v): node = booleans.contains(name) ? .bool(v != 0) : .int(v)
            case .double(let v): node = .double(v)
            case .string(let s): node = .string(s)
            case .ints(let v): node = intLists.contains(name) || v.count != 1 ? .ints(v) : .int(v[0])
            case .doubles(let v): node = floatLists.contains(name) || v.count != 1 ? .doubles(v) : .double(v[0])
            case .strings(let v): node = .table(v.enumerated().map { (.int(Int64($0.offset + 1)), .string($0.element)) })
            }
            entries.append((key(name), node))
        }
        return .table(entries)
    }

    static func readTensor(_ ds: H5Dataset, path: String) throws -> Tensor {
        let shape = ds.shape
        switch ds.dtype {
        case .float:
            let name = ds.displayPath.replacingOccurrences(of: "/", with: ".")
            return try Tensor(try ds.readFiniteFloats(tensorName: name), shape: shape)
        case .integer, .enumeration:
            return try Tensor(try ds.read(Int64.self), shape: shape)
        case .bool:
            return try Tensor(try ds.read(Bool.self), shape: shape)
        default:
            throw LuaError.message("mpm.load: \(path): dataset '\(ds.path)' has type \(ds.dtype), which is not a tensor type")
        }
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
            try write(node, to: path)
            return 0
        }
        lua.register("load", in: mpm, doc: """
            mpm.load(path) -> value
            Reads a file written by mpm.save back into the same nested tables; tensors come back bit
            for bit. Files that are not mpmlua checkpoints are refused with a clear message.
            """) { lua in
            let node = try load(try lua.string(1))
            try push(lua, node)
            return 1
        }
    }
}
