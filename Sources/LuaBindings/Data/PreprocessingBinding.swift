import CLua
import CSupport
import JetData
import Tensors

/// The `data.Preprocessing` userdata: fit with `ds:fit_preprocessing{...}` or
/// `mpm.data.fit_preprocessing(ds, {...})`, load with `mpm.data.load_preprocessing(path)`.
enum PreprocessingBinding {
    static let preprocessingClass: LuaClass<Preprocessing> = makeClass()

    static let fitDoc = """
        ds:fit_preprocessing{method="quantile" | "standardise", jets=#ds, quantiles=500} -> preprocessing
        Fits the per-feature transform on the first `jets` jets: a quantile transform to a standard
        normal (clipped to about ±5.2), or mean/std standardisation. Neutral particles are left out
        of the impact-parameter fits and get N(0,1) noise there after the transform.
        """

    static func fit(_ lua: LuaState, _ ds: JetDataset, options index: Int32) throws -> Int32 {
        try lua.checkOptions(index, allowed: ["method", "jets", "quantiles"], function: "fit_preprocessing")
        let name = try lua.option(index, "method") { try lua.string($0) } ?? "quantile"
        guard let method = Preprocessing.Method(rawValue: name) else {
            throw LuaError.argument(index, "fit_preprocessing: unknown method '\(name)' (expected quantile or standardise)")
        }
        let jets = try lua.option(index, "jets") { try lua.integer($0) }
        let quantiles = try lua.option(index, "quantiles") { try lua.integer($0) } ?? 500
        preprocessingClass.push(lua, try Preprocessing.fit(method, dataset: ds, jets: jets, quantiles: quantiles))
        return 1
    }

    private static func makeClass() -> LuaClass<Preprocessing> {
        let c = LuaClass<Preprocessing>(name: "data.Preprocessing")
        c.fields { lua, p, name in
            switch name {
            case "method": lua.push(p.method.rawValue)
            case "quantiles": lua.push(p.quantileCount)
            case "fitted_jets": lua.push(p.fittedJets)
            case "fitted_particles": lua.push(p.fittedParticles)
            default: lua.pushNil()
            }
        }
        c.description { p in
            let detail = p.method == .quantile ? "\(p.quantileCount) quantiles, " : ""
            return "data.Preprocessing(\(p.method.rawValue), \(detail)fitted on \(p.fittedParticles) particles)"
        }
        c.method("transform", doc: """
            pre:transform(batch [, seed]) -> batch           a copy with transformed features
            pre:transform(features, types [, seed]) -> tensor  features [T,7], types [T] (1..8)
            Neutral impact parameters become N(0,1) noise drawn from seed.
            """) { lua, p in
            if let b = try BatchBinding.test(lua, 2) {
                let out = try p.transform(b.batch, seed: try lua.dataSeed(3))
                BatchBinding.push(lua, LuaBatch(out, split: b.split))
                return 1
            }
            let types = try IndexBase.one.rebase(try lua.tensor(3), to: .zero)
            lua.push(try p.transform(features: try lua.tensor(2), types: types, seed: try lua.dataSeed(4)))
            return 1
        }
        c.method("inverse", doc: """
            pre:inverse(features [, types]) -> tensor
            Back to physical units; with types (1..8), neutral impact parameters become exact zeros.
            """) { lua, p in
            let types = try lua.optionalTensor(3).map { try IndexBase.one.rebase($0, to: .zero) }
            lua.push(try p.inverse(features: try lua.tensor(2), types: types))
            return 1
        }
        c.method("save", doc: "pre:save(path): writes the transform as HDF5 (atomically)") { lua, p in
            try p.save(try lua.string(2))
            return 0
        }
        return c
    }
}
