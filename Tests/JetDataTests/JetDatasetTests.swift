import Foundation
import Testing
import Tensors
@testable import JetData

@Suite("Jet datasets")
struct JetDatasetTests {
    @Test(arguments: [JetKind.jetclass, .btag])
    func readsPackedAndRoundTripsToPadded(kind: JetKind) throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let p = kind == .jetclass ? 32 : 15
        let ref = ReferenceJets(kind: kind, n: 70, p: p, seed: 11)
        try ref.write(to: dir + "/jets.h5", kindAttribute: false)
        let ds = try JetDataset.open(dir + "/jets.h5")
        #expect(ds.kind == kind)
        #expect(ds.numJets == 70 && ds.maxParticles == p && ds.chunkRows == 16)

        let b = try ds.read(0..<70)
        #expect(b.batchSize == 70)
        let counts = (0..<70).map(ref.count)
        #expect((0..<70).map(b.count(ofJet:)) == counts)
        #expect(b.offsets.toInt64Array() == [0] + counts.reduce(into: [Int64]()) { $0.append(($0.last ?? 0) + Int64($1)) })
        #expect(b.features.shape == [counts.reduce(0, +), 7])
        #expect(b.labels.toInt64Array() == ref.labels)
        #expect(b.jetIndices.toInt64Array() == (0..<70).map(Int64.init))

