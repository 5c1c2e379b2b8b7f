import CLua
import CSupport
import Tensors

/// Installs tensors into a Lua state: the `tensor` userdata type with every method, the
/// matching `mpm.*` functions, creation and random functions, and memory accounting.
enum TensorLibrary {
    /// Every tensor operation, by area; each file adds its list here.
    static let functions: [TensorFunction] = TensorBasics.functions + TensorViews.functions + TensorMath.functions
        + TensorIndexing.functions + FunctionalLibrary.tensorFunctions

    static let configuredClass: LuaClass<Tensor> = {
        for function in functions { tensorClass.method(function.name, doc: function.doc, function.body) }
        TensorMetamethods.add(to: tensorClass)
        return tensorClass
    }()

    static func register(_ lua: LuaState, in mpm: Int32) {
        mpm_set_live_bytes_source { Allocator.liveBytes }
        configuredClass.install(lua)
        for function in functions where function.isFunction {
            lua.register(function.name, in: mpm, doc: function.doc) { lua in
                try function.body(lua, try lua.tensor(1))
            }
        }
        TensorCreation.register(lua, in: mpm)
        TensorIndexing.registerJoining(lua, in: mpm)
        LinalgLibrary.register(lua, in: mpm)
        lua.register("is_tensor", in: mpm, doc: "mpm.is_tensor(x) -> true if x is a tensor") { lua in
            lua.push(tensorClass.isInstance(lua, 1))
            return 1
        }
    }
}
