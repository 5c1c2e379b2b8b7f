import CLua
import CSupport
import NN
import Tensors

/// The update kernels behind the Lua optimisers (lua/mpm/optim): one Swift call per parameter
/// tensor does the whole update in one pass. Underscored: the optimiser objects are the API.
enum OptimLibrary {
    static func register(_ lua: LuaState, in optim: Int32) {
        lua.register("_adam", in: optim, doc: """
            internal: mpm.optim._adam(p, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, decoupled)
            """) { lua in
            try OptimKernels.adam(param: try lua.tensor(1), grad: try lua.tensor(2), expAvg: try lua.tensor(3),
                                  expAvgSq: try lua.tensor(4), step: try lua.integer(5), lr: try lua.number(6),
                                  beta1: try lua.number(7), beta2: try lua.number(8), eps: try lua.number(9),
                                  weightDecay: try lua.number(10), decoupled: try lua.boolean(11))
            return 0
        }
        lua.register("_sgd", in: optim, doc: """
            internal: mpm.optim._sgd(p, grad, buffer_or_nil, lr, momentum, dampening, nesterov, weight_decay) -> buffer or nil
            """) { lua in
            let buffer = try OptimKernels.sgd(param: try lua.tensor(1), grad: try lua.tensor(2), momentumBuffer: try lua.optionalTensor(3),
                                              lr: try lua.number(4), momentum: try lua.number(5), dampening: try lua.number(6),
                                              nesterov: try lua.boolean(7), weightDecay: try lua.number(8))
            if let buffer { lua.push(buffer) } else { lua.pushNil() }
            return 1
        }
        lua.register("_ema_update", in: optim, doc: "internal: mpm.optim._ema_update(averages, params, decay)") { lua in
            try OptimKernels.emaUpdate(averages: try AutogradLibrary.tensors(lua, 1, what: "averages"),
                                       params: try AutogradLibrary.tensors(lua, 2, what: "parameters"),
                                       decay: try lua.number(3))
            return 0
        }
        lua.register("_swap", in: optim, doc: "internal: mpm.optim._swap(a, b) exchanges the contents of each pair") { lua in
            try OptimKernels.swapContents(try AutogradLibrary.tensors(lua, 1, what: "a"), try AutogradLibrary.tensors(lua, 2, what: "b"))
            return 0
        }
    }
}
