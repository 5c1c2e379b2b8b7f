import CLua
import CSupport
import JetData
import MPM
import NN
import Tensors

/// `mpm._mpm.new_model`, `forward`, `config`, `backbone`, `new_backbone`: the Swift side of
/// `mpm.MPM` (lua/mpm/tasks/model.lua).
enum ModelBinding {
    /// Option names of mpm.MPM{...}: a preset and the config fields (MPMConfig's names).
    static var optionNames: [String] {
        ["preset"] + MPMConfig.integerFields.map(\.name) + MPMConfig.numberFields.map(\.name)
    }

    /// A configuration from an options table: a preset (default "small") with fields overridden.
    static func config(_ lua: LuaState, _ index: Int32, function: String) throws -> MPMConfig {
        try lua.checkOptions(index, allowed: optionNames, function: function)
        let presetName = try lua.option(index, "preset") { try lua.string($0) } ?? "small"
        guard var c = MPMConfig.preset(presetName) else {
            throw LuaError.argument(index, "\(function): unknown preset '\(presetName)' (expected one of: \(MPMConfig.presetNames.joined(separator: ", ")))")
        }
        for (name, field) in MPMConfig.integerFields { if let v = try lua.option(index, name, lua.integer) { c[keyPath: field] = v } }
        for (name, field) in MPMConfig.numberFields { if let v = try lua.option(index, name, lua.number) { c[keyPath: field] = v } }
        try c.validate()
        return c
    }

    /// Pushes a configuration as a plain table (the keys `config` accepts, without preset).
    static func push(_ lua: LuaState, _ c: MPMConfig) {
        lua.newTable(hash: Int32(MPMConfig.integerFields.count + MPMConfig.numberFields.count))
        for (name, field) in MPMConfig.integerFields { lua.push(c[keyPath: field]); lua.setRawField(-2, name) }
        for (name, field) in MPMConfig.numberFields { lua.push(c[keyPath: field]); lua.setRawField(-2, name) }
    }

    static func model(_ lua: LuaState, _ index: Int32) throws -> MPMModel {
        guard let m = try ModuleClass.moduleClass.test(lua, index) as? MPMModel else {
            throw lua.typeError(index, expected: "MPM model core")
        }
        return m
    }

    /// The masked jets of a `data.Batch` (with a mask split) or of a table {features, types
    /// (1-based), offsets, mask = {kept, kept_offsets, dropped, dropped_offsets, ranks}}
    /// (rows and ranks 1-based, as batch.mask shows them).
    static func maskedJets(_ lua: LuaState, _ index: Int32) throws -> MaskedJets {
        if let b = try BatchBinding.test(lua, index) {
            guard let split = b.split else {
                throw LuaError.argument(index, "the batch has no mask: give the loader a mask option (mask = 0.4) or use mpm.data.mask")
            }
            return try MaskedJets(features: b.batch.features, types: b.batch.types, offsets: b.batch.offsets, kept: split.kept,
                                  keptOffsets: split.keptOffsets, dropped: split.dropped, droppedOffsets: split.droppedOffsets,
                                  droppedRanks: split.droppedRanks, noise: ParticleNoise(split, jets: b.batch.jetIndices))
        }
        guard lua.type(index) == LUA_TTABLE else { throw lua.typeError(index, expected: "batch") }
        func tensor(_ table: Int32, _ name: String) throws -> Tensor {
            guard let t = try lua.option(table, name, { try lua.tensor($0) }) else {
                throw LuaError.argument(index, "batch: field '\(name)' (a tensor) is required")
            }
            return t
        }
        guard lua.rawField(index, "mask") == LUA_TTABLE else {
            lua.pop()
            throw LuaError.argument(index, "batch: field 'mask' (a table with kept, kept_offsets, dropped, dropped_offsets, ranks) is required")
        }
        let mask = lua.top
        defer { lua.pop() }
        func codes(_ table: Int32, _ name: String) throws -> Tensor { try IndexBase.one.rebase(try tensor(table, name), to: .zero) }
        return try MaskedJets(features: try tensor(index, "features"), types: try codes(index, "types"),
                              offsets: try tensor(index, "offsets"),
                              kept: try codes(mask, "kept"), keptOffsets: try tensor(mask, "kept_offsets"),
                              dropped: try codes(mask, "dropped"), droppedOffsets: try tensor(mask, "dropped_offsets"),
                              droppedRanks: try codes(mask, "ranks"))
    }

    static func register(_ lua: LuaState, in core: Int32) {
        lua.register("new_model", in: core, doc: "internal: the Swift MPMModel for mpm.MPM{...}") { lua in
            let c = try config(lua, 1, function: "MPM")
            ModuleClass.push(lua, try MPMModel(config: c))
            return 1
        }
        lua.register("new_backbone", in: core, doc: "internal: an MPMBackbone from a config table") { lua in
            let c = try config(lua, 1, function: "backbone")
            ModuleClass.push(lua, try MPMBackbone(config: c))
            return 1
        }
        lua.register("config", in: core, doc: "internal: the config table of a model or backbone core") { lua in
            let m = try ModuleClass.checkModule(lua, 1)
            switch m {
            case let model as MPMModel: push(lua, model.config)
            case let backbone as MPMBackbone: push(lua, backbone.config)
            default: throw lua.typeError(1, expected: "MPM model or backbone")
            }
            return 1
        }
        lua.register("backbone", in: core, doc: "internal: the backbone module of a model core (shared parameters)") { lua in
            ModuleClass.push(lua, try model(lua, 1).backbone)
            return 1
        }
        lua.register("forward", in: core, doc: """
            internal: forward(core, batch [, decode=true]) -> {decoded=, encoded=, encoded_offsets=, target=}
            """) { lua in
            let m = try model(lua, 1)
            let jets = try maskedJets(lua, 2)
            let decode = try lua.optionalBoolean(3, default: true)
            let out = try m(jets, decode: decode)
            lua.newTable(hash: 4)
            if let d = out.decoded { lua.push(d); lua.setRawField(-2, "decoded") }
            lua.push(out.encoded); lua.setRawField(-2, "encoded")
            lua.push(out.encodedOffsets); lua.setRawField(-2, "encoded_offsets")
            DroppedSetBinding.push(lua, out.target); lua.setRawField(-2, "target")
            return 1
        }
    }
}
