import CLua
import CSupport
import JetData
import MPM
import NN
import Tensors

/// `mpm._mpm.new_task`, `task_info`, `loss`, `sample`: the Swift side of the built-in task
/// classes (lua/mpm/tasks/builtin.lua).
enum TaskBinding {
    /// Options of each built-in task (besides `input_dim`, the decoder width it reads).
    static let taskOptions: [String: [String]] = [
        "id": ["input_dim", "classes", "label_smoothing"],
        "reg": ["input_dim", "features"],
        "kmeans": ["input_dim", "centroids", "label_smoothing"],
        "vqvae": ["input_dim", "tokenizer", "label_smoothing"],
        "flow": ["input_dim", "features", "context_dim", "couplings", "width", "blocks", "bins", "tail_bound", "noise"],
        "cfm": ["input_dim", "features", "context_dim", "time_dim", "hidden", "depth"],
        "ssfm": ["encoder_dim", "features", "types", "dim", "depth", "heads", "time_dim", "context_dim"],
    ]

    static func task(_ lua: LuaState, _ index: Int32) throws -> ReconstructionTask {
        guard let t = try ModuleClass.moduleClass.test(lua, index) as? ReconstructionTask else {
            throw lua.typeError(index, expected: "built-in task core")
        }
        return t
    }

    static func make(_ lua: LuaState, kind: String, _ o: Int32) throws -> ReconstructionTask {
        guard let allowed = taskOptions[kind] else {
            throw LuaError.argument(1, "unknown built-in task '\(kind)' (expected one of: \(taskOptions.keys.sorted().joined(separator: ", ")))")
        }
        let function = "tasks." + kind
        try lua.checkOptions(o, allowed: allowed, function: function)
        func int(_ name: String, _ fallback: Int) throws -> Int { try lua.option(o, name, lua.integer) ?? fallback }
        func number(_ name: String, _ fallback: Double) throws -> Double { try lua.option(o, name, lua.number) ?? fallback }
        func required(_ name: String) throws -> Int {
            guard let v = try lua.option(o, name, lua.integer) else {
                throw LuaError.argument(o, "\(function): option '\(name)' is required")
            }
            return v
        }
        return try MPMBindings.guarded {
            switch kind {
            case "id":
                return try IDTask(inputDim: try required("input_dim"), classes: try int("classes", 8),
                                  labelSmoothing: try number("label_smoothing", 0.1))
            case "reg":
                return try RegressionTask(inputDim: try required("input_dim"), features: try int("features", 7))
            case "kmeans":
                guard let c = try lua.option(o, "centroids", { try lua.tensor($0) }) else {
                    throw LuaError.argument(o, "\(function): option 'centroids' is required (a [K, 7] tensor from mpm.kmeans.fit)")
                }
                return try KMeansTask(inputDim: try required("input_dim"), centroids: c, labelSmoothing: try number("label_smoothing", 0.1))
            case "vqvae":
                guard let tok = try lua.option(o, "tokenizer", { try ModuleClass.checkModule(lua, $0) }) as? VQTokenizer else {
                    throw LuaError.argument(o, "\(function): option 'tokenizer' is required (a trained mpm.tasks.VQTokenizer)")
                }
                return try VQVAETask(inputDim: try required("input_dim"), tokenizer: tok, labelSmoothing: try number("label_smoothing", 0.1))
            case "flow":
                var s = RationalQuadraticSpline.Options()
                s.bins = try int("bins", 8)
                s.tailBound = try number("tail_bound", 4)
                return try FlowTask(inputDim: try required("input_dim"), features: try int("features", 7),
                                    contextDim: try int("context_dim", 128), couplings: try int("couplings", 6),
                                    width: try int("width", 64), blocks: try int("blocks", 2), spline: s,
                                    noise: try number("noise", 0.05))
            case "cfm":
                return try CFMTask(inputDim: try required("input_dim"), features: try int("features", 7),
                                   contextDim: try int("context_dim", 128), timeDim: try int("time_dim", 16),
                                   hidden: try int("hidden", 128), depth: try int("depth", 3))
            default:
                return try SSFMTask(encoderDim: try required("encoder_dim"), features: try int("features", 7),
                                    types: try int("types", 8), dim: try int("dim", 256), depth: try int("depth", 6),
                                    heads: try int("heads", 4), timeDim: try int("time_dim", 16),
                                    contextDim: try int("context_dim", 64))
            }
        }
    }

    static func register(_ lua: LuaState, in core: Int32) {
        lua.register("new_task", in: core, doc: "internal: new_task(kind, options) -> Swift task module") { lua in
            let kind = try lua.string(1)
            ModuleClass.push(lua, try make(lua, kind: kind, 2))
            return 1
        }
        lua.register("task_info", in: core, doc: "internal: {name=, input=, weight=} of a Swift task") { lua in
            let t = try task(lua, 1)
            lua.newTable(hash: 3)
            lua.push(t.taskName); lua.setRawField(-2, "name")
            lua.push(t.input.rawValue); lua.setRawField(-2, "input")
            lua.push(t.defaultWeight); lua.setRawField(-2, "weight")
            return 1
        }
        lua.register("loss", in: core, doc: "internal: loss(core, input, target) -> scalar tensor") { lua in
            let t = try task(lua, 1)
            let input = try lua.tensor(2)
            let target = try DroppedSetBinding.target(lua, 3)
            lua.push(try MPMBindings.guarded { try t.loss(input, target: target) })
            return 1
        }
        lua.register("sample", in: core, doc: """
            internal: sample(core, input, target [, {steps=50, method="midpoint", stochastic=true, generator=}])
            -> {features = [Td,7] or nil, types = [Td] 1-based or nil}
            """) { lua in
            let t = try task(lua, 1)
            let input = try lua.tensor(2)
            let target = try DroppedSetBinding.target(lua, 3)
            try lua.checkOptions(4, allowed: ["steps", "method", "stochastic", "generator"], function: "sample")
            var o = SampleOptions()
            if let s = try lua.option(4, "steps", lua.integer) { o.steps = s }
            if let m = try lua.option(4, "method", lua.string) {
                guard let method = ODESolver.Method(rawValue: m) else {
                    throw LuaError.argument(4, "sample: method must be 'euler' or 'midpoint', got '\(m)'")
                }
                o.method = method
            }
            if let s = try lua.option(4, "stochastic", lua.boolean) { o.stochastic = s }
            o.generator = try lua.option(4, "generator") { try TensorCreation.generatorClass.check(lua, $0) }
            o.shouldStop = { mpm_interrupt_pending() != 0 }
            let r = try MPMBindings.guarded { try t.sample(input, target: target, options: o) }
            lua.newTable(hash: 2)
            if let f = r.features { lua.push(f); lua.setRawField(-2, "features") }
            if let ty = r.types { lua.push(try IndexShift.shifted(ty, by: 1)); lua.setRawField(-2, "types") }
            return 1
        }
    }
}
