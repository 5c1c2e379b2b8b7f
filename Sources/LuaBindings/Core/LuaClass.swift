import CLua
import CSupport

/// A Swift class exposed to Lua as a userdata type: one metatable, its methods and
/// metamethods, each added in one line.
///
/// The userdata holds one retained pointer. It is created empty (nil pointer), given its
/// metatable, and only then filled, so nothing can fail with a half-made object. `__gc` and
/// `__close` release the pointer and clear it: running them twice is harmless, and a method
/// on a released object raises "<name> has been released". The same Swift object always maps
/// to the same userdata (weak-valued cache), so identity, `==` and table keys behave.
///
/// ```swift
/// let tensorClass = LuaClass<Tensor>(name: "tensor")
/// tensorClass.method("numel", doc: "t:numel()") { lua, t in lua.push(t.numel); return 1 }
/// ```
public final class LuaClass<Object: AnyObject> {
    public typealias Method = (LuaState, Object) throws -> Int32

    /// The type's name in messages ("tensor expected, got number") and as `__name`.
    public let name: String
    private var methods: [(String, String?, Method)] = []
    private var metamethods: [(String, LuaFunction)] = []
    private var indexFallback: LuaFunction?
    /// Called with each object's Swift pointer released (e.g. to update memory accounting).
    public var onRelease: ((Object) -> Void)?

    public init(name: String) { self.name = name }

    private var metatableKey: String { "mpmlua.class." + name }

    /// Adds a method, called as `obj:name(...)`; argument 1 is the object itself.
    public func method(_ name: String, doc: String? = nil, _ body: @escaping Method) {
        methods.append((name, doc, body))
    }

    /// Adds a metamethod such as `__add` or `__len`; it reads its operands itself.
    public func metamethod(_ name: String, _ body: @escaping LuaFunction) {
        metamethods.append((name, body))
    }

    /// `#obj`, from a function of the object.
    public func length(_ count: @escaping (Object) -> Int) {
        metamethod("__len") { [unowned self] lua in
            lua.push(count(try self.check(lua, 1)))
            return 1
        }
    }

    /// `tostring(obj)`, from a function of the object.
    public func description(_ text: @escaping (Object) throws -> String) {
        metamethod("__tostring") { [unowned self] lua in
            lua.push(try text(try self.check(lua, 1)))
            return 1
        }
    }

    /// Read-only fields (`obj.name`) for names that are not methods: `read` pushes the value of
    /// field `name`, nil for an unknown name (as for any Lua value); other keys read as nil.
    /// `names` lists the fields for help() and tab completion (the metatable's `fields`).
    public func fields(_ names: [String] = [], _ read: @escaping (LuaState, Object, String) throws -> Void) {
        fieldNames = names
        index { [unowned self] lua in
            let object = try self.check(lua, 1)
            guard lua.type(2) == LUA_TSTRING else { lua.pushNil(); return 1 }
            try read(lua, object, try lua.string(2))
            return 1
        }
    }

    /// Handles `obj[key]` for keys that are not method names (e.g. tensor indexing).
    public func index(_ body: @escaping LuaFunction) { indexFallback = body }
    private var fieldNames: [String] = []

    // MARK: Installing

    /// Creates the metatable in the registry; call once per state after adding methods.
    public func install(_ lua: LuaState) {
        luaL_newmetatable(lua.state, metatableKey)
        let metatable = lua.top
        lua.push(name)
        lua.setRawField(metatable, "__name")

        // release, __gc and __close accept an already released object: running twice is harmless.
        let release: LuaFunction = { [unowned self] lua in
            self.release(lua, 1)
            return 0
        }
        lua.newTable(hash: Int32(methods.count))
        let methodTable = lua.top
        for (methodName, doc, body) in methods {
            lua.register(methodName, in: methodTable, doc: doc) { [unowned self] lua in
                try body(lua, try self.check(lua, 1))
            }
        }
        lua.register("release", in: methodTable, doc: "obj:release(): frees the object now (later use raises an error)", release)
        lua.pushValue(methodTable)
        lua.setRawField(metatable, "methods")  // for help() and tab completion
        if !fieldNames.isEmpty {
            lua.newTable(array: Int32(fieldNames.count))
            for (i, field) in fieldNames.enumerated() {
                lua.push(field)
                lua_rawseti(lua.state, -2, lua_Integer(i + 1))
            }
            lua.setRawField(metatable, "fields")
        }

        if let fallback = indexFallback {
            // __index: methods by name first, then the fallback (indexing by numbers, slices).
            pushIndexWithMethods(lua, fallback: fallback)
        } else {
            lua.pushValue(methodTable)
        }
        lua.setRawField(metatable, "__index")
        lua.pop()  // method table

        for (metaName, body) in metamethods {
            lua.register(metaName, in: metatable, doc: nil, body)
        }
        lua.register("__gc", in: metatable, release)
        lua.register("__close", in: metatable, release)
        lua.pop()  // metatable
        ensureCache(lua)
    }

