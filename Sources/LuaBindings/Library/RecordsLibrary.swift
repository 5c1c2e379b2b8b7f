import CLua
import JetData

/// `mpm.records`: saved files of a known kind (a backbone, a run's checkpoint, a tokenizer, ...)
/// with one format tag and version each, as `Record` (JetData) defines them. The fields are
/// converted as mpm.save converts a table (ValueFileLibrary).
enum RecordsLibrary {
    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let records = lua.top
        lua.register("save", in: records, doc: """
            mpm.records.save(path, kind, fields)
            Writes a record of `kind`: the table `fields` as mpm.save writes it, plus the kind's
            format tag and version (the fields `format` and `format_version`, which are reserved).
            Atomic: never half a file. The kinds, each in mpm.records.kinds as {format=, version=, noun=}:
            \(RecordKind.allCases.map(\.rawValue).joined(separator: ", ")).
            mpm.records.save("backbone.h5", "backbone", {config = model.config, state = bb:state_dict()})
            """) { lua in
            let path = try lua.string(1)
            let kind = try recordKind(lua, 2)
            try lua.checkTable(3)
            var onPath = Set<UnsafeRawPointer>()
            let node = try ValueFileLibrary.read(lua, 3, path: "", function: "mpm.records.save", onPath: &onPath)
            guard case .table(let fields) = node else {
                throw LuaError.argument(3, "the fields must be a table with names, not a list of numbers")
            }
            do { try Record.save(kind, fields: fields, to: path) } catch let e as DataError {
                throw LuaError.message("mpm.records.save: " + ValueFileLibrary.stripped(e))
            }
            return 0
        }
        lua.register("load", in: records, doc: """
            mpm.records.load(path, kind) -> fields, version
            Reads a record of `kind` written by mpm.records.save (or an older mpmlua: files without a
            version are version 1) and returns its fields, without the format tag and version. A
            file of another kind is refused in one line: "x.h5 is not a saved MPM backbone (it holds
            a saved VQ tokenizer)".
            local saved = mpm.records.load("runs/cfm/backbone.h5", "backbone")   -- saved.config, saved.state
            """) { lua in
            let path = try lua.string(1)
            let kind = try recordKind(lua, 2)
            let record: Record
            do { record = try Record.load(kind, from: path) } catch let e as DataError {
                throw LuaError.message(ValueFileLibrary.stripped(e))
            }
            try ValueFileLibrary.push(lua, .table(record.fields))
            lua_pushinteger(lua.state, lua_Integer(record.version))
            return 2
        }
        // mpm.records.kinds: kind -> {format=, version=, noun=}, the table docs/architecture.md shows.
        lua.newTable(hash: Int32(RecordKind.allCases.count))
        for kind in RecordKind.allCases {
            lua.newTable(hash: 3)
            lua.push(kind.format)
            lua.setRawField(-2, "format")
            lua_pushinteger(lua.state, lua_Integer(kind.version))
            lua.setRawField(-2, "version")
            lua.push(kind.noun)
            lua.setRawField(-2, "noun")
            lua.setRawField(-2, kind.rawValue)
        }
        lua.setRawField(records, "kinds")
        lua.pushValue(records)
        lua.setRawField(mpm, "records")
        lua.pop()
    }

    static func recordKind(_ lua: LuaState, _ index: Int32) throws -> RecordKind {
        let name = try lua.string(index)
        guard let kind = RecordKind(rawValue: name) else {
            let known = RecordKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw LuaError.argument(index, "unknown record kind '\(name)' (expected one of: \(known))")
        }
        return kind
    }
}
