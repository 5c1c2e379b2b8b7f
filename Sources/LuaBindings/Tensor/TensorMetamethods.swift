import CLua
import CSupport
import Tensors

/// Operators, indexing (`t[i]`, `t[{i, {a, b}, {}}]`, `t[mask]`), fields (`t.grad`,
/// `t.requires_grad`), `#t` and `tostring(t)`.
enum TensorMetamethods {
    static func add(to tensorClass: LuaClass<Tensor>) {
        let operators: [(String, BinaryOp)] = [("__add", .add), ("__sub", .sub), ("__mul", .mul), ("__div", .div), ("__pow", .pow)]
        for (name, op) in operators {
            tensorClass.metamethod(name) { lua in
                if let left = try tensorClass.test(lua, 1) { return lua.result(try TensorMath.binary(lua, left, op)) }
                // A number on the left: 2 - t, 1 / t, 2 ^ t.
                let value = try lua.number(1)
                let right = try lua.tensor(2)
                switch op {
                case .add: return lua.result(try right.add(value))
                case .mul: return lua.result(try right.mul(value))
                case .sub: return lua.result(try right.rsub(value))
                case .div: return lua.result(try right.rdiv(value))
                case .pow: return lua.result(try right.rpow(value))
                case .maximum, .minimum: return lua.result(try TensorMath.scalar(right, op, value))
                }
            }
        }
        tensorClass.metamethod("__unm") { lua in lua.result(try lua.tensor(1).neg()) }
        tensorClass.metamethod("__len") { lua in
            let t = try lua.tensor(1)
            guard let first = t.shape.first else { throw LuaError.message("#: a 0-d tensor has no length") }
            lua.push(first)
            return 1
        }
        tensorClass.description { String(describing: $0) }
        tensorClass.metamethod("__newindex") { lua in
            try assign(lua, try lua.tensor(1))
            return 0
        }
        tensorClass.index { lua in try read(lua, try lua.tensor(1)) }
    }

    // MARK: Reading

    private static func read(_ lua: LuaState, _ t: Tensor) throws -> Int32 {
        switch lua.type(2) {
        case LUA_TSTRING:
            switch try lua.string(2) {
            case "grad":
                if let grad = t.grad { lua.push(grad) } else { lua.pushNil() }
            case "requires_grad": lua.push(t.requiresGrad)
            case "is_leaf": lua.push(t.isLeaf)
            case "ndim": lua.push(t.dim)
            default: lua.pushNil()  // unknown names read as nil, as for any Lua value
            }
            return 1
        case LUA_TNUMBER:
            return lua.result(try t.select(0, try luaIndex(lua, 2), indexBase: 1))
        case LUA_TTABLE:
            return lua.result(try t.slice(try sliceEntries(lua, 2), indexBase: 1))
        default:
            let key = try lua.tensor(2)
            if key.dtype == .bool { return lua.result(try t.maskedSelect(key)) }
            return lua.result(try t.indexSelect(0, index: key, indexBase: 1))
        }
    }

    // MARK: Writing

    private static func assign(_ lua: LuaState, _ t: Tensor) throws {
        if lua.type(2) == LUA_TSTRING {
            switch try lua.string(2) {
            case "grad": t.grad = try lua.optionalTensor(3)
            case "requires_grad": _ = try t.requiresGrad_(try lua.boolean(3))
            default: throw LuaError.message("tensor has no settable field '\(try lua.string(2))' (settable: grad, requires_grad)")
            }
            return
        }
        let entries: [TensorIndex]
        switch lua.type(2) {
        case LUA_TNUMBER: entries = [.index(try luaIndex(lua, 2))]
        case LUA_TTABLE: entries = try sliceEntries(lua, 2)
        default:
            let mask = try lua.tensor(2)
            guard mask.dtype == .bool else {
                throw LuaError.argument(2, "index assignment: a tensor index must be a bool mask (use index_copy/scatter for indices)")
            }
            _ = try t.maskedFill_(mask, value: try lua.number(3))
            return
        }
        switch try lua.operand(3) {
        case .tensor(let value): try t.setSlice(entries, value: value, indexBase: 1)
        case .number(let value): try t.setSlice(entries, value: value, indexBase: 1)
        }
    }

    // MARK: Index expressions

    /// A 1-based Lua index (-1 is the last) in the form the core reads with indexBase 1.
    static func luaIndex(_ lua: LuaState, _ index: Int32) throws -> Int {
        let value = try lua.integer(index)
        return try luaIndex(value, argument: index)
    }

    static func luaIndex(_ value: Int, argument: Int32) throws -> Int {
        if value == 0 { throw LuaError.argument(argument, "index 0 is invalid: indices count from 1 (or from -1 at the end)") }
        return value
    }

    /// `{i, {a, b}, {a, b, step}, {}, ":"}`: an index selects (dropping the dim); a range keeps
    /// the dim with elements a..b inclusive; `{}` or ":" keeps the whole dim.
    static func sliceEntries(_ lua: LuaState, _ index: Int32) throws -> [TensorIndex] {
        var entries: [TensorIndex] = []
        for position in stride(from: 1, through: lua.rawLength(index), by: 1) {
            lua.rawIndex(index, position)
            defer { lua.pop() }
            switch lua.type(-1) {
            case LUA_TNUMBER:
                entries.append(.index(try luaIndex(try lua.integer(-1), argument: index)))
            case LUA_TSTRING where lua.plainString(-1) == ":":
                entries.append(.all)
            case LUA_TTABLE:
                let bounds = try lua.integers(inTable: lua.top, what: "range")
                switch bounds.count {
                case 0: entries.append(.all)
                case 2, 3:
                    let (start, stop) = (bounds[0], bounds[1])
                    if start == 0 || stop == 0 {
                        throw LuaError.argument(index, "range {\(start), \(stop)}: indices count from 1 (or from -1 at the end)")
                    }
                    entries.append(.range(start > 0 ? start - 1 : start,
                                          stop > 0 ? stop : (stop == -1 ? nil : stop + 1),
                                          bounds.count == 3 ? bounds[2] : 1))
                default:
                    throw LuaError.argument(index, "a range is {first, last} or {first, last, step}, got \(bounds.count) numbers")
                }
            default:
                throw LuaError.argument(index, "index entry \(position) must be a number, a {first, last} range, {} or \":\"")
            }
        }
        return entries
    }
}
