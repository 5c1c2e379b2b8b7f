import CLua
import CSupport
import JetData
import MPM
import NN
import Tensors

/// The Swift side of `mpm.tasks.VQTokenizer` (lua/mpm/tasks/tokenizer.lua): construction from
/// a config table, its config back as a table, and the batch-level operations.
enum TokenizerBinding {
    static let intOptions: [(String, WritableKeyPath<VQTokenizer.Config, Int>)] = [
        ("features", \.features), ("dim", \.dim), ("depth", \.depth), ("heads", \.heads),
        ("codebook_size", \.codebookSize), ("code_dim", \.codeDim),
    ]
    static let numberOptions: [(String, WritableKeyPath<VQTokenizer.Config, Double>)] = [
        ("beta", \.beta), ("usage_decay", \.usageDecay),
    ]

    static func tokenizer(_ lua: LuaState, _ index: Int32) throws -> VQTokenizer {
        guard let t = try ModuleClass.moduleClass.test(lua, index) as? VQTokenizer else {
            throw lua.typeError(index, expected: "VQ tokenizer core")
        }
        return t
    }

    /// Features [T,7] and offsets of whole jets from a data.Batch or a {features=, offsets=} table.
    static func jets(_ lua: LuaState, _ index: Int32) throws -> (Tensor, Tensor) {
        if let b = try BatchBinding.test(lua, index) { return (b.batch.features, b.batch.offsets) }
        guard lua.type(index) == LUA_TTABLE,
              let f = try lua.option(index, "features", { try lua.tensor($0) }),
              let o = try lua.option(index, "offsets", { try lua.tensor($0) }) else {
            throw lua.typeError(index, expected: "batch (or a table with features and offsets)")
        }
        return (f, o)
    }

    static func register(_ lua: LuaState, in core: Int32) {
        lua.register("new_tokenizer", in: core, doc: "internal: a VQTokenizer from a config table") { lua in
            try lua.checkOptions(1, allowed: intOptions.map { $0.0 } + numberOptions.map { $0.0 }, function: "VQTokenizer")
            var c = VQTokenizer.Config()
            for (name, path) in intOptions { if let v = try lua.option(1, name, lua.integer) { c[keyPath: path] = v } }
            for (name, path) in numberOptions { if let v = try lua.option(1, name, lua.number) { c[keyPath: path] = v } }
            ModuleClass.push(lua, try VQTokenizer(config: c))
            return 1
        }
        lua.register("tokenizer_config", in: core, doc: "internal: the config table of a tokenizer core") { lua in
            let c = try tokenizer(lua, 1).config
            lua.newTable()
            for (name, path) in intOptions { lua.push(c[keyPath: path]); lua.setRawField(-2, name) }
            for (name, path) in numberOptions { lua.push(c[keyPath: path]); lua.setRawField(-2, name) }
            return 1
        }
        lua.register("tokenizer_losses", in: core, doc: "internal: {total=, reconstruction=, codebook=, commitment=, codes=} on a batch") { lua in
            let t = try tokenizer(lua, 1)
            let (f, o) = try jets(lua, 2)
            let l = try t.losses(f, offsets: o)
            lua.newTable(hash: 5)
            lua.push(l.total); lua.setRawField(-2, "total")
            lua.push(l.reconstruction); lua.setRawField(-2, "reconstruction")
            lua.push(l.codebook); lua.setRawField(-2, "codebook")
            lua.push(l.commitment); lua.setRawField(-2, "commitment")
            lua.push(try IndexBase.zero.rebase(l.codes, to: .one)); lua.setRawField(-2, "codes")
            return 1
        }
        lua.register("tokenizer_codes", in: core, doc: "internal: 1-based codes [T] of every particle of a batch") { lua in
            let t = try tokenizer(lua, 1)
            let (f, o) = try jets(lua, 2)
            lua.push(try IndexBase.zero.rebase(try t.codes(f, offsets: o), to: .one))
            return 1
        }
        lua.register("tokenizer_init", in: core, doc: "internal: k-means initialisation of the codebook from a batch") { lua in
            let t = try tokenizer(lua, 1)
            let (f, o) = try jets(lua, 2)
            let seed = UInt64(bitPattern: Int64(try lua.optionalInteger(3, default: 0)))
            lua.push(try t.initialiseCodebook(f, offsets: o, seed: seed))
            return 1
        }
        lua.register("tokenizer_reset", in: core, doc: "internal: resets dead codes onto latents of a batch; returns how many") { lua in
            let t = try tokenizer(lua, 1)
            let (f, o) = try jets(lua, 2)
            let threshold = try lua.optionalNumber(3, default: 0.03)
            lua.push(try t.resetDeadCodes(f, offsets: o, threshold: threshold))
            return 1
        }
    }
}
