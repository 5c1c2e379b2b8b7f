import CLua
import CSupport
import Tensors

/// Grad mode switches, precision scopes and functional gradients. `mpm.no_grad` and
/// `mpm.autocast` themselves are Lua (lua/mpm/autograd.lua) built on the push/pop pairs here, so
/// both their function and `<close>` forms restore the mode even when the body raises.
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
        lua.register("_grad_depth", in: autograd, doc: "internal: how many grad mode scopes are open") { lua in
            lua.push(GradMode.depth)
            return 1
        }
        lua.register("_push_precision", in: autograd, doc: "internal: enters a precision scope (used by mpm.autocast)") { lua in
            Precision.push(try precision(lua, 1, function: "autocast"))
            return 0
        }
        lua.register("_pop_precision", in: autograd, doc: "internal: leaves a precision scope") { _ in
            Precision.pop()
            return 0
        }
        lua.register("precision", in: mpm, doc: """
            mpm.precision() -> "fp32" or "bf16"
            The precision this thread's matrix products are asked for: the innermost mpm.autocast
            scope's, "fp32" outside every scope.
            """) { lua in
            lua.push(Precision.current.rawValue)
            return 1
        }
        lua.register("precision_support", in: mpm, doc: """
            mpm.precision_support(precision) -> runs_in, note
            The precision products asked for `precision` ("fp32" or "bf16") run in on this machine,
            and a one-line note when that is not the one asked for (bf16 needs AVX512_BF16 and
            oneDNN's bf16 kernels; elsewhere it runs in fp32), nil otherwise.
              local runs, note = mpm.precision_support("bf16"); if note then print(note) end
            """) { lua in
            let asked = try precision(lua, 1, function: "precision_support")
            lua.push(asked.effective.rawValue)
            if let note = asked.fallbackNote { lua.push(note) } else { lua.pushNil() }
            return 2
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
            // A Lua autograd.Function's backward calls back on this thread.
            let gradients = try LuaStateContext.calling(lua) {
                try Tensor.autogradGrad(outputs: outputs, inputs: inputs, gradOutputs: gradOutputs, retainGraph: retain)
            }
            lua.push(zip(gradients, inputs).map { gradient, input in gradient ?? input.zerosLike() })
            return 1
        }
        lua.register("_function", in: autograd, doc: """
            internal: mpm.autograd._function(name, inputs, outputs, saved, backward) -> outputs
            Tensor.custom for mpm.autograd.Function (lua/mpm/autograd.lua): backward(saved, g1, ..., gn)
            returns one gradient (or nil) per input.
            """) { lua in
            let name = try lua.string(1)
            let inputs = try tensors(lua, 2, what: "inputs")
            let outputs = try tensors(lua, 3, what: "outputs")
            let saved = try tensors(lua, 4, what: "saved")
            try lua.checkFunction(5)
            let backward = LuaBackwardFunction(lua, index: 5, name: name)
            let results = try Tensor.custom(name: name, inputs: inputs, outputs: outputs, saving: saved) { grads, saved in
                try backward.call(grads: grads, saved: saved)
            }
            lua.push(results)
            return 1
        }
        lua.pushValue(autograd)
        lua.setRawField(mpm, "autograd")
        lua.pop()
    }

    /// A precision name: "fp32" or "bf16"; anything else is "function: precision must be ...".
    static func precision(_ lua: LuaState, _ index: Int32, function: String) throws -> Precision {
        let name = lua.type(index) == LUA_TSTRING ? try lua.string(index) : nil
        guard let name, let precision = Precision(rawValue: name) else {
            let names = Precision.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            throw LuaError.message("\(function): precision must be \(names), got \(name.map { "\"\($0)\"" } ?? lua.typeName(index))")
        }
        return precision
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

/// The Lua backward of an `mpm.autograd.Function` node, a `LuaCallback`: called on the thread
/// of the innermost call from its state into Swift (`t:backward`, `autograd.grad_of` and module
/// calls set it).
final class LuaBackwardFunction {
    let callback: LuaCallback
    var name: String { callback.name }

    init(_ lua: LuaState, index: Int32, name: String) {
        callback = LuaCallback(lua, index: index, name: name)
    }

    /// Calls the Lua backward as backward(saved, g1, ..., gn) (nil for an output no gradient
    /// reached) in protected mode; its results are the gradients, a tensor or nil each.
    func call(grads: [Tensor?], saved: [Tensor]) throws -> [Tensor?] {
        let lua = try callback.thread("the backward of a Lua autograd.Function")
        try lua.ensureStack(Int32(grads.count) + 4)
        let base = lua.top
        defer { lua.setTop(base) }
        callback.reference.push(lua)
        guard lua.type(-1) == LUA_TFUNCTION else {
            throw TensorError("\(name): its Lua backward belongs to another Lua state")
        }
        lua.push(saved)
        for g in grads {
            if let g { lua.push(g) } else { lua.pushNil() }
        }
        try lua.protectedCall(arguments: Int32(grads.count) + 1, results: LUA_MULTRET)
        var result: [Tensor?] = []
        for i in stride(from: base + 1, through: lua.top, by: 1) {
            if lua.type(i) == LUA_TNIL { result.append(nil); continue }
            guard let t = try tensorClass.test(lua, i) else {
                throw TensorError("\(name) backward: result \(i - base) is a \(lua.typeName(i)), expected a tensor or nil")
            }
            result.append(t)
        }
        return result
    }
}
