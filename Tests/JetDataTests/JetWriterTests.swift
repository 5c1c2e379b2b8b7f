import Foundation
import Testing
import Tensors
@testable import JetData

@Suite("Writers")
struct JetWriterTests {
    @Test(arguments: ["btag_train.h5", "jetclass_val.h5"])
    func jetFilesRoundTrip(name: String) throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let ds = try JetDataset.open(TestFiles.bundled(name))
        let a = try ds.read(0..<150), b = try ds.read(150..<300)
        try JetWriter.writeJets([a, b], to: dir + "/out.h5", attributes: ["note": .string("round trip")])
        let back = try JetDataset.open(dir + "/out.h5")
        #expect(back.kind == ds.kind && back.numJets == 300 && back.maxParticles == ds.maxParticles)
        #expect(try H5File.open(dir + "/out.h5").attribute("note") == .string("round trip"))
        let original = try ds.read(0..<300), again = try back.read(0..<300)
        let same = original.features.toFloatArray() == again.features.toFloatArray()
            && original.types.toInt64Array() == again.types.toInt64Array()
            && original.offsets.toInt64Array() == again.offsets.toInt64Array()
            && original.labels.toInt64Array() == again.labels.toInt64Array()
            && original.jets.toFloatArray() == again.jets.toFloatArray()
            && original.vertexIds?.toInt64Array() == again.vertexIds?.toInt64Array()
            && original.trackTypes?.toInt64Array() == again.trackTypes?.toInt64Array()
        #expect(same, "written jets differ from the ones read")
    }

    @Test func generatedJetsGetTheirKinematics() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        // Jet 0: two massless particles, m^2 = 2 pt1 pt2 (cosh(deta) - cos(dphi)). Jet 1: empty.
        let features = try Tensor([Float(100), 0.2, -0.1, 0, 0, 0, 0,
                                   Float(50), -0.3, 0.25, 0.01, 0.01, 0.02, 0.02], shape: [2, 7])
        let batch = try SetBatch(features: features, types: try Tensor([Int64(3), 1]),
                                 offsets: try Tensor([Int64(0), 2, 2]), labels: try Tensor([Int64(2), 0]))
        try JetWriter.writeJets([batch], to: dir + "/gen.h5", recomputeJets: true)
        let back = try JetDataset.open(dir + "/gen.h5")
        #expect(back.maxParticles == 128)
        let jets = try back.read(0..<2).jets.toFloatArray()
        let m = (2 * 100 * 50 * (cosh(0.5) - cos(0.35))).squareRoot()
        #expect(abs(Double(jets[3]) - m) < 1e-3 * m, "mass \(jets[3]), expected \(m)")
        #expect(jets[4] == 2 && jets[9] == 0 && jets[8] == 0)
        let pt = (100.0 * 100 + 50 * 50 + 2 * 100 * 50 * cos(0.35)).squareRoot()   // 100 and 50 GeV, 0.35 rad apart
        #expect(abs(Double(jets[0]) - pt) < 1e-3 * pt)

        TestFiles.expectError(["a jet has 2 particles, more than the 1 slots"]) {
            try JetWriter.writeJets([batch], to: dir + "/short.h5", length: 1)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/short.h5"))
    }

    @Test func tensorsRoundTrip() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let emb = try Tensor((0..<12).map { Float($0) / 4 }, shape: [3, 4])
        let labels = try Tensor([Int64(4), 0, 9])
        let flags = try Tensor([true, false, true])
        try JetWriter.writeTensors([("embeddings", emb), ("labels", labels), ("heads/ok", flags)], to: dir + "/e.h5",
                                   attributes: ["backbone": .string("test"), "step": .int(7)])
        let f = try H5File.open(dir + "/e.h5")
        #expect(try f.dataset("embeddings").shape == [3, 4])
        #expect(try f.dataset("embeddings").read(Float.self) == emb.toFloatArray())
        #expect(try f.dataset("labels").read(Int64.self) == [4, 0, 9])
        #expect(try f.dataset("heads/ok").dtype == .bool)
        #expect(try f.dataset("heads/ok").read(Bool.self) == [true, false, true])
        #expect(try f.attribute("step")?.intValue == 7)
        // A transposed view is written in its logical (row-major) order.
        try JetWriter.writeTensors([("t", try emb.t())], to: dir + "/t.h5")
        #expect(try H5File.open(dir + "/t.h5").dataset("t").read(Float.self) == (try emb.t().contiguous().toFloatArray()))
        TestFiles.expectError(["write: dataset 'x' is given twice"]) {
            try JetWriter.writeTensors([("x", emb), ("x", labels)], to: dir + "/d.h5")
        }
        TestFiles.expectError(["'/abs' is not a valid dataset name"]) { try JetWriter.writeTensors([("/abs", emb)], to: dir + "/d.h5") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/d.h5"))
    }
}
