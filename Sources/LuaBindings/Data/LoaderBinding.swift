import CLua
import CSupport
import JetData
import Tensors

/// A loader as Lua holds it. A Lua function given as `mask` cannot run on the loader's
/// background thread, so the fraction is then drawn on the Lua thread as each batch is taken;
/// the function itself lives in the loader userdata's user value.
final class LuaLoader {
    let loader: Loader
    let luaSampler: Bool
    init(loader: Loader, luaSampler: Bool) {
        self.loader = loader
        self.luaSampler = luaSampler
    }
}

/// One epoch in progress, as the iterator of a generic `for`.
final class LuaLoaderIteration {
    let iterator: LoaderIterator
    let owner: LuaLoader
    init(iterator: LoaderIterator, owner: LuaLoader) {
        self.iterator = iterator
        self.owner = owner
    }
}

/// `ds:loader{...}`, `#loader`, `loader:iter([epoch])`.
enum LoaderBinding {
    static let loaderClass: LuaClass<LuaLoader> = makeLoaderClass()
    static let iterationClass: LuaClass<LuaLoaderIteration> = makeIterationClass()

    static let options = ["batch_size", "shuffle", "seed", "drop_last", "max_jets", "start", "stop",
                          "window_jets", "block_jets", "prefetch", "preprocessing", "mask", "shard"]

    static let doc = """
        ds:loader{batch_size=1000, shuffle=false, seed=, drop_last=false, max_jets=, start=1, stop=#ds,
                  window_jets=50000, block_jets=, prefetch=4, preprocessing=, mask=, shard=} -> loader
        Packed batches read on a background thread. Jets start..stop (1-based, inclusive), only
        the first max_jets of them when given. shuffle: a new seed-determined order each epoch
        (seed defaults to one drawn from mpm.manual_seed's generator). mask: a fraction (0.4), a
        range {low, high} drawn per batch, or a function returning a fraction. #loader is the
        number of batches per epoch; iterate with `for batch in loader:iter() do ... end`.
        shard = {rank = r, size = k} (ranks 0-based, as mpm.distributed.rank()): every batch is
        prepared whole, as without shard, and rank r keeps jets r*B/k+1 .. (r+1)*B/k of it
        (needs drop_last = true and batch_size divisible by k; not with a mask function).
        Fields: loader.seed, loader.epoch, loader.num_jets, loader.batch_size, loader.shard.
        """

    static func make(_ lua: LuaState, _ ds: JetDataset, options index: Int32) throws -> Int32 {
        try lua.checkOptions(index, allowed: options, function: "loader")
        var o = LoaderOptions()
        func int(_ key: String) throws -> Int? { try lua.option(index, key) { try lua.integer($0) } }
        func bool(_ key: String) throws -> Bool? { try lua.option(index, key) { try lua.boolean($0) } }
        if let v = try int("batch_size") { o.batchSize = v }
        if let v = try bool("shuffle") { o.shuffle = v }
        if let v = try int("seed") { o.seed = UInt64(bitPattern: Int64(v)) }
        if let v = try bool("drop_last") { o.dropLast = v }
        o.maxJets = try int("max_jets")
        // Lua ranges are 1-based and inclusive: start=1, stop=#ds is the whole file.
        if let v = try int("start") {
            guard v >= 1 && v <= ds.numJets + 1 else {
                throw LuaError.argument(index, "loader: start must lie between 1 (jets count from 1) and #ds + 1 (\(ds.numJets + 1)), got \(v)")
            }
            o.start = v - 1
        }
        if let v = try int("stop") {
            guard v >= o.start && v <= ds.numJets else {
                throw LuaError.argument(index, "loader: stop \(v) must lie between start - 1 (\(o.start)) and #ds (\(ds.numJets))")
            }
            o.stop = v
        }
        if let v = try int("window_jets") { o.windowJets = v }
        o.blockJets = try int("block_jets")
        if let v = try int("prefetch") { o.prefetch = v }
        o.preprocessing = try lua.option(index, "preprocessing") { try PreprocessingBinding.preprocessingClass.check(lua, $0) }
        var luaSampler = false
        if lua.type(index) == LUA_TTABLE {
            let kind = lua.rawField(index, "mask")
            defer { lua.pop() }
            if kind == LUA_TFUNCTION {
                luaSampler = true
            } else if kind != LUA_TNIL {
                o.masking = try Masking(fraction: try lua.maskFraction(lua.top, what: "loader option 'mask'"))
            }
        }
        if lua.type(index) == LUA_TTABLE, lua.rawField(index, "shard") != LUA_TNIL {
            defer { lua.pop() }
            let shard = lua.top
            guard lua.type(shard) == LUA_TTABLE else { throw LuaError.argument(index, "loader: shard must be a table {rank = r, size = k}") }
            func field(_ key: String) throws -> Int {
                lua.rawField(shard, key)
                defer { lua.pop() }
                guard let v = try? lua.integer(-1) else { throw LuaError.argument(index, "loader: shard.\(key) must be an integer") }
                return v
            }
            o.shard = LoaderOptions.Shard(rank: try field("rank"), count: try field("size"))
            if luaSampler && o.shard!.count > 1 {
                throw LuaError.argument(index, "loader: shard does not work with a mask function (use a fraction or a range)")
            }
        } else if lua.type(index) == LUA_TTABLE {
            lua.pop()
        }
        let wrapped = LuaLoader(loader: try Loader(dataset: ds, options: o), luaSampler: luaSampler)
        loaderClass.push(lua, wrapped)
        if luaSampler {
            lua.rawField(index, "mask")
            lua_setiuservalue(lua.state, -2, 1)
        }
        return 1
    }

