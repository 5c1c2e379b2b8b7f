import CLua
import CSupport
import NN
import Tensors

/// The userdata type of every Swift module. It offers the call (`m(x, offsets)`), field access
/// (`lin.weight`, `seq[2]`, `m.training`) and the primitives the Lua module protocol
/// (lua/mpm/nn/module.lua) is built on; that protocol adds `parameters`, `state_dict`, `train`
/// and the rest to this type's method table, so Swift and Lua modules share one implementation.
enum ModuleClass {
    static let moduleClass: LuaClass<Module> = makeClass()

    /// Pushes a module: a proxy becomes the Lua module it stands for.
    static func push(_ lua: LuaState, _ module: Module) {
        if let proxy = module as? LuaModuleProxy { proxy.pushModule(lua) } else { moduleClass.push(lua, module) }
    }

    /// True when the table at `index` is an instance of a Lua module class (its metatable has
    /// `__is_module_class`, copied into every class by `extend`).
    static func isLuaModule(_ lua: LuaState, _ index: Int32) -> Bool {
        guard lua.type(index) == LUA_TTABLE, lua_getmetatable(lua.state, index) != 0 else { return false }
        defer { lua.pop() }
        let flag = lua.rawField(-1, "__is_module_class") == LUA_TBOOLEAN && lua_toboolean(lua.state, -1) != 0
        lua.pop()
        return flag
    }

    /// The module at `index`: a Swift module, or a Lua module wrapped in a proxy.
    static func module(_ lua: LuaState, _ index: Int32) throws -> Module? {
        if let m = try moduleClass.test(lua, index) { return m }
        guard isLuaModule(lua, index) else { return nil }
        lua_getmetatable(lua.state, index)
        let name = lua.rawField(-1, "__name") == LUA_TSTRING ? (lua.plainString(-1) ?? "Module") : "Module"
        lua.pop(2)
        return LuaModuleProxy(lua, index: index, name: name)
    }

    static func checkModule(_ lua: LuaState, _ index: Int32) throws -> Module {
        guard let m = try module(lua, index) else { throw lua.typeError(index, expected: "module") }
        return m
    }

    /// Runs a Swift module's generic forward with the Lua arguments from `first` on, and pushes
    /// every output. A `data.Batch` argument of a set module (`bb(batch)`) stands for the packed
    /// triple `batch.features, batch.types (1-based), batch.offsets`, the same as
    /// `bb(batch.features, batch.types, batch.offsets)`.
    static func call(_ lua: LuaState, _ module: Module, argumentsFrom first: Int32) throws -> Int32 {
        var inputs: [Tensor?] = []
        if first <= lua.top {
            for i in first...lua.top {
                if lua.isNoneOrNil(i) { inputs.append(nil); continue }
                // A packed batch stands for the (features, types, offsets) a set module takes.
                if let b = try BatchBinding.test(lua, i) {
                    guard module.signature.required.starts(with: ["features", "types", "offsets"]) else {
                        throw LuaError.argument(i, "\(module.typeName): argument \(i - first + 1) is a batch, but this module takes \(module.signature), not (features, types, offsets)")
                    }
                    inputs += [b.batch.features, try b.oneBased("types", b.batch.types), b.batch.offsets]
                    continue
                }
                guard let t = try tensorClass.test(lua, i) else {
                    throw LuaError.argument(i, "\(module.typeName): argument \(i - first + 1) must be a tensor or nil, got \(lua.typeName(i))")
                }
                inputs.append(t)
            }
        }
        while let last = inputs.last, last == nil { inputs.removeLast() }
        // Lua counts from 1 (ids, types); Lua modules inside Swift containers call back on this thread.
        let outputs = try LuaStateContext.calling(lua) { try module.forward(inputs, base: .one) }
        try lua.ensureStack(Int32(outputs.count))
        for t in outputs { lua.push(t) }
        return Int32(outputs.count)
    }

    /// Pushes a list of {name, value} pairs.
    static func pushPairs<T>(_ lua: LuaState, _ items: [(String, T)], _ pushValue: (T) -> Void) {
        lua.newTable(array: Int32(items.count))
        for (position, (name, value)) in items.enumerated() {
            lua.newTable(array: 2)
            lua.push(name)
            lua_rawseti(lua.state, -2, 1)
            pushValue(value)
            lua_rawseti(lua.state, -2, 2)
            lua_rawseti(lua.state, -2, lua_Integer(position + 1))
        }
    }

    private static func makeClass() -> LuaClass<Module> {
        let c = LuaClass<Module>(name: "nn.Module")
        c.metamethod("__call") { lua in try call(lua, try c.check(lua, 1), argumentsFrom: 2) }
        c.method("forward", doc: "m:forward(x, ...) -> outputs: the same as m(x, ...); m(batch) with one data.Batch passes batch.features, batch.types, batch.offsets") { lua, m in
            try call(lua, m, argumentsFrom: 2)
        }
        c.length { $0.children.count }
        c.metamethod("__newindex") { lua in
            let m = try c.check(lua, 1)
            let key = lua.plainString(2) ?? lua.typeName(2)
            throw LuaError.message("\(m.typeName): cannot set field '\(key)' on a Swift module (parameters are updated in place, e.g. m.weight:copy_(w) under mpm.no_grad())")
        }
        c.index { lua in
            let m = try c.check(lua, 1)
            let key: String
            switch lua.type(2) {
            case LUA_TSTRING: key = try lua.string(2)
            case LUA_TNUMBER: key = String(try lua.integer(2))
            default: lua.pushNil(); return 1
            }
            if key == "training" { lua.push(m.training); return 1 }
            if let p = m.ownParameters.first(where: { $0.name == key }) { lua.push(p.tensor); return 1 }
            if let b = m.ownBuffers.first(where: { $0.name == key }) { lua.push(b.tensor); return 1 }
            if let child = m.children.first(where: { $0.name == key }) { push(lua, child.module); return 1 }
            lua.pushNil()
            return 1
        }
        c.method("append", doc: "seq:append(module) -> seq: adds a module at the end of a Sequential or ModuleList") { lua, m in
            let child = try checkModule(lua, 2)
            switch m {
            case let s as Sequential: try s.append(child)
            case let l as ModuleList: try l.append(child)
            default: throw LuaError.message("\(m.typeName) has no append (only Sequential and ModuleList do)")
            }
            lua.pushValue(1)
            return 1
        }
        c.method("_own_parameters", doc: "internal: {{name, tensor}, ...} owned directly") { lua, m in
            pushPairs(lua, m.ownParameters.map { ($0.name, $0.tensor) }) { lua.push($0) }
            return 1
        }
        c.method("_own_buffers", doc: "internal: {{name, tensor}, ...} buffers owned directly") { lua, m in
            pushPairs(lua, m.ownBuffers.map { ($0.name, $0.tensor) }) { lua.push($0) }
            return 1
        }
        c.method("_own_children", doc: "internal: {{name, module}, ...} direct children") { lua, m in
            pushPairs(lua, m.children.map { ($0.name, $0.module) }) { push(lua, $0) }
            return 1
        }
        c.method("_set_training", doc: "internal: sets this module's own train flag") { lua, m in
            m.setTraining(try lua.boolean(2))
            return 0
        }
        c.method("_summary", doc: "internal: 'Type(config)' for printing") { lua, m in
            lua.push(m.summary)
            return 1
        }
        c.method("_type_name", doc: "internal: the Swift type name") { lua, m in
            lua.push(m.typeName)
            return 1
        }
        return c
    }
}
