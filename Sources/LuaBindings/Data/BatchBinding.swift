import CLua
import CSupport
import JetData
import Tensors

/// The `data.Batch` userdata: a packed batch with fields
/// `features` [T,7], `types` [T] (1..8), `offsets` [B+1] (row boundaries, starting at 0),
/// `labels` [B] (1-based classes), `jets` [B,5], `vertex_ids`, `track_types` (BTag, 1-based),
/// `jet_indices` [B] (1-based rows of the file), `batch_size`, `num_particles`, `kind`, and
/// `mask` (the masking split, or nil).
enum BatchBinding {
    static let batchClass: LuaClass<LuaBatch> = makeClass()

    static func push(_ lua: LuaState, _ batch: LuaBatch) { batchClass.push(lua, batch) }

    /// A batch argument: a `data.Batch`, or nil when the value is something else.
    static func test(_ lua: LuaState, _ index: Int32) throws -> LuaBatch? { try batchClass.test(lua, index) }

    private static func makeClass() -> LuaClass<LuaBatch> {
        let c = LuaClass<LuaBatch>(name: "data.Batch")
        c.fields(["features", "types", "offsets", "labels", "jets", "vertex_ids", "track_types", "jet_indices",
                  "batch_size", "num_particles", "kind", "mask"]) { lua, b, name in
            let s = b.batch
            switch name {
            case "features": lua.push(s.features)
            case "types": lua.push(try b.oneBased("types", s.types))
            case "offsets": lua.push(s.offsets)
            case "labels": lua.push(try b.oneBased("labels", s.labels))
            case "jets": lua.push(s.jets)
            case "vertex_ids": if let v = s.vertexIds { lua.push(try b.oneBased("vertex_ids", v)) } else { lua.pushNil() }
            case "track_types": if let v = s.trackTypes { lua.push(try b.oneBased("track_types", v)) } else { lua.pushNil() }
            case "jet_indices": lua.push(try b.oneBased("jet_indices", s.jetIndices))
            case "batch_size": lua.push(s.batchSize)
            case "num_particles": lua.push(s.particleCount)
            case "kind": lua.push(s.kind.rawValue)
            case "mask": if let split = b.split { try pushSplit(lua, split, cache: b) } else { lua.pushNil() }
            default: lua.pushNil()
            }
        }
        c.length { $0.batch.batchSize }
        c.description { b in "data.Batch(\(b.batch.kind.rawValue), \(b.batch.batchSize) jets, \(b.batch.particleCount) particles)" }
        c.method("padded", doc: """
            batch:padded([length]) -> {features=[B,N,7], types=[B,N], mask=[B,N] bool, labels=, jets=, vertex_ids=, track_types=}
            The padded layout with N = length (default: the longest jet). Codes are 1-based; padding
            slots hold 0 in types, vertex_ids and track_types and zeros in features.
            """) { lua, b in
            let length = lua.isNoneOrNil(2) ? nil : try lua.integer(2)
            let p = try b.batch.padded(length: length)
            lua.newTable(hash: 7)
            lua.push(p.features); lua.setRawField(-2, "features")
            lua.push(try IndexBase.zero.rebase(p.types, to: .one, where: p.mask, fill: 0)); lua.setRawField(-2, "types")
            lua.push(p.mask); lua.setRawField(-2, "mask")
            lua.push(try b.oneBased("labels", p.labels)); lua.setRawField(-2, "labels")
            lua.push(p.jets); lua.setRawField(-2, "jets")
            if let v = p.vertexIds {
                lua.push(try IndexBase.zero.rebase(v, to: .one, where: p.mask, fill: 0)); lua.setRawField(-2, "vertex_ids")
            }
            if let v = p.trackTypes {
                lua.push(try IndexBase.zero.rebase(v, to: .one, where: p.mask, fill: 0)); lua.setRawField(-2, "track_types")
            }
            return 1
        }
        c.method("counts", doc: "batch:counts() -> int64 tensor [B]: real particles per jet") { lua, b in
            let o = b.batch.offsetsArray
            lua.push(try Tensor((0..<b.batch.batchSize).map { Int64(o[$0 + 1] - o[$0]) }))
            return 1
        }
        return c
    }

    /// Pushes the masking split as a table of 1-based row indices and ranks:
    /// `{kept=, dropped=, kept_offsets=, dropped_offsets=, ranks=, fraction=}`.
    static func pushSplit(_ lua: LuaState, _ split: MaskSplit, cache b: LuaBatch) throws {
        lua.newTable(hash: 6)
        lua.push(try b.oneBased("mask.kept", split.kept)); lua.setRawField(-2, "kept")
        lua.push(try b.oneBased("mask.dropped", split.dropped)); lua.setRawField(-2, "dropped")
        lua.push(split.keptOffsets); lua.setRawField(-2, "kept_offsets")
        lua.push(split.droppedOffsets); lua.setRawField(-2, "dropped_offsets")
        lua.push(try b.oneBased("mask.ranks", split.droppedRanks)); lua.setRawField(-2, "ranks")
        lua.push(split.fraction); lua.setRawField(-2, "fraction")
    }

    /// `mpm.data.batch{features=, types=, offsets=, labels=, jets=, vertex_ids=, track_types=, kind=}`:
    /// a batch from Lua tensors (1-based codes), e.g. generated jets to write.
    static func make(_ lua: LuaState) throws -> Int32 {
        let allowed = ["features", "types", "offsets", "labels", "jets", "vertex_ids", "track_types", "kind"]
        try lua.checkTable(1)
        try lua.checkOptions(1, allowed: allowed, function: "mpm.data.batch")
        func required(_ key: String) throws -> Tensor {
            guard let t = try lua.option(1, key, { try lua.tensor($0) }) else {
                throw LuaError.argument(1, "mpm.data.batch: '\(key)' is required")
            }
            return t
        }
        func code(_ key: String) throws -> Tensor? {
            try lua.option(1, key, { try lua.tensor($0) }).map { try IndexBase.one.rebase($0, to: .zero) }
        }
        let kindName = try lua.option(1, "kind", { try lua.string($0) }) ?? "jetclass"
        guard let kind = JetKind(rawValue: kindName) else {
            throw LuaError.argument(1, "mpm.data.batch: unknown kind '\(kindName)' (expected jetclass or btag)")
        }
        let batch = try SetBatch(kind: kind, features: try required("features"),
                                 types: try IndexBase.one.rebase(try required("types"), to: .zero),
                                 offsets: try required("offsets"), labels: try code("labels"),
                                 jets: try lua.option(1, "jets", { try lua.tensor($0) }),
                                 vertexIds: try code("vertex_ids"), trackTypes: try code("track_types"))
        push(lua, LuaBatch(batch))
        return 1
    }
}