        // Reference layout -> packed -> padded is exact, padding values included.
        let padded = try b.padded(length: p)
        // (compared outside #expect so a failure prints a line, not thousands of values)
        let sameFeatures = padded.features.toFloatArray() == ref.csts
        let sameTypes = padded.types.toInt64Array() == ref.ids
        let sameMask = padded.mask.toBoolArray() == ref.mask
        #expect(sameFeatures, "padded features differ from the file")
        #expect(sameTypes, "padded types differ from the file")
        #expect(sameMask, "padded mask differs from the file")
        #expect(padded.labels.toInt64Array() == ref.labels)
        #expect(padded.jets.toFloatArray() == ref.jets)
        if kind == .btag {
            let sameVertices = padded.vertexIds?.toInt64Array() == ref.vtx
            let sameOrigins = padded.trackTypes?.toInt64Array() == ref.trk
            #expect(sameVertices && sameOrigins, "padded vertex ids or track types differ from the file")
        } else {
            #expect(padded.vertexIds == nil && b.vertexIds == nil)
        }
        // And packing that padded layout again gives the same packed batch.
        let again = try SetBatch(padded: padded)
        #expect(again.offsets.toInt64Array() == b.offsets.toInt64Array())
        let repacked = again.features.toFloatArray() == b.features.toFloatArray()
            && again.types.toInt64Array() == b.types.toInt64Array()
            && again.trackTypes?.toInt64Array() == b.trackTypes?.toInt64Array()
        #expect(repacked, "packing the padded layout again changed the batch")
    }

    @Test func readsRangesAndIndexLists() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let ref = ReferenceJets(kind: .jetclass, n: 50, p: 20, seed: 3)
        try ref.write(to: dir + "/j.h5")
        let ds = try JetDataset.open(dir + "/j.h5")
        let all = try ds.read(0..<50)
        let part = try ds.read(10..<13)
        let o = all.offsetsArray
        #expect(part.features.toFloatArray() == Array(all.features.toFloatArray()[(o[10] * 7)..<(o[13] * 7)]))
        let picked = try ds.read(indices: [42, 3, 3, 4, 49, 0])
        #expect(picked.jetIndices.toInt64Array() == [42, 3, 3, 4, 49, 0])
        #expect(picked.labels.toInt64Array() == [42, 3, 3, 4, 49, 0].map { ref.labels[$0] })
        #expect((0..<6).map(picked.count(ofJet:)) == [42, 3, 3, 4, 49, 0].map(ref.count))
        let single = try ds.read(indices: [42])
        let start = picked.offsetsArray[0]
        #expect(single.features.toFloatArray() == Array(picked.features.toFloatArray()[(start * 7)..<(picked.offsetsArray[1] * 7)]))
        #expect(try ds.read(5..<5).batchSize == 0)
        TestFiles.expectError(["j.h5", "jet index 50 is out of range for 50 jets"]) { _ = try ds.read(indices: [1, 50]) }
        TestFiles.expectError(["jets 40..<51 are out of range"]) { _ = try ds.read(40..<51) }
    }

    @Test func opensTheBundledFiles() throws {
        let jc = try JetDataset.open(TestFiles.bundled("jetclass_val.h5"))
        #expect(jc.kind == .jetclass && jc.maxParticles == 128 && jc.numJets > 0)
        let bt = try JetDataset.open(TestFiles.bundled("btag_train.h5"))
        #expect(bt.kind == .btag && bt.maxParticles == 15)
        let batch = try bt.read(0..<100)
        #expect(batch.vertexIds?.shape == [batch.particleCount])
        #expect(batch.jets.toFloatArray().enumerated().filter { $0.offset % 5 == 4 }.map { Int($0.element) }
                == (0..<100).map(batch.count(ofJet:)))
    }

    /// Values the schema forbids are refused when read, naming the file, the jet and the
    /// dataset: non-finite features of real constituents, labels outside the classes, mask
    /// values other than 0 and 1 (before, NaN features were mapped silently by a fitted
    /// preprocessing, and label 99 or mask 2 were accepted).
    @Test func refusesValuesOutsideTheSchema() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        var nan = ReferenceJets(kind: .jetclass, n: 10, p: 8, seed: 5)
        let slot = nan.mask.firstIndex(of: true)!
        nan.csts[slot * 7 + 1] = .nan
        try nan.write(to: dir + "/nan.h5")
        TestFiles.expectError(["nan.h5: jet \(slot / 8) has nan in feature 'deta' of slot \(slot % 8) of 'csts'"]) {
            _ = try JetDataset.open(dir + "/nan.h5").read(0..<10)
        }
        var label = ReferenceJets(kind: .btag, n: 10, p: 8, seed: 5)
        label.labels[4] = 99
        try label.write(to: dir + "/label.h5")
        TestFiles.expectError(["label.h5: jet 4 has label 99 in 'labels' (valid 0..2 for btag jets)"]) {
            _ = try JetDataset.open(dir + "/label.h5").read(indices: [4])
        }
        let good = ReferenceJets(kind: .jetclass, n: 10, p: 8, seed: 5)
        try good.write(to: dir + "/mask.h5", skip: ["mask"]) { f in
            var m = good.mask.map { Int8($0 ? 1 : 0) }
            m[13] = 2
            try f.write("mask", m, shape: [10, 8])
        }
        TestFiles.expectError(["mask.h5: jet 1 has mask value 2 in slot 5 of 'mask' (valid 0 or 1)"]) {
            _ = try JetDataset.open(dir + "/mask.h5").read(0..<10)
        }
        #expect(try JetDataset.open(dir + "/mask.h5").read(2..<10).batchSize == 8, "other jets still read")
    }

    @Test func explainsSchemaProblems() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let ref = ReferenceJets(kind: .jetclass, n: 10, p: 8, seed: 5)
        let bt = ReferenceJets(kind: .btag, n: 10, p: 8, seed: 5)

        try ref.write(to: dir + "/noid.h5", skip: ["csts_id"])
        TestFiles.expectError([dir + "/noid.h5 has no dataset 'csts_id'"]) { _ = try JetDataset.open(dir + "/noid.h5") }

        try ref.write(to: dir + "/shape.h5", skip: ["csts"]) { f in
            try f.write("csts", [Float](repeating: 1, count: 10 * 8 * 5), shape: [10, 8, 5])
        }
        TestFiles.expectError(["shape.h5: dataset 'csts' has shape (10,8,5), expected (10,8,7)"]) {
            _ = try JetDataset.open(dir + "/shape.h5")
        }

        try ref.write(to: dir + "/dtype.h5", skip: ["csts_id"]) { f in
            try f.write("csts_id", [Float](repeating: 1, count: 80), shape: [10, 8])
        }
        TestFiles.expectError(["dtype.h5: dataset 'csts_id' has dtype float32, expected an integer type"]) {
            _ = try JetDataset.open(dir + "/dtype.h5")
        }

        try ref.write(to: dir + "/labels.h5", skip: ["labels"]) { f in
            try f.write("labels", [Int64](repeating: 0, count: 9), shape: [9])
        }
        TestFiles.expectError(["labels.h5: dataset 'labels' has shape (9,), expected (10,)"]) {
            _ = try JetDataset.open(dir + "/labels.h5")
        }

        try ref.write(to: dir + "/maskf.h5", skip: ["mask"]) { f in
            try f.write("mask", [Double](repeating: 1, count: 80), shape: [10, 8])
        }
        TestFiles.expectError(["dataset 'mask' has dtype float64, expected bool"]) { _ = try JetDataset.open(dir + "/maskf.h5") }

        try bt.write(to: dir + "/novtx.h5", skip: ["vtx_id"], kindAttribute: false)
        #expect(try JetDataset.open(dir + "/novtx.h5").kind == .jetclass)   // detected as JetClass
        TestFiles.expectError(["novtx.h5 has no dataset 'vtx_id' (needed for kind 'btag')"]) {
            _ = try JetDataset.open(dir + "/novtx.h5", kind: .btag)
        }

        try ref.write(to: dir + "/type.h5", skip: ["csts_id"]) { f in
            var ids = ref.ids
            let j = (0..<10).first { ref.count($0) > 0 }!
            ids[j * 8] = 9
            try f.write("csts_id", ids, shape: [10, 8])
        }
        let bad = try JetDataset.open(dir + "/type.h5")
        TestFiles.expectError(["type.h5: jet", "has particle type 9", "valid 0..7"]) { _ = try bad.read(0..<10) }

        try H5File.createAtomically(dir + "/wide.h5") { f in
            try f.write("csts", [Float](repeating: 0, count: 70_000 * 7), shape: [1, 70_000, 7])
            try f.write("csts_id", [Int64](repeating: 0, count: 70_000), shape: [1, 70_000])
            try f.write("mask", [Bool](repeating: false, count: 70_000), shape: [1, 70_000])
            try f.write("labels", [Int64(0)], shape: [1])
            try f.write("jets", [Float](repeating: 0, count: 5), shape: [1, 5])
        }
        TestFiles.expectError(["wide.h5: dataset 'csts' has 70000 constituent slots per jet"]) { _ = try JetDataset.open(dir + "/wide.h5") }

        TestFiles.expectError(["no such file"]) { _ = try JetDataset.open(dir + "/none.h5") }
        TestFiles.expectError(["is a directory"]) { _ = try JetDataset.open(dir) }
    }

    @Test func setBatchChecksItsTensors() throws {
        let features = try Tensor.zeros([5, 7])
        let types = try Tensor.zeros([5], dtype: .i64)
        let offsets = try Tensor([Int64(0), 2, 5])
        let b = try SetBatch(features: features, types: types, offsets: offsets)
        #expect(b.batchSize == 2 && b.particleCount == 5)
        #expect(b.jets.toFloatArray() == [0, 0, 0, 0, 2, 0, 0, 0, 0, 3])
        TestFiles.expectError(["set batch: features is float32 [4,7], expected float32 [5,7]"]) {
            _ = try SetBatch(features: try Tensor.zeros([4, 7]), types: types, offsets: offsets)
        }
        TestFiles.expectError(["offsets must start at 0 and never decrease"]) {
            _ = try SetBatch(features: features, types: types, offsets: try Tensor([Int64(0), 3, 2]))
        }
        TestFiles.expectError(["padded: length 2 is shorter than the longest jet (3 particles)"]) { _ = try b.padded(length: 2) }
    }
}
