import CLua
import CSupport
import NN
import Tensors

/// Installs `mpm.nn` (Swift modules, functional helpers) and the Swift half of `mpm.optim`
/// (update kernels). The Lua half (the module protocol, Lua-defined modules, optimiser objects,
/// schedules) is lua/mpm/nn and lua/mpm/optim. Ids handed to modules from Lua count from 1:
/// `ModuleClass.call` passes `IndexBase.one` to every generic forward.
public enum NNLibrary {
    public static func register(_ lua: LuaState, in mpm: Int32) {
        ModuleClass.moduleClass.install(lua)

        lua.newTable()
        let nn = lua.top
        ModuleConstructors.register(lua, in: nn)
        registerCore(lua, in: nn)
        registerFunctional(lua, in: nn)
        lua.pushValue(nn)
        lua.setRawField(mpm, "nn")
        lua.pop()

        lua.newTable()
        let optim = lua.top
        OptimLibrary.register(lua, in: optim)
        lua.pushValue(optim)
        lua.setRawField(mpm, "optim")
        lua.pop()
    }

    /// Primitives the Lua module protocol is built on (underscored: not for scripts).
    static func registerCore(_ lua: LuaState, in nn: Int32) {
        lua.register("_is_swift_module", in: nn, doc: "internal: whether v is a Swift module userdata") { lua in
            lua.push(ModuleClass.moduleClass.isInstance(lua, 1))
            return 1
        }
        lua.register("_swift_methods", in: nn, doc: "internal: the method table of Swift modules") { lua in
            guard lua_getfield(lua.state, mpm_registryindex(), "mpmlua.class.nn.Module") == LUA_TTABLE else {
                throw LuaError.message("nn: the module metatable is not installed")
            }
            lua.rawField(-1, "methods")
            return 1
        }
        lua.register("_fits", in: nn, doc: "internal: nil when src can be loaded into dst, else why not") { lua in
            if let why = Module.misfit(try lua.tensor(1), try lua.tensor(2)) { lua.push(why) } else { lua.pushNil() }
            return 1
        }
        lua.register("_load_state", in: nn, doc: """
            internal: _load_state(targets, sd, strict, owner) -> {missing=, unexpected=}: Module.loadState
            for the Lua module protocol (targets: name -> tensor found by its walk)
            """) { lua in
            try lua.checkTable(1)
            var targets: [(name: String, tensor: Tensor)] = []
            try lua.checkTable(1)
            try lua.forEachPair(1) { key, value in
                guard let name = lua.plainString(key) else { return }
                targets.append((name, try lua.tensor(value)))
            }
            var state: [String: Tensor] = [:], invalid: [String: String] = [:]
            try lua.checkTable(2)
            try lua.forEachPair(2) { key, value in
                let name = lua.plainString(key) ?? lua.typeName(key)
                if tensorClass.isInstance(lua, value) { state[name] = try lua.tensor(value) } else { invalid[name] = lua.typeName(value) }
            }
            let report = try Module.loadState(into: targets, from: state, invalid: invalid, strict: lua.boolean(3),
                                              owner: try lua.string(4))
            lua.newTable(hash: 2)
            lua.push(strings: report.missing); lua.setRawField(-2, "missing")
            lua.push(strings: report.unexpected); lua.setRawField(-2, "unexpected")
            return 1
        }
        lua.register("_assign", in: nn, doc: "internal: copies src into dst without recording autograd") { lua in
            let dst = try lua.tensor(1), src = try lua.tensor(2)
            try withNoGrad { _ = try dst.copy_(src) }
            return 0
        }
        lua.register("_clip_grad_norm", in: nn, doc: "internal: clip_grad_norm_ on a list of tensors") { lua in
            let params = try AutogradLibrary.tensors(lua, 1, what: "parameters")
            lua.push(try OptimKernels.clipGradNorm(params, maxNorm: try lua.number(2)))
            return 1
        }
    }

    /// The parameter-free helpers the modules use on packed sets. The fused kernels (softmax,
    /// layer_norm, packed_attention, losses) are added to the same table by FunctionalLibrary.
    static func registerFunctional(_ lua: LuaState, in nn: Int32) {
        lua.newTable()
        let f = lua.top
        lua.register("prepend_rows", in: f, doc: """
            mpm.nn.functional.prepend_rows(x, offsets, rows) -> x2, offsets2
            Puts the same rows [R, D] in front of every set of a packed x [T, D] (registers, tokens).
            """) { lua in
            let (x, o) = try NNOps.prependRows(try lua.tensor(1), offsets: try lua.tensor(2), rows: try lua.tensor(3))
            lua.push(x)
            lua.push(o)
            return 2
        }
        lua.register("drop_leading_rows", in: f, doc: """
            mpm.nn.functional.drop_leading_rows(x, offsets, n) -> x2, offsets2
            Removes the first n rows of every set (undoes prepend_rows).
            """) { lua in
            let (x, o) = try NNOps.dropLeadingRows(try lua.tensor(1), offsets: try lua.tensor(2), count: try lua.integer(3))
            lua.push(x)
            lua.push(o)
            return 2
        }
        lua.register("dropout", in: f, doc: """
            mpm.nn.functional.dropout(x, p [, training=true]) -> tensor
            Zeroes elements with probability p and scales the rest by 1/(1-p); identity when not training.
            """) { lua in
            let x = try lua.tensor(1), p = try lua.number(2)
            guard p >= 0 && p < 1 else { throw LuaError.argument(2, "dropout: p must be in [0, 1), got \(p)") }
            return lua.result(try lua.optionalBoolean(3, default: true) ? try NNOps.dropout(x, p: p) : x)
        }
        lua.pushValue(f)
        lua.setRawField(nn, "functional")
        lua.pop()
    }
}
