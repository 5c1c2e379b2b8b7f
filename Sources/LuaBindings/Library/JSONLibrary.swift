import CLua
import Foundation
import Tensors

/// `mpm.json`: Lua values to JSON text and back, through Foundation's JSONSerialization, for
/// results a physicist opens elsewhere (result.json). Sequences become arrays, other tables
/// objects (keys as strings, sorted), tensors nested arrays; NaN and infinities become null.
enum JSONLibrary {
    static let maxDepth = 64

    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let json = lua.top
        lua.register("encode", in: json, doc: """
            mpm.json.encode(value [, {indent=true}]) -> text
            JSON of a Lua value: sequences -> arrays, tables -> objects with sorted keys, tensors ->
            nested arrays, NaN and infinities -> null. Functions, userdata and cycles are errors.
            """) { lua in
            try lua.checkOptions(2, allowed: ["indent"], function: "json.encode")
            let indent = try lua.option(2, "indent", lua.boolean) ?? true
            let value = try encodable(lua, 1, depth: 0)
            var options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
            if indent { options.insert(.prettyPrinted) }
            let data = try JSONSerialization.data(withJSONObject: value, options: options)
            lua.push(String(decoding: data, as: UTF8.self))
            return 1
        }
        lua.register("decode", in: json, doc: """
            mpm.json.decode(text) -> value
            Lua tables from JSON text (null becomes nil); an error names the position of bad JSON.
            """) { lua in
            let text = try lua.string(1)
            let value: JSONValue
            do {
                value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            } catch {
                // JSONSerialization's message names the position of a syntax error; JSONDecoder's does not.
                var reason = (error as? DecodingError).map(describe) ?? "\(error)"
                do { _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) } catch {
                    reason = "\((error as NSError).userInfo["NSDebugDescription"] ?? error)"
                }
                throw LuaError.message("json.decode: not valid JSON (\(reason))")
            }
            push(lua, value)
            return 1
        }
        lua.setRawField(mpm, "json")
    }

    /// The Foundation value for the Lua value at `index`.
    static func encodable(_ lua: LuaState, _ index: Int32, depth: Int) throws -> Any {
        guard depth < maxDepth else { throw LuaError.message("json.encode: the value nests deeper than \(maxDepth) levels (a cycle?)") }
        let index = lua.absolute(index)
        switch lua.type(index) {
        case LUA_TNIL: return NSNull()
        case LUA_TBOOLEAN: return lua_toboolean(lua.state, index) != 0
        case LUA_TNUMBER:
            if lua_isinteger(lua.state, index) != 0 { return Int(lua_tointegerx(lua.state, index, nil)) }
            return finite(lua_tonumberx(lua.state, index, nil))
        case LUA_TSTRING: return try lua.string(index)
        case LUA_TTABLE:
            let n = lua.rawLength(index)
            var keys = 0
            try lua.forEachPair(index) { _, _ in keys += 1 }
            if n > 0 && keys == n {
                return try (1...n).map { i -> Any in
                    lua_rawgeti(lua.state, index, lua_Integer(i))
                    defer { lua.pop() }
                    return try encodable(lua, -1, depth: depth + 1)
                }
            }
            var object: [String: Any] = [:]
            try lua.forEachPair(index) { key, value in
                let name: String
                switch lua.type(key) {
                case LUA_TSTRING: name = try lua.string(key)
                case LUA_TNUMBER: name = lua.plainString(key) ?? "?"
                default: throw LuaError.message("json.encode: a table key is a \(lua.typeName(key)) (only strings and numbers)")
                }
                object[name] = try encodable(lua, value, depth: depth + 1)
            }
            return object
        default:
            if tensorClass.isInstance(lua, index) { return tensorValue(try lua.tensor(index)) }
            throw LuaError.message("json.encode: cannot encode a \(lua.typeName(index))")
        }
    }

    static func finite(_ v: Double) -> Any { v.isFinite ? v : NSNull() }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            return context.debugDescription
        @unknown default: return "\(error)"
        }
    }

    /// A tensor as nested arrays (a number for a 0-D tensor).
    static func tensorValue(_ t: Tensor) -> Any {
        let values: [Any] = t.dtype == .i64 ? t.toInt64Array().map { Int($0) } :
            t.dtype == .bool ? t.toBoolArray() : t.toFloatArray().map { finite(Double($0)) }
        func nest(_ dims: ArraySlice<Int>, _ start: Int) -> Any {
            guard let first = dims.first else { return values[start] }
            let stride = dims.dropFirst().reduce(1, *)
            return (0..<first).map { nest(dims.dropFirst(), start + $0 * stride) }
        }
        return t.shape.isEmpty ? values[0] : nest(t.shape[...], 0)
    }

    static func push(_ lua: LuaState, _ value: JSONValue) {
        switch value {
        case .null: lua.pushNil()
        case .boolean(let b): lua.push(b)
        case .integer(let i): lua.push(i)
        case .number(let x): lua.push(x)
        case .string(let s): lua.push(s)
        case .array(let a):
            lua.newTable(array: Int32(clamping: a.count))
            for (i, v) in a.enumerated() {
                push(lua, v)
                lua_rawseti(lua.state, -2, lua_Integer(i + 1))
            }
        case .object(let d):
            lua.newTable(hash: Int32(clamping: d.count))
            for (k, v) in d where v != .null {
                push(lua, v)
                lua.setRawField(-2, k)
            }
        }
    }
}

/// A JSON value as decoded by JSONDecoder, whose number parsing gives back the double that was
/// written (JSONSerialization's is off by an ulp for most fractions, so a result read back from
/// result.json would differ from the one computed).
enum JSONValue: Decodable, Equatable {
    case null, boolean(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .boolean(b) }
        else if let i = try? container.decode(Int.self) { self = .integer(i) }
        else if let x = try? container.decode(Double.self) { self = .number(x) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else if let d = try? container.decode([String: JSONValue].self) { self = .object(d) }
        else {
            let path = decoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "the value at \(path.isEmpty ? "the top" : path) is no JSON value mpm reads (a number beyond a double's range?)"))
        }
    }
}