    /// `__index` as a Swift function: names are looked up in the class's method table (found
    /// through the registered metatable), anything else goes to `fallback`.
    private func pushIndexWithMethods(_ lua: LuaState, fallback: @escaping LuaFunction) {
        let key = metatableKey
        lua.push(function: { lua in
            if lua.type(2) == LUA_TSTRING {
                guard lua_getfield(lua.state, mpm_registryindex(), key) == LUA_TTABLE else {
                    lua.pop(); return 0
                }
                lua.push("methods")
                lua_rawget(lua.state, -2)
                lua.pushValue(2)
                if lua_rawget(lua.state, -2) != LUA_TNIL { return 1 }
                lua.pop(3)
            }
            return try fallback(lua)
        })
    }

    // MARK: Objects

    private typealias Slot = UnsafeMutablePointer<UnsafeMutableRawPointer?>

    /// The registry name of the weak-valued cache mapping an object's address to its userdata.
    private static var cacheName: String { "mpmlua.objects" }

    private func ensureCache(_ lua: LuaState) {
        lua.pushWeakRegistryTable(Self.cacheName, mode: "v")
        lua.pop()
    }

    /// Pushes the userdata for `object`, reusing the existing one if it is still alive.
    public func push(_ lua: LuaState, _ object: Object) {
        let address = Unmanaged.passUnretained(object).toOpaque()
        lua_getfield(lua.state, mpm_registryindex(), Self.cacheName)
        let cache = lua.top
        if lua_rawgetp(lua.state, cache, address) == LUA_TUSERDATA {
            lua_rotate(lua.state, -2, 1)
            lua.pop()
            return
        }
        lua.pop()
        let slot = mpm_newuserdata(lua.state, MemoryLayout<UnsafeMutableRawPointer?>.size)!
            .bindMemory(to: UnsafeMutableRawPointer?.self, capacity: 1)
        slot.pointee = nil  // safe empty state before anything can fail
        luaL_setmetatable(lua.state, metatableKey)
        slot.pointee = Unmanaged.passRetained(object).toOpaque()
        lua.pushValue(-1)
        lua_rawsetp(lua.state, cache, address)
        lua_rotate(lua.state, -2, 1)
        lua.pop()
    }

    private func slot(_ lua: LuaState, _ index: Int32) -> Slot? {
        luaL_testudata(lua.state, index, metatableKey)?.bindMemory(to: UnsafeMutableRawPointer?.self, capacity: 1)
    }

    /// True when the value at `index` is a userdata of this class (released or not).
    public func isInstance(_ lua: LuaState, _ index: Int32) -> Bool { slot(lua, index) != nil }

    /// The object at `index`, or nil when it is not of this class.
    public func test(_ lua: LuaState, _ index: Int32) throws -> Object? {
        guard let slot = slot(lua, index) else { return nil }
        guard let pointer = slot.pointee else { throw LuaError.message("\(name) has been released") }
        return Unmanaged<Object>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The object at `index`, or an argument error naming the expected type.
    public func check(_ lua: LuaState, _ index: Int32) throws -> Object {
        guard let object = try test(lua, index) else { throw lua.typeError(index, expected: name) }
        return object
    }

    /// Releases the Swift object held at `index` (the userdata stays, empty).
    public func release(_ lua: LuaState, _ index: Int32) {
        guard let slot = slot(lua, index), let pointer = slot.pointee else { return }
        slot.pointee = nil
        // Forget the cache entry, so pushing the object again (if others hold it) makes a new
        // userdata. Clearing an existing key never allocates.
        lua_getfield(lua.state, mpm_registryindex(), Self.cacheName)
        lua_pushnil(lua.state)
        lua_rawsetp(lua.state, -2, pointer)
        lua.pop()
        let object = Unmanaged<Object>.fromOpaque(pointer)
        onRelease?(object.takeUnretainedValue())
        object.release()  // deinit may run here: it never touches the lua_State
    }
}
