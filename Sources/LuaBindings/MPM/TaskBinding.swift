import CLua
import CSupport
import JetData
import MPM
import NN
import Tensors

/// `mpm._mpm.new_task`, `task_catalogue`, `presets`, `loss`, `sample`: the Swift
/// side of the built-in task classes (lua/mpm/tasks/builtin.lua). What each task is and takes
/// comes from TaskCatalogue (Sources/MPM/Tasks/TaskCatalogue.swift).
enum TaskBinding {
    static func task(_ lua: LuaState, _ index: Int32) throws -> ReconstructionTask {
        guard let t = try ModuleClass.moduleClass.test(lua, index) as? ReconstructionTask else {
            throw lua.typeError(index, expected: "built-in task core")
        }
        return t
    }

    /// The task `name` from the Lua options table at `o`, read as the catalogue describes it.
    static func make(_ lua: LuaState, name: String, _ o: Int32) throws -> ReconstructionTask {
        guard let kind = TaskCatalogue.kind(name) else {
            throw LuaError.argument(1, "unknown built-in task '\(name)' (expected one of: \(TaskCatalogue.names))")
        }
        let function = "tasks." + name
        try lua.checkOptions(o, allowed: [kind.widthOption] + kind.options.map(\.name), function: function)
        guard let width = try lua.option(o, kind.widthOption, lua.integer) else {
            throw LuaError.argument(o, "\(function): option '\(kind.widthOption)' is required")
        }
        var values: [String: TaskValue] = [:]
        for option in kind.options {
            let value: TaskValue? = switch option.kind {
            case .integer: try lua.option(o, option.name, lua.integer).map { .integer($0) }
            case .number: try lua.option(o, option.name, lua.number).map { .number($0) }
            case .tensor: try lua.option(o, option.name, { try lua.tensor($0) }).map { .tensor($0) }
            case .tokenizer: try lua.option(o, option.name, { try ModuleClass.checkModule(lua, $0) }).map { module in
                guard let t = module as? VQTokenizer else {
                    throw LuaError.argument(o, "\(function): option '\(option.name)' must be \(option.doc)")
                }
                return .tokenizer(t)
            }
            }
            if let value { values[option.name] = value }
        }
        return try kind.make(width: width, values: values)
    }

    static func push(_ lua: LuaState, _ value: TaskValue) {
        switch value {
        case .integer(let v): lua.push(v)
        case .number(let v): lua.push(v)
        case .tensor(let t): lua.push(t)
        case .tokenizer(let t): ModuleClass.push(lua, t)
        }
    }

    /// One catalogue entry as a table: {name=, class_name=, summary=, input=, weight=,
    /// can_sample=, pairs_with_id=, width_option=, mask_range=, options = {{name=, kind=,
    /// doc=, default=}, ...}}.
    static func push(_ lua: LuaState, _ kind: TaskKind) {
        lua.newTable(hash: 10)
        lua.push(kind.name); lua.setRawField(-2, "name")
        lua.push(kind.className); lua.setRawField(-2, "class_name")
        lua.push(kind.summary); lua.setRawField(-2, "summary")
        lua.push(kind.input.rawValue); lua.setRawField(-2, "input")
        lua.push(kind.defaultWeight); lua.setRawField(-2, "weight")
        lua.push(kind.canSample); lua.setRawField(-2, "can_sample")
        lua.push(kind.pairsWithID); lua.setRawField(-2, "pairs_with_id")
        lua.push(kind.widthOption); lua.setRawField(-2, "width_option")
        if let (low, high) = kind.maskRange {
            lua.newTable(array: 2)
            lua.push(low); lua_rawseti(lua.state, -2, lua_Integer(1))
            lua.push(high); lua_rawseti(lua.state, -2, lua_Integer(2))
            lua.setRawField(-2, "mask_range")
        }
        lua.newTable(array: Int32(kind.options.count))
        for (i, option) in kind.options.enumerated() {
            lua.newTable(hash: 4)
            lua.push(option.name); lua.setRawField(-2, "name")
            lua.push(option.kind.rawValue); lua.setRawField(-2, "kind")
            lua.push(option.doc); lua.setRawField(-2, "doc")
            if let d = option.defaultValue { push(lua, d); lua.setRawField(-2, "default") }
            lua_rawseti(lua.state, -2, lua_Integer(i + 1))
        }
        lua.setRawField(-2, "options")
    }

    /// A preset as a table: {name=, summary=, model = {config}, tokenizer = {config},
    /// kmeans_k=, ssfm = {options}}.
    static func push(_ lua: LuaState, _ preset: MPMPreset) {
        lua.newTable(hash: 6)
        lua.push(preset.name); lua.setRawField(-2, "name")
        lua.push(preset.summary); lua.setRawField(-2, "summary")
        ModelBinding.push(lua, preset.model); lua.setRawField(-2, "model")
        lua.newTable()
        for (name, path) in TokenizerBinding.intOptions { lua.push(preset.tokenizer[keyPath: path]); lua.setRawField(-2, name) }
        for (name, path) in TokenizerBinding.numberOptions { lua.push(preset.tokenizer[keyPath: path]); lua.setRawField(-2, name) }
        lua.setRawField(-2, "tokenizer")
        lua.push(preset.kmeansK); lua.setRawField(-2, "kmeans_k")
        lua.newTable()
        for (name, value) in TaskCatalogue.kind("ssfm")!.values(of: preset.ssfm) { push(lua, value); lua.setRawField(-2, name) }
        lua.setRawField(-2, "ssfm")
    }

    /// A sequence table of `items`, each pushed by `pushOne`.
    static func pushList<T>(_ lua: LuaState, _ items: [T], _ pushOne: (LuaState, T) -> Void) {
        lua.newTable(array: Int32(items.count))
        for (i, item) in items.enumerated() {
            pushOne(lua, item)
            lua_rawseti(lua.state, -2, lua_Integer(i + 1))
        }
    }

    static func register(_ lua: LuaState, in core: Int32) {
        lua.register("new_task", in: core, doc: "internal: new_task(name, options) -> Swift task module") { lua in
            ModuleClass.push(lua, try make(lua, name: try lua.string(1), 2))
            return 1
        }
        lua.register("task_catalogue", in: core, doc: "internal: the built-in tasks, as TaskCatalogue describes them") { lua in
            pushList(lua, TaskCatalogue.kinds, push)
            return 1
        }
        lua.register("presets", in: core, doc: "internal: the presets of MPMPreset.all, in order") { lua in
            pushList(lua, MPMPreset.all, push)
            return 1
        }
        lua.register("loss", in: core, doc: "internal: loss(core, input, target) -> scalar tensor") { lua in
            let t = try task(lua, 1)
            let input = try lua.tensor(2)
            let target = try DroppedSetBinding.target(lua, 3)
            lua.push(try t.loss(input, target: target))
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
            let r = try t.sample(input, target: target, options: o)
            lua.newTable(hash: 2)
            if let f = r.features { lua.push(f); lua.setRawField(-2, "features") }
            if let ty = r.types { lua.push(try IndexBase.zero.rebase(ty, to: .one)); lua.setRawField(-2, "types") }
            return 1
        }
    }
}
