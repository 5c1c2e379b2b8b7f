import CLua
import CSupport
import Tensors

/// The one userdata type for tensors. Methods are added by the `Tensor+*.swift` files here.
let tensorClass = LuaClass<Tensor>(name: "tensor")

/// An operand that may be a tensor or a plain Lua number (`x + 1`, `2 * x`).
enum Operand {
    case tensor(Tensor)
    case number(Double)
}

extension LuaState {
    /// The tensor at `index`, or `bad argument #i (tensor expected, got number)`.
    func tensor(_ index: Int32) throws -> Tensor { try tensorClass.check(self, index) }

    func optionalTensor(_ index: Int32) throws -> Tensor? {
        isNoneOrNil(index) ? nil : try tensor(index)
    }

    func push(_ tensor: Tensor) { tensorClass.push(self, tensor) }

    /// Pushes a Lua sequence of tensors.
    func push(_ tensors: [Tensor]) {
        newTable(array: Int32(tensors.count))
        for (position, tensor) in tensors.enumerated() {
            push(tensor)
            lua_rawseti(state, -2, lua_Integer(position + 1))
        }
    }

    func operand(_ index: Int32) throws -> Operand {
        if type(index) == LUA_TNUMBER { return .number(try number(index)) }
        if let tensor = try tensorClass.test(self, index) { return .tensor(tensor) }
        throw typeError(index, expected: "tensor or number")
    }

    // MARK: Dimensions and shapes (1-based in Lua, 0-based in Swift)

    /// A dimension argument: 1..n count from the front, -1..-n from the back; 0 is an error.
    func dim(_ index: Int32) throws -> Int {
        let value = try integer(index)
        return try Self.swiftDim(value, argument: index)
    }

    func optionalDim(_ index: Int32) throws -> Int? {
        isNoneOrNil(index) ? nil : try dim(index)
    }

    static func swiftDim(_ value: Int, argument: Int32) throws -> Int {
        if value == 0 {
            throw LuaError.argument(argument, "dim 0 is invalid: dims count from 1 (or from -1 at the end)")
        }
        return value > 0 ? value - 1 : value
    }

    /// One dim or a table of dims (`x:sum(2)`, `x:sum({1, 2})`); nil when absent.
    func dims(_ index: Int32) throws -> [Int]? {
        if isNoneOrNil(index) { return nil }
        if type(index) == LUA_TNUMBER { return [try dim(index)] }
        guard type(index) == LUA_TTABLE else { throw typeError(index, expected: "dim or table of dims") }
        return try integers(inTable: index, what: "dims").map { try Self.swiftDim($0, argument: index) }
    }

    /// The integers of a sequence table.
    func integers(inTable index: Int32, what: String) throws -> [Int] {
        let count = rawLength(index)
        var values: [Int] = []
        values.reserveCapacity(count)
        for position in stride(from: 1, through: count, by: 1) {
            rawIndex(index, position)
            defer { pop() }
            var ok: Int32 = 0
            let value = lua_tointegerx(state, -1, &ok)
            guard ok != 0, type(-1) == LUA_TNUMBER else {
                throw LuaError.argument(index, "\(what)[\(position)] must be an integer, got \(plainString(-1) ?? typeName(-1))")
            }
            values.append(Int(value))
        }
        return values
    }

    /// A shape given as integers (`2, 3`) or one table (`{2, 3}`) starting at `first`; returns
    /// the shape and the index of what follows it (an options table, if any).
    func shape(from first: Int32) throws -> (shape: [Int], next: Int32) {
        if type(first) == LUA_TTABLE, !isOptionsTable(first) {
            return (try integers(inTable: first, what: "size"), first + 1)
        }
        var shape: [Int] = []
        var index = first
        while type(index) == LUA_TNUMBER {
            shape.append(try integer(index))
            index += 1
        }
        return (shape, index)
    }

    /// A table with string keys (options), as opposed to a sequence (a shape or values).
    func isOptionsTable(_ index: Int32) -> Bool {
        guard type(index) == LUA_TTABLE else { return false }
        if rawLength(index) > 0 { return false }
        let table = absolute(index)
        lua_pushnil(state)
        guard lua_next(state, table) != 0 else { return false }  // {} is an empty shape
        let stringKey = type(-2) == LUA_TSTRING
        pop(2)
        return stringKey
    }

    // MARK: Options

    /// Reads `dtype` names as PyTorch spells them, with the short forms.
    static func dtype(named name: String) -> DType? {
        switch name {
        case "float32", "f32", "float": return .f32
        case "int64", "i64", "long": return .i64
        case "bool": return .bool
        default: return nil
        }
    }

    func dtype(_ index: Int32) throws -> DType {
        let name = try string(index)
        guard let dtype = Self.dtype(named: name) else {
            throw LuaError.argument(index, "unknown dtype '\(name)' (expected float32, int64 or bool)")
        }
        return dtype
    }

    /// Reads field `key` of the options table at `index` with `read`, or nil if absent.
    func option<T>(_ index: Int32, _ key: String, _ read: (Int32) throws -> T) throws -> T? {
        guard type(index) == LUA_TTABLE else { return nil }
        rawField(index, key)
        defer { pop() }
        if isNoneOrNil(-1) { return nil }
        do {
            return try read(top)
        } catch LuaError.argument(_, let message) {
            throw LuaError.argument(index, "option '\(key)': \(message)")
        }
    }
}
