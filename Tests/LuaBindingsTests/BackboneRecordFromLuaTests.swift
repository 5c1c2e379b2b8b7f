import Foundation
import JetData
import LuaBindings
import MPM
import Tensors
import Testing

/// A backbone written by Lua (model:save_backbone) loads in Swift with no Lua state involved and
/// gives the output Lua computed: the record's layout is one, whichever side writes it.
@Suite("A Lua backbone record in Swift")
struct BackboneRecordFromLuaTests {
    @Test func luaBackboneRunsInSwift() throws {
        let dir = NSTemporaryDirectory() + "mpm-lua-backbone-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let host = LuaHost(libraryPath: TestPaths.lua)
        var report = ""
        host.reportSink = { report += $0 }
        let ok = host.runChunk(code: """
            local dir = ...
            mpm.manual_seed(7)
            local model = mpm.MPM { preset = "tiny" }
            model:save_backbone(dir .. "/backbone.h5", { task = "cfm" })
            local bb = model:backbone()
            bb:eval()
            local features, types = mpm.randn(9, 7), mpm.tensor { 1, 2, 3, 4, 5, 6, 7, 8, 1 }
            local offsets = mpm.tensor { 0, 4, 9 }
            mpm.save(dir .. "/run.h5", { features = features, types = types, offsets = offsets,
              particles = bb(features, types, offsets) })
            """, name: "=(backbone record)", arguments: [dir])
        #expect(ok, "\(report)")
        guard ok else { return }

        let (backbone, record) = try MPMBackbone.load(record: dir + "/backbone.h5")
        guard case .string("cfm")? = record["task"] else { Issue.record("task: \(String(describing: record["task"]))"); return }
        backbone.eval()
        let saved = ValueFile.stateDict(try ValueFile.load(dir + "/run.h5"))
        let particles = try backbone(saved["features"]!, types: saved["types"]!, offsets: saved["offsets"]!, typeBase: .one)
        #expect(particles.shape == [9, 32])
        #expect(particles.toFloatArray() == saved["particles"]!.toFloatArray())
    }
}
