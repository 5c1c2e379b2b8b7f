import CLua
import CSupport
import JetData
import Tensors

/// Installs `mpm.data`: jet files in the reference HDF5 schema, packed batches, loaders,
/// preprocessing, masking and writers. Files keep their 0-based codes; everything handed to Lua
/// is 1-based (types 1..8, labels, track origins, vertex ids, jet numbers, masked rows and ranks),
/// so `mpm.data.PARTICLE_TYPES[t]` and `mpm.data.JETCLASS_CLASSES[label]` work directly.
/// Offsets stay row boundaries starting at 0: jet b owns rows offsets[b]+1 .. offsets[b+1].
enum DataLibrary {
    static func register(_ lua: LuaState, in mpm: Int32) {
        DatasetBinding.datasetClass.install(lua)
        BatchBinding.batchClass.install(lua)
        LoaderBinding.loaderClass.install(lua)
        LoaderBinding.iterationClass.install(lua)
        PreprocessingBinding.preprocessingClass.install(lua)

        lua.newTable()
        let data = lua.top
        lua.register("open", in: data, doc: """
            mpm.data.open(path [, {kind="jetclass" | "btag"}]) -> dataset
            Opens a jet file in the reference schema (kind detected when omitted) and checks every
            dataset's shape and dtype.
            """, DatasetBinding.open)
        lua.register("batch", in: data, doc: """
            mpm.data.batch{features=, types=, offsets=, labels=, jets=, vertex_ids=, track_types=, kind=} -> batch
            A batch from tensors (1-based codes), e.g. generated jets to write with mpm.data.write.
            """, BatchBinding.make)
        lua.register("fit_preprocessing", in: data, doc: PreprocessingBinding.fitDoc.replacingOccurrences(
            of: "ds:fit_preprocessing{", with: "mpm.data.fit_preprocessing(ds, {")) { lua in
            try PreprocessingBinding.fit(lua, try DatasetBinding.datasetClass.check(lua, 1), options: 2)
        }
        lua.register("load_preprocessing", in: data, doc: "mpm.data.load_preprocessing(path) -> preprocessing") { lua in
            PreprocessingBinding.preprocessingClass.push(lua, try Preprocessing.load(try lua.string(1)))
            return 1
        }
        lua.register("mask", in: data, doc: """
            mpm.data.mask(batch, fraction [, seed]) -> {kept=, dropped=, kept_offsets=, dropped_offsets=, ranks=, fraction=}
            MPM masking: in each jet of n particles floor(fraction * n) are dropped uniformly at random.
            fraction is a number or a range {low, high} drawn once. kept and dropped are 1-based rows
            (in pt order within each jet); ranks[i] is the pt rank of dropped[i] among its jet's
            dropped particles (1 = hardest). The split is also stored as batch.mask.
            """) { lua in
            guard let b = try BatchBinding.test(lua, 1) else { throw lua.typeError(1, expected: "data.Batch") }
            let masking = try Masking(fraction: try lua.maskFraction(2, what: "mpm.data.mask"))
            let split = try masking.split(b.batch, seed: try lua.dataSeed(3))
            b.split = split
            try BatchBinding.pushSplit(lua, split, cache: b)
            return 1
        }
        lua.register("write", in: data, doc: """
            mpm.data.write(path, batch | {batch, ...} [, {length=, recompute_jets=false, attributes={}}])
            mpm.data.write(path, {name = tensor, ...} [, {attributes={}}])
            Writes jets in the reference schema (features must be in physical units; recompute_jets
            sums pt, eta, phi, mass from the constituents), or named tensors as datasets. Atomic:
            a temporary file in the same folder is renamed when complete.
            """, write)
        lua.push(strings: JetSchema.particleTypes); lua.setRawField(data, "PARTICLE_TYPES")
        lua.push(strings: JetSchema.jetclassClasses); lua.setRawField(data, "JETCLASS_CLASSES")
        lua.push(strings: JetSchema.btagClasses); lua.setRawField(data, "BTAG_CLASSES")
        lua.push(strings: JetSchema.trackOrigins); lua.setRawField(data, "TRACK_ORIGINS")
        lua.push(strings: JetSchema.featureNames); lua.setRawField(data, "FEATURES")
        lua.push(strings: JetSchema.jetFeatureNames); lua.setRawField(data, "JET_FEATURES")
        lua.pushValue(data)
        lua.setRawField(mpm, "data")
        lua.pop()
    }

    private static func write(_ lua: LuaState) throws -> Int32 {
        let path = try lua.string(1)
        var batches: [SetBatch] = []
        var tensors: [(String, Tensor)] = []
        if let b = try BatchBinding.test(lua, 2) {
            batches = [b.batch]
        } else if lua.type(2) == LUA_TTABLE {
            let n = lua.rawLength(2)
            for i in stride(from: 1, through: n, by: 1) {
                lua.rawIndex(2, i)
                defer { lua.pop() }
                guard let b = try BatchBinding.test(lua, lua.top) else {
                    throw LuaError.argument(2, "write: item \(i) of the list is a \(lua.typeName(-1)), expected a data.Batch")
                }
                batches.append(b.batch)
            }
            try lua.forEachPair(2) { key, value in
                guard lua.type(key) == LUA_TSTRING, let name = lua.plainString(key) else { return }
                guard let t = try tensorClass.test(lua, value) else {
                    throw LuaError.argument(2, "write: '\(name)' must be a tensor, got \(lua.typeName(value))")
                }
                tensors.append((name, t))
            }
            if !batches.isEmpty && !tensors.isEmpty {
                throw LuaError.argument(2, "write: give either batches or named tensors, not both")
            }
            if batches.isEmpty && tensors.isEmpty { throw LuaError.argument(2, "write: nothing to write") }
        } else {
            throw lua.typeError(2, expected: "data.Batch, list of batches or table of tensors")
        }
        let allowed = batches.isEmpty ? ["attributes"] : ["length", "recompute_jets", "attributes"]
        try lua.checkOptions(3, allowed: allowed, function: "write")
        var attributes: [String: H5AttributeValue] = [:]
        if lua.type(3) == LUA_TTABLE {
            lua.rawField(3, "attributes")
            defer { lua.pop() }
            attributes = try lua.attributes(lua.top)
        }
        if batches.isEmpty {
            try JetWriter.writeTensors(tensors.sorted { $0.0 < $1.0 }, to: path, attributes: attributes)
        } else {
            try JetWriter.writeJets(batches, to: path, length: try lua.option(3, "length") { try lua.integer($0) },
                                    recomputeJets: try lua.option(3, "recompute_jets") { try lua.boolean($0) } ?? false,
                                    attributes: attributes)
        }
        return 0
    }
}
