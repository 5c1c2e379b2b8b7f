import CLua
import CSupport
import JetData
import Tensors

/// Reading data-layer arguments from Lua and pushing results back.
extension LuaState {
    /// A 0-based seed for the data layer from an optional Lua integer; without one it is drawn
    /// from the default generator, so `mpm.manual_seed` makes the result reproducible.
    func dataSeed(_ index: Int32) throws -> UInt64 {
        isNoneOrNil(index) ? RandomSource.seed() : UInt64(bitPattern: Int64(try integer(index)))
    }

    /// A masking fraction: a number, or `{low, high}` drawn per batch.
    func maskFraction(_ index: Int32, what: String) throws -> Masking.Fraction {
        switch type(index) {
        case LUA_TNUMBER:
            return .fixed(try number(index))
        case LUA_TTABLE where rawLength(index) == 2:
            rawIndex(index, 1)
            rawIndex(index, 2)
            defer { pop(2) }
            guard type(-2) == LUA_TNUMBER, type(-1) == LUA_TNUMBER else {
                throw LuaError.argument(index, "\(what): a fraction range is {low, high} with two numbers")
            }
            return .uniform(try number(-2), try number(-1))
        default:
            throw LuaError.argument(index, "\(what): expected a fraction (number), a range {low, high} or a function, got \(typeName(index))")
        }
    }

    /// An attribute value for files written from Lua: string, number, or a list of either.
    func attributeValue(_ index: Int32, name: String) throws -> H5AttributeValue {
        switch type(index) {
        case LUA_TSTRING: return .string(try string(index))
        case LUA_TBOOLEAN: return .int(try boolean(index) ? 1 : 0)
        case LUA_TNUMBER:
            if lua_isinteger(state, index) != 0 { return .int(Int64(try integer(index))) }
            return .double(try number(index))
        case LUA_TTABLE:
            let n = rawLength(index)
            var strings: [String] = [], numbers: [Double] = [], integral = true
            for i in stride(from: 1, through: n, by: 1) {
                rawIndex(index, i)
                defer { pop() }
                switch type(-1) {
                case LUA_TSTRING: strings.append(try string(-1))
                case LUA_TNUMBER:
                    integral = integral && lua_isinteger(state, -1) != 0
                    numbers.append(try number(-1))
                default:
                    throw LuaError.message("write: attribute '\(name)' must hold only strings or only numbers")
                }
            }
            if !strings.isEmpty && !numbers.isEmpty {
                throw LuaError.message("write: attribute '\(name)' mixes strings and numbers")
            }
            if !strings.isEmpty { return .strings(strings) }
            return integral ? .ints(numbers.map { Int64($0) }) : .doubles(numbers)
        default:
            throw LuaError.message("write: attribute '\(name)' must be a string, number or list, got \(typeName(index))")
        }
    }

    /// The table of attributes at `index` (string keys only).
    func attributes(_ index: Int32) throws -> [String: H5AttributeValue] {
        guard !isNoneOrNil(index) else { return [:] }
        try checkTable(index)
        var out: [String: H5AttributeValue] = [:]
        try forEachPair(index) { key, value in
            guard type(key) == LUA_TSTRING, let name = plainString(key) else {
                throw LuaError.message("write: attribute names must be strings")
            }
            out[name] = try attributeValue(value, name: name)
        }
        return out
    }
}
