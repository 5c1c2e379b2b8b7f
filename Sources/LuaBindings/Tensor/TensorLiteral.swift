import CLua
import CSupport
import Tensors

/// Nested Lua tables <-> tensors: `mpm.tensor({{1, 2}, {3, 4}})` and `t:tolist()`.
struct TensorLiteral {
    var shape: [Int] = []
    var values: [Double] = []
    /// The values exactly, while every one is a Lua integer (a Double is exact only below 2^53).
    var integers: [Int64] = []
    var dtype: DType = .i64

    /// Reads a number, a boolean, or nested sequence tables of them (rectangular).
    static func read(_ lua: LuaState, _ index: Int32) throws -> TensorLiteral {
        var literal = TensorLiteral()
        let index = lua.absolute(index)
        literal.shape = try firstShape(lua, index)
        var sawBoolean = false, sawNumber = false

        func visit(_ index: Int32, depth: Int, path: String) throws {
            if depth < literal.shape.count {
                guard lua.type(index) == LUA_TTABLE, lua.rawLength(index) == literal.shape[depth] else {
                    throw LuaError.argument(1, "tensor: \(path) should be a table of length \(literal.shape[depth]) (nested tables must be rectangular)")
                }
                for position in stride(from: 1, through: literal.shape[depth], by: 1) {
                    lua.rawIndex(index, position)
                    defer { lua.pop() }
                    try visit(lua.top, depth: depth + 1, path: path + "[\(position)]")
                }
                return
            }
            switch lua.type(index) {
            case LUA_TNUMBER:
                sawNumber = true
                if lua_isinteger(lua.state, index) == 0 { literal.dtype = .f32 }
                literal.values.append(lua_tonumberx(lua.state, index, nil))
                if literal.dtype == .i64 { literal.integers.append(Int64(lua_tointegerx(lua.state, index, nil))) }
            case LUA_TBOOLEAN:
                sawBoolean = true
                literal.values.append(lua_toboolean(lua.state, index) != 0 ? 1 : 0)
            default:
                throw LuaError.argument(1, "tensor: \(path) is a \(lua.typeName(index)); expected a number or boolean")
            }
        }
        try lua.ensureStack(Int32(literal.shape.count) + 4)
        try visit(index, depth: 0, path: "values")
        if sawBoolean && sawNumber { throw LuaError.argument(1, "tensor: mixes booleans and numbers") }
        if sawBoolean { literal.dtype = .bool }
        return literal
    }

    /// The shape implied by following the first element of each nesting level.
    private static func firstShape(_ lua: LuaState, _ index: Int32) throws -> [Int] {
        var shape: [Int] = []
        let top = lua.top
        defer { lua.setTop(top) }
        lua.pushValue(index)
        while lua.type(-1) == LUA_TTABLE {
            try lua.ensureStack(2)
            let count = lua.rawLength(-1)
            shape.append(count)
            if count == 0 || shape.count > 64 { break }
            lua.rawIndex(-1, 1)
        }
        return shape
    }

    func tensor(dtype: DType) throws -> Tensor {
        switch dtype {
        case .f32: return try Tensor(values.map { Float($0) }, shape: shape)
        case .i64:
            if self.dtype == .i64 { return try Tensor(integers, shape: shape) }
            return try Tensor(values.map { value in
                // Truncated toward zero, as torch.tensor(..., dtype=torch.int64) does.
                guard let integer = Int64(exactly: value.rounded(.towardZero)) else {
                    throw LuaError.argument(1, "tensor: \(value) cannot be stored as int64")
                }
                return integer
            }, shape: shape)
        case .bool: return try Tensor(values.map { $0 != 0 }, shape: shape)
        }
    }

    /// Pushes `tensor` as nested tables (numbers, integers or booleans); a 0-d tensor as a value.
    static func push(_ lua: LuaState, _ tensor: Tensor) throws {
        let shape = tensor.shape
        var position = 0
        func pushLevel(_ depth: Int, _ push: (Int) -> Void) throws {
            if depth == shape.count {
                push(position)
                position += 1
                return
            }
            try lua.ensureStack(3)
            lua.newTable(array: Int32(shape[depth]))
            for element in 0..<shape[depth] {
                try pushLevel(depth + 1, push)
                lua_rawseti(lua.state, -2, lua_Integer(element + 1))
            }
        }
        switch tensor.dtype {
        case .f32:
            let values = tensor.toFloatArray()
            try pushLevel(0) { lua.push(Double(values[$0])) }
        case .i64:
            let values = tensor.toInt64Array()
            try pushLevel(0) { lua.push(Int(values[$0])) }
        case .bool:
            let values = tensor.toBoolArray()
            try pushLevel(0) { lua.push(values[$0]) }
        }
    }
}
