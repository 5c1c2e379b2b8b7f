import Foundation
import Testing
@testable import Export
import JetData
import MPM
import NN
import Tensors

/// The exporter from Swift alone (no Lua): what it refuses and that a refusal leaves no file.
/// The numbers are checked against ONNX Runtime by lua/tests/onnx_export.lua.
struct ONNXExportTests {
    static func tinyBackbone() throws -> MPMBackbone {
        var c = MPMConfig.preset("tiny") ?? MPMConfig()
        c.encoderDim = 16; c.encoderHeads = 2; c.encoderDepth = 1; c.registers = 2
        return try MPMBackbone(config: c)
    }

    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "onnx-export-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func writesABackboneAndRefusesToReplaceIt() throws {
        let dir = try Self.folder()
        let path = dir + "/bb.onnx"
        let written = try ONNXExport.write(.backbone(try Self.tinyBackbone()), to: path)
        #expect(written.bytes > 1000 && FileKind.of(path) == .file)
        #expect(throws: ExportError("\(path) exists (pass overwrite = true to replace it)")) {
            try ONNXExport.write(.backbone(try Self.tinyBackbone()), to: path)
        }
        var o = ONNXExport.Options(); o.overwrite = true
        _ = try ONNXExport.write(.backbone(try Self.tinyBackbone()), to: path, options: o)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["bb.onnx"])
    }

    @Test func exportsABackboneRecordWithoutLua() throws {
        let dir = try Self.folder()
        try Self.tinyBackbone().saveRecord(to: dir + "/backbone.h5")
        let (network, preprocessing) = try ONNXExport.load(record: dir + "/backbone.h5")
        guard case .backbone(let bb) = network else { Issue.record("not a backbone: \(network)"); return }
        #expect(bb.config.encoderDim == 16 && preprocessing == nil)
        let graph = try ONNXExport.graph(network)
        #expect(graph.inputs.map(\.name) == ["features", "types", "mask"])
        #expect(graph.outputs.map(\.name) == ["particles", "registers", "pooled"])
        #expect(graph.initializers.contains { $0.name == "encoder.layers.1.attn.qkv.weight" && $0.dims == [16, 48] })
    }

    @Test func refusesNaNWeightsWithoutWriting() throws {
        let dir = try Self.folder()
        let bb = try Self.tinyBackbone()
        let w = bb.encoder.finalNorm!.weight!
        w.elementPointer(as: Float.self)[3] = .nan
        #expect(throws: ExportError("the model has a non-finite weight (NaN) in encoder.final_norm.weight; nothing was written")) {
            try ONNXExport.write(.backbone(bb), to: dir + "/nan.onnx")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func refusesAMissingFolder() throws {
        #expect(throws: ExportError("cannot write /nonexistent-onnx/x.onnx: no folder /nonexistent-onnx")) {
            try ONNXExport.write(.backbone(try Self.tinyBackbone()), to: "/nonexistent-onnx/x.onnx")
        }
    }

    @Test func namesAnUnknownModuleAndItsPath() throws {
        let known = "(the exporter knows MPMBackbone, ClassAttentionClassifier, PerTrackMLP, EdgeHead (alone or on an MPMBackbone))"
        #expect(throws: ExportError("cannot export Linear at head \(known)")) {
            try ONNXExport.network(backbone: try Self.tinyBackbone(), head: try Linear(16, 4))
        }
        var o = TransformerOptions(); o.contextDim = 8
        #expect(throws: ExportError("cannot export AdaptiveLayerNorm at pool.layers.1.norm1 \(known)")) {
            try ONNXExport.check(try ClassAttentionPooling(dim: 16, heads: 2, depth: 1, options: o), prefix: "pool")
        }
        try ONNXExport.check(try ClassAttentionClassifier(inputDim: 15, classes: 3), prefix: "head")
        try ONNXExport.check(try EdgeHead(inputDim: 15), prefix: "head")
    }
}
