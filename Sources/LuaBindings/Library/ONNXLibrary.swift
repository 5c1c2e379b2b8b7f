import CLua
import Export
import JetData
import MPM
import NN

/// `mpm.onnx`: ONNX files for ONNX Runtime (the Export target does the work; docs/export.md).
/// This file only reads the Lua arguments and turns refusals into one-line errors.
enum ONNXLibrary {
    static let function = "mpm.onnx.export"

    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let onnx = lua.top
        lua.register("export", in: onnx, doc: """
            mpm.onnx.export(model, path [, {overwrite=false, preprocessing=}]) -> {path=, bytes=, preprocessing=}
            Writes `model` as an ONNX file (opset 17, fp32) for ONNX Runtime. model: a saved record's
            path (a fine-tuned classifier's OUT/model.h5, or a backbone.h5), a backbone module, a
            head (ClassAttentionClassifier, PerTrackMLP, EdgeHead) on the inputs, or {backbone =
            module or false, head = one of those heads, class_names = {...}}. Inputs: features
            [batch, particles, 7] (preprocessed), types [batch, particles] int64 0-based as in the
            data files, mask [batch, particles] bool; outputs: logits and scores [batch, classes]
            of a classifier, [batch, particles, classes] of a PerTrackMLP, edge_logits and
            edge_scores [batch, particles, particles] of an EdgeHead, particles, registers and
            pooled of a backbone. preprocessing: the file copied beside as NAME.preprocessing.h5
            (default: the record's; false for none). Refused in one line, with nothing written: a
            module the exporter does not know (named with its path), an existing file without
            overwrite, a folder that cannot be written, NaN weights. docs/export.md.
              mpm.onnx.export("runs/jetclass/model.h5", "jetclass.onnx")
            """) { lua in
            let path = try lua.string(2)
            try lua.checkOptions(3, allowed: ["overwrite", "preprocessing"], function: function)
            var options = ONNXExport.Options()
            options.producerVersion = MPMLibrary.version
            options.overwrite = try lua.option(3, "overwrite", lua.boolean) ?? false
            let preprocessing: String?? = try lua.option(3, "preprocessing") { i -> String? in
                if lua.type(i) == LUA_TBOOLEAN, lua_toboolean(lua.state, i) == 0 { return nil }
                return try lua.string(i)
            }
            do {
                let network: ONNXExport.Network
                if lua.type(1) == LUA_TSTRING {
                    let loaded = try ONNXExport.load(record: try lua.string(1))
                    network = loaded.0
                    options.preprocessing = loaded.preprocessing
                } else {
                    network = try self.network(lua, 1)
                }
                if let chosen = preprocessing { options.preprocessing = chosen }
                let written = try ONNXExport.write(network, to: path, options: options)
                lua.newTable(hash: 3)
                lua.push(written.path)
                lua.setRawField(-2, "path")
                lua.push(written.bytes)
                lua.setRawField(-2, "bytes")
                if let side = written.preprocessing {
                    lua.push(side)
                    lua.setRawField(-2, "preprocessing")
                }
                return 1
            } catch let e as ExportError {
                throw LuaError.message("\(function): \(e.message)")
            } catch let e as DataError {
                throw LuaError.message("\(function): \(ValueFileLibrary.stripped(e))")
            }
        }
        lua.setRawField(mpm, "onnx")
    }

    /// The network of a module or of a {backbone=, head=, class_names=} table at `index`.
    static func network(_ lua: LuaState, _ index: Int32) throws -> ONNXExport.Network {
        if let m = try ModuleClass.module(lua, index) {
            if let backbone = m as? MPMBackbone { return .backbone(backbone) }
            return try ONNXExport.network(backbone: nil, head: m)
        }
        guard lua.type(index) == LUA_TTABLE else {
            throw lua.typeError(index, expected: "a record path, a module or {backbone=, head=}")
        }
        try lua.checkOptions(index, allowed: ["backbone", "head", "class_names"], function: function)
        lua.rawField(index, "head")
        defer { lua.pop() }
        guard let head = try ModuleClass.module(lua, lua.top) else {
            throw LuaError.argument(index, "\(function): the table needs head = a module (ClassAttentionClassifier, PerTrackMLP, EdgeHead)")
        }
        lua.rawField(index, "backbone")
        defer { lua.pop() }
        var backbone: MPMBackbone?
        if let m = try ModuleClass.module(lua, lua.top) {
            guard let bb = m as? MPMBackbone else {
                throw ONNXExport.unknown(m.typeName, at: "backbone")
            }
            backbone = bb
        } else if !(lua.isNoneOrNil(-1) || lua.type(-1) == LUA_TBOOLEAN && lua_toboolean(lua.state, -1) == 0) {
            throw LuaError.argument(index, "\(function): backbone must be a backbone module or false")
        }
        let names = try lua.option(index, "class_names") { list -> [String] in
            try lua.checkTable(list)
            return try (0..<lua.rawLength(list)).map { i in
                lua.rawIndex(list, i + 1)
                defer { lua.pop() }
                return try lua.string(lua.top)
            }
        } ?? []
        return try ONNXExport.network(backbone: backbone, head: head, classNames: names)
    }
}
