import CLua
import CSupport
import Tensors

/// Grad mode switches and functional gradients. `mpm.no_grad` itself is Lua (lua/mpm/init.lua)
/// built on the push/pop pair here, so both its function and `<close>` forms restore the mode
/// even when the body raises.
enum AutogradLibrary {
    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let autograd = lua.top
        lua.register("_push_grad_mode", in: autograd, doc: "internal: enters a grad mode scope (used by mpm.no_grad)") { lua in
            GradMode.push(enabled: try lua.boolean(1))
            return 0
        }
        lua.register("_pop_grad_mode", in: autograd, doc: "internal: leaves a grad mode scope") { _ in
            GradMode.pop()
            return 0
        }
        lua.register("is_grad_enabled", in: autograd, doc: "mpm.autograd.is_grad_enabled() -> whether operations are recorded") { lua in
            lua.push(GradMode.isEnabled)
            return 1
        }
        lua.register("grad_of", in: autograd, doc: """
            mpm.autograd.grad_of(outputs, inputs [, {grad_outputs=, retain_graph=false}]) -> gradients
            Gradients of the outputs (a tensor or a list) with respect to each input tensor, as a list
            (zeros for an input the outputs do not depend on). Leaves' .grad are not touched.
            """) { lua in
            let outputs = try tensors(lua, 1, what: "outputs")
            let inputs = try tensors(lua, 2, what: "inputs")
            try lua.checkOptions(3, allowed: ["grad_outputs", "retain_graph"], function: "grad_of")
            let gradOutputs = try lua.option(3, "grad_outputs") { try tensors(lua, $0, what: "grad_outputs") }
            let retain = try lua.option(3, "retain_graph", lua.boolean) ?? false
            let gradients = try Tensor.autogradGrad(outputs: outputs, inputs: inputs, gradOutputs: gradOutputs,
                                                    retainGraph: retain)
            lua.push(zip(gradients, inputs).map { gradient, input in gradient ?? input.zerosLike() })
            return 1
        }
        lua.pushValue(autograd)
        lua.setRawField(mpm, "autograd")
        lua.pop()
    }

    /// A tensor or a sequence of tensors.
    static func tensors(_ lua: LuaState, _ index: Int32, what: String) throws -> [Tensor] {
        if let single = try tensorClass.test(lua, index) { return [single] }
        guard lua.type(index) == LUA_TTABLE else { throw lua.typeError(index, expected: "tensor or list of tensors") }
        var result: [Tensor] = []
        for position in stride(from: 1, through: lua.rawLength(index), by: 1) {
            lua.rawIndex(index, position)
            defer { lua.pop() }
            guard let tensor = try tensorClass.test(lua, -1) else {
                throw LuaError.argument(index, "\(what)[\(position)] is a \(lua.typeName(-1)), expected a tensor")
            }
            result.append(tensor)
        }
        return result
    }
}
