import CLua
import CSupport
import JetData
import MPM
import Tensors

/// A target as Lua holds it: the Swift `DroppedSet` (0-based codes) plus the 1-based tensors
/// handed to Lua, made once on first use.
final class LuaDroppedSet {
    let set: DroppedSet
    private var cache: [String: Tensor] = [:]
    init(_ set: DroppedSet) { self.set = set }

    func oneBased(_ key: String, _ t: Tensor) throws -> Tensor {
        if let done = cache[key] { return done }
        let shifted = try IndexBase.zero.rebase(t, to: .one)
        cache[key] = shifted
        return shifted
    }
}

/// The `mpm.DroppedSet` userdata: what `model(batch)` returns as `out.target` and what every
/// task's `loss(decoded, target)` compares with. Fields: `features` [Td,7], `types` [Td]
/// (1..8), `offsets` [B+1] (jet b dropped rows offsets[b]+1 .. offsets[b+1]), `ranks` [Td]
/// (1 = highest pt among the jet's dropped), `rows` [Td] (1-based rows in the full jets),
/// `jet_features`, `jet_types`, `jet_offsets` (the whole jets), `encoded_offsets` (of the
/// encoder output, registers included), `count` (Td), `batch_size` (B).
enum DroppedSetBinding {
    static let droppedSetClass: LuaClass<LuaDroppedSet> = makeClass()

    static let fieldNames = ["features", "types", "offsets", "ranks", "rows", "jet_features", "jet_types",
                             "jet_offsets", "encoded_offsets", "count", "batch_size"]

    static func push(_ lua: LuaState, _ set: DroppedSet) { droppedSetClass.push(lua, LuaDroppedSet(set)) }

    /// A target argument: a DroppedSet userdata, or a table with the same fields (types, ranks
    /// and rows 1-based; ranks and rows optional), as a Lua task or test may build one.
    static func target(_ lua: LuaState, _ index: Int32) throws -> DroppedSet {
        if let s = try droppedSetClass.test(lua, index) { return s.set }
        guard lua.type(index) == LUA_TTABLE else { throw lua.typeError(index, expected: "target (mpm.DroppedSet or table)") }
        try lua.checkOptions(index, allowed: fieldNames.filter { $0 != "count" && $0 != "batch_size" }, function: "target")
        func field(_ name: String, required: Bool) throws -> Tensor? {
            let t = try lua.option(index, name) { try lua.tensor($0) }
            if t == nil && required { throw LuaError.argument(index, "target: field '\(name)' is required") }
            return t
        }
        let features = try field("features", required: true)!
        let types = try IndexBase.one.rebase(try field("types", required: true)!, to: .zero)
        let offsets = try field("offsets", required: true)!
        let n = features.dim >= 1 ? features.shape[0] : 0
        let all = try Tensor.arange(Double(n), dtype: .i64)
        let ranks = try field("ranks", required: false).map { try IndexBase.one.rebase($0, to: .zero) } ?? all
        let rows = try field("rows", required: false).map { try IndexBase.one.rebase($0, to: .zero) } ?? all
        return DroppedSet(features: features, types: types, offsets: offsets, ranks: ranks, rows: rows,
                          jetFeatures: try field("jet_features", required: false) ?? features,
                          jetTypes: try field("jet_types", required: false).map { try IndexBase.one.rebase($0, to: .zero) } ?? types,
                          jetOffsets: try field("jet_offsets", required: false) ?? offsets,
                          encodedOffsets: try field("encoded_offsets", required: false))
    }

    private static func makeClass() -> LuaClass<LuaDroppedSet> {
        let c = LuaClass<LuaDroppedSet>(name: "mpm.DroppedSet")
        c.fields { lua, d, name in
            let s = d.set
            switch name {
            case "features": lua.push(s.features)
            case "types": lua.push(try d.oneBased("types", s.types))
            case "offsets": lua.push(s.offsets)
            case "ranks": lua.push(try d.oneBased("ranks", s.ranks))
            case "rows": lua.push(try d.oneBased("rows", s.rows))
            case "jet_features": lua.push(s.jetFeatures)
            case "jet_types": lua.push(try d.oneBased("jet_types", s.jetTypes))
            case "jet_offsets": lua.push(s.jetOffsets)
            case "encoded_offsets": if let o = s.encodedOffsets { lua.push(o) } else { lua.pushNil() }
            case "count": lua.push(s.count)
            case "batch_size": lua.push(s.batchSize)
            default: lua.pushNil()
            }
        }
        c.length { $0.set.count }
        c.description { d in "DroppedSet(\(d.set.count) particles in \(d.set.batchSize) jets)" }
        return c
    }
}
