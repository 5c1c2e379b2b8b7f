import CLua
import CSupport
import JetData
import Tensors

/// The `data.Dataset` userdata: `mpm.data.open(path [, {kind=}])`. Fields `kind`, `path`,
/// `num_jets`, `max_particles`, `classes`; `#ds` is the number of jets; jets are numbered from 1.
enum DatasetBinding {
    static let datasetClass: LuaClass<JetDataset> = makeClass()

    static func open(_ lua: LuaState) throws -> Int32 {
        let path = try lua.string(1)
        try lua.checkOptions(2, allowed: ["kind"], function: "mpm.data.open")
        let kind: JetKind? = try lua.option(2, "kind") { i in
            let name = try lua.string(i)
            guard let k = JetKind(rawValue: name) else {
                throw LuaError.argument(i, "unknown kind '\(name)' (expected jetclass or btag)")
            }
            return k
        }
        datasetClass.push(lua, try JetDataset.open(path, kind: kind))
        return 1
    }

    private static func makeClass() -> LuaClass<JetDataset> {
        let c = LuaClass<JetDataset>(name: "data.Dataset")
        c.fields(["kind", "path", "num_jets", "max_particles", "classes"]) { lua, ds, name in
            switch name {
            case "kind": lua.push(ds.kind.rawValue)
            case "path": lua.push(ds.path)
            case "num_jets": lua.push(ds.numJets)
            case "max_particles": lua.push(ds.maxParticles)
            case "classes": lua.push(strings: ds.classNames)
            default: lua.pushNil()
            }
        }
        c.length { $0.numJets }
        c.description { ds in "data.Dataset(\(ds.kind.rawValue), \(ds.numJets) jets, \(ds.maxParticles) slots: \(ds.path))" }
        c.method("read", doc: """
            ds:read(first, last) -> batch     jets first..last (1-based, inclusive)
            ds:read({i, j, ...}) -> batch     these jets, in this order (an int64 tensor works too)
            """) { lua, ds in
            let batch: SetBatch
            if lua.type(2) == LUA_TNUMBER {
                let first = try lua.integer(2)
                let last = try lua.optionalInteger(3, default: first)
                guard first >= 1, last >= first - 1, last <= ds.numJets else {
                    throw LuaError.argument(2, "jets \(first)..\(last) are out of range for \(ds.numJets) jets (valid 1..\(ds.numJets))")
                }
                batch = try ds.read((first - 1)..<last)
            } else if let t = try tensorClass.test(lua, 2) {
                batch = try ds.read(indices: try IndexBase.one.rebase(t, to: .zero).toInt64Array().map { Int($0) })
            } else if lua.type(2) == LUA_TTABLE {
                batch = try ds.read(indices: try lua.integers(inTable: 2, what: "indices").map { $0 &- 1 })
            } else {
                throw lua.typeError(2, expected: "jet number, table of jet numbers or int64 tensor")
            }
            BatchBinding.push(lua, LuaBatch(batch))
            return 1
        }
        c.method("loader", doc: LoaderBinding.doc) { lua, ds in
            try LoaderBinding.make(lua, ds, options: 2)
        }
        c.method("fit_preprocessing", doc: PreprocessingBinding.fitDoc) { lua, ds in
            try PreprocessingBinding.fit(lua, ds, options: 2)
        }
        return c
    }
}