    private static func makeLoaderClass() -> LuaClass<LuaLoader> {
        let c = LuaClass<LuaLoader>(name: "data.Loader")
        c.length { $0.loader.count }
        c.description { wrapper in
            let l = wrapper.loader
            return "data.Loader(\(l.numJets) jets, batch_size \(l.options.batchSize), \(l.count) batches per epoch, next epoch \(l.epoch + 1))"
        }
        c.index { lua in
            let l = try c.check(lua, 1).loader
            guard lua.type(2) == LUA_TSTRING else { lua.pushNil(); return 1 }
            switch try lua.string(2) {
            case "epoch": lua.push(l.epoch + 1)
            case "seed": lua.push(Int(Int64(bitPattern: l.seed)))
            case "num_jets": lua.push(l.numJets)
            case "batch_size": lua.push(l.options.batchSize)
            case "shard":
                guard let shard = l.options.shard else { lua.pushNil(); break }
                lua.newTable(hash: 2)
                lua.push(shard.rank); lua.setRawField(-2, "rank")
                lua.push(shard.count); lua.setRawField(-2, "size")
            default: lua.pushNil()
            }
            return 1
        }
        c.method("iter", doc: """
            loader:iter([epoch]) -> iterator     for batch in loader:iter() do ... end
            Runs the next epoch (loader.epoch, then advances it), or the given epoch (1-based)
            without advancing. Leaving the loop early stops the background thread.
            """) { lua, l in
            let iterator: LoaderIterator
            if lua.isNoneOrNil(2) {
                iterator = l.loader.makeIterator()
            } else {
                let epoch = try lua.integer(2)
                guard epoch >= 1 else { throw LuaError.argument(2, "epochs count from 1 (got \(epoch))") }
                iterator = l.loader.iterator(epoch: epoch - 1)
            }
            iterationClass.push(lua, LuaLoaderIteration(iterator: iterator, owner: l))
            // Keep the loader userdata (and its Lua sampler) reachable from the iteration.
            lua.pushValue(1)
            lua_setiuservalue(lua.state, -2, 1)
            // Generic for: iterator, state, control, closing value (closed on break or error).
            lua.pushNil()
            lua.pushNil()
            lua.pushValue(-3)
            return 4
        }
        c.method("set_epoch", doc: "loader:set_epoch(n): the next loader:iter() runs epoch n (1-based)") { lua, l in
            let epoch = try lua.integer(2)
            guard epoch >= 1 else { throw LuaError.argument(2, "epochs count from 1 (got \(epoch))") }
            l.loader.epoch = epoch - 1
            return 0
        }
        c.method("order", doc: "loader:order([epoch]) -> int64 tensor: the jets (1-based) of an epoch in visiting order") { lua, l in
            let epoch = try lua.optionalInteger(2, default: l.loader.epoch + 1)
            guard epoch >= 1 else { throw LuaError.argument(2, "epochs count from 1 (got \(epoch))") }
            lua.push(try Tensor(l.loader.jetOrder(epoch: epoch - 1).map { Int64($0 + 1) }))
            return 1
        }
        return c
    }

    private static func makeIterationClass() -> LuaClass<LuaLoaderIteration> {
        let c = LuaClass<LuaLoaderIteration>(name: "data.LoaderIteration")
        c.metamethod("__call") { lua in
            let it = try c.check(lua, 1)
            guard let batch = try it.iterator.next() else {
                lua.pushNil()
                return 1
            }
            var split: MaskSplit? = nil
            if it.owner.luaSampler {
                split = try sampleOnLuaThread(lua, it, batch)
            }
            BatchBinding.push(lua, LuaBatch(batch, split: split))
            return 1
        }
        c.method("close", doc: "iteration:close(): stops the epoch and its background thread") { lua, it in
            it.iterator.cancel()
            return 0
        }
        return c
    }

    /// Calls the loader's Lua `mask` function for this batch's fraction, then splits.
    private static func sampleOnLuaThread(_ lua: LuaState, _ it: LuaLoaderIteration, _ batch: SetBatch) throws -> MaskSplit {
        try lua.ensureStack(4)
        lua_getiuservalue(lua.state, 1, 1)          // the loader userdata
        lua_getiuservalue(lua.state, -1, 1)         // its mask function
        lua_rotate(lua.state, -2, 1)
        lua.pop()
        try lua.protectedCall(arguments: 0, results: 1)
        defer { lua.pop() }
        guard lua.type(-1) == LUA_TNUMBER else {
            throw LuaError.message("loader: the mask function must return a fraction (number), got \(lua.typeName(-1))")
        }
        let fraction = try lua.number(-1)
        let loader = it.owner.loader
        var random = RandomSource(seed: loader.seed, stream: [UInt64(truncatingIfNeeded: it.iterator.epoch), 0x3A5C, UInt64(it.iterator.batchesTaken)])
        let seed = random.next()
        return try Masking(fraction: .fixed(fraction)).split(batch, seed: seed)
    }
}
