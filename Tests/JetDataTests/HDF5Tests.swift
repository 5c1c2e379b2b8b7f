import Foundation
import Testing
@testable import JetData

@Suite("HDF5 wrapper")
struct HDF5Tests {
    @Test func roundTripsEveryElementType() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/types.h5"
        let floats: [Float] = (0..<24).map { Float($0) * 0.5 - 3 }
        let doubles: [Double] = (0..<6).map { Double($0) / 3 }
        let longs: [Int64] = [Int64.min, -1, 0, 1, Int64.max, 42]
        let ints: [Int32] = [-5, 0, 7]
        let bytes: [Int8] = [-128, 0, 127]
        let ubytes: [UInt8] = [0, 200, 255]
        let bools: [Bool] = [true, false, false, true, true, false]
        try H5File.createAtomically(path) { f in
            try f.write("f", floats, shape: [2, 3, 4])
            try f.write("d", doubles, shape: [6])
            try f.write("l", longs, shape: [3, 2])
            try f.write("i", ints, shape: [3])
            try f.write("b8", bytes, shape: [3])
            try f.write("u8", ubytes, shape: [3])
            try f.write("mask", bools, shape: [2, 3])
            try f.write("scalar", [Float(2.5)], shape: [])
            try f.write("empty", [Float](), shape: [0, 7])
        }
        let f = try H5File.open(path)
        #expect(try f.dataset("f").read(Float.self) == floats)
        #expect(try f.dataset("f").shape == [2, 3, 4])
        #expect(try f.dataset("d").read(Double.self) == doubles)
        #expect(try f.dataset("l").read(Int64.self) == longs)
        #expect(try f.dataset("i").read(Int32.self) == ints)
        #expect(try f.dataset("b8").read(Int8.self) == bytes)
        #expect(try f.dataset("u8").read(UInt8.self) == ubytes)
        #expect(try f.dataset("mask").read(Bool.self) == bools)
        #expect(try f.dataset("mask").dtype == .bool)
        #expect(try f.dataset("scalar").read(Float.self) == [2.5])
        #expect(try f.dataset("empty").shape == [0, 7])
        #expect(try f.dataset("empty").read(Float.self).isEmpty)
        #expect(try f.members() == ["b8", "d", "empty", "f", "i", "l", "mask", "scalar", "u8"])
    }

    @Test func convertsOnRead() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/conv.h5"
        try H5File.createAtomically(path) { f in
            try f.write("jets", [1.25, -2.5, 1e30, 3.0], shape: [4])          // float64
            try f.write("ids", [Int32(3), -1, 7], shape: [3])                  // int32
            try f.write("small", [UInt8(1), 0, 9], shape: [3])                 // uint8
            try f.write("mask", [true, false, true], shape: [3])               // h5py bool
        }
        let f = try H5File.open(path)
        #expect(try f.dataset("jets").read(Float.self) == [1.25, -2.5, 1e30, 3.0])
        #expect(try f.dataset("ids").read(Int64.self) == [3, -1, 7])
        #expect(try f.dataset("small").read(Int64.self) == [1, 0, 9])
        #expect(try f.dataset("small").read(Bool.self) == [true, false, true])
        #expect(try f.dataset("mask").read(Int64.self) == [1, 0, 1])
        #expect(try f.dataset("ids").read(Bool.self) == [true, true, true])
        TestFiles.expectError(["conv.h5", "dataset 'jets' has dtype float64", "integer"]) {
            _ = try f.dataset("jets").read(Int64.self)
        }
        TestFiles.expectError(["dataset 'ids' has dtype int32", "float"]) {
            _ = try f.dataset("ids").read(Float.self)
        }
    }

    @Test func readsRowHyperslabs() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/rows.h5"
        let values: [Float] = (0..<(100 * 3 * 2)).map(Float.init)
        try H5File.createAtomically(path) { f in
            try f.write("x", values, shape: [100, 3, 2], options: H5WriteOptions(chunkRows: 16, gzipLevel: 6))
        }
        let x = try H5File.open(path).dataset("x")
        #expect(x.chunkShape == [16, 3, 2])
        #expect(try x.read(Float.self, rows: 10..<13) == Array(values[60..<78]))
        #expect(try x.read(Float.self, rows: 99..<100) == Array(values[594..<600]))
        #expect(try x.read(Float.self, rows: 5..<5).isEmpty)
        var buffer = [Float](repeating: -1, count: 8)
        try buffer.withUnsafeMutableBufferPointer { try x.read(rows: 1..<2, into: $0) }
        #expect(Array(buffer[0..<6]) == Array(values[6..<12]) && buffer[6] == -1)
        TestFiles.expectError(["rows.h5: x", "rows 98..<101 are out of range for 100 rows"]) {
            _ = try x.read(Float.self, rows: 98..<101)
        }
        TestFiles.expectError(["cannot hold"]) {
            var small = [Float](repeating: 0, count: 5)
            try small.withUnsafeMutableBufferPointer { try x.read(rows: 0..<1, into: $0) }
        }
    }

    @Test func attributesAndGroups() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/attrs.h5"
        try H5File.createAtomically(path) { f in
            try f.setAttribute("kind", .string("jetclass"))
            try f.setAttribute("n", .int(500))
            try f.setAttribute("scale", .double(0.25))
            try f.setAttribute("names", .strings(["pt", "deta", "dphi", "größe"]))
            try f.setAttribute("shape", .ints([3, 4]))
            try f.setAttribute("bounds", .doubles([-5.2, 5.2]))
            try f.setAttribute("n", .int(501))  // replaces
            let g = try f.createGroup("encoder/layers.0")
            try g.write("weight", [Float](repeating: 1, count: 6), shape: [2, 3])
            try g.setAttribute("step", .int(1234))
            try f.write("labels", [Int64(1), 2], shape: [2])
            try f.dataset("labels").setAttribute("classes", .string("0 QCD, 1 top"))
        }
        let f = try H5File.open(path)
        #expect(try f.attribute("kind") == .string("jetclass"))
        #expect(try f.attribute("n")?.intValue == 501)
        #expect(try f.attribute("scale") == .double(0.25))
        #expect(try f.attribute("names") == .strings(["pt", "deta", "dphi", "größe"]))
        #expect(try f.attribute("shape") == .ints([3, 4]))
        #expect(try f.attribute("bounds") == .doubles([-5.2, 5.2]))
        #expect(try f.attribute("missing") == nil)
        #expect(try f.attributeNames() == ["bounds", "kind", "n", "names", "scale", "shape"])
        #expect(f.contains("encoder/layers.0/weight"))
        #expect(!f.contains("encoder/nothing/weight"))
        #expect(f.kind(of: "encoder") == .group)
        #expect(f.kind(of: "labels") == .dataset)
        let g = try f.group("encoder").group("layers.0")
        #expect(try g.attribute("step")?.intValue == 1234)
        #expect(try g.dataset("weight").read(Float.self) == [1, 1, 1, 1, 1, 1])
        #expect(try f.dataset("labels").attribute("classes")?.stringValue == "0 QCD, 1 top")
        TestFiles.expectError(["attrs.h5 has no dataset 'encoder/layers.0/bias'"]) { _ = try g.dataset("bias") }
        TestFiles.expectError(["'encoder' is not a dataset"]) { _ = try f.dataset("encoder") }
        TestFiles.expectError(["has no group 'decoder'"]) { _ = try f.group("decoder") }
    }

    @Test func readsFilesWrittenByH5py() throws {
        // The bundled files come from h5py: bool masks are enums, strings are variable length.
        let path = TestFiles.bundled("jetclass_val.h5")
        let f = try H5File.open(path)
        let mask = try f.dataset("mask")
        #expect(mask.dtype == .bool)
        let rows = try mask.read(Bool.self, rows: 0..<4)
        #expect(rows.count == 4 * 128 && rows[0])
        let columns = try f.dataset("csts").attribute("columns")?.stringValue
        #expect(columns?.hasPrefix("pt") == true)
        #expect(try f.attribute("kind")?.stringValue == "jetclass")
    }

    @Test func explainsBadFiles() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        TestFiles.expectError([dir + "/none.h5", "no such file"]) { _ = try H5File.open(dir + "/none.h5") }
        TestFiles.expectError([dir, "is a directory"]) { _ = try H5File.open(dir) }
        _ = FileManager.default.createFile(atPath: dir + "/empty.h5", contents: Data())
        TestFiles.expectError(["empty.h5 is empty"]) { _ = try H5File.open(dir + "/empty.h5") }
        _ = FileManager.default.createFile(atPath: dir + "/text.h5", contents: Data("pt,eta,phi\n1,2,3\n".utf8))
        TestFiles.expectError(["text.h5 is not an HDF5 file"]) { _ = try H5File.open(dir + "/text.h5") }

        // A file cut in half: the superblock is intact but the rest is gone.
        let whole = try Data(contentsOf: URL(fileURLWithPath: TestFiles.bundled("jetclass_val.h5")))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.h5"))
        TestFiles.expectError(["cut.h5", "truncated"]) { _ = try H5File.open(dir + "/cut.h5") }
    }

    @Test func corruptChunksFailOnRead() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/corrupt.h5"
        let values: [Float] = (0..<4000).map { sin(Float($0)) }
        try H5File.createAtomically(path) { f in
            try f.write("x", values, shape: [1000, 4], options: H5WriteOptions(chunkRows: 100, gzipLevel: 6))
        }
        // Overwrite the middle of the file (compressed chunk data) with garbage.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let mid = bytes.count / 2
        for i in (mid - 2000)..<(mid + 2000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
        try bytes.write(to: URL(fileURLWithPath: path))
        let x = try H5File.open(path).dataset("x")
        TestFiles.expectError(["corrupt.h5", "cannot read", "dataset 'x'"]) { _ = try x.read(Float.self) }
    }

    @Test func atomicWriteLeavesNothingOnFailure() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/out.h5"
        try H5File.createAtomically(path) { f in try f.write("v", [Int64(1)], shape: [1]) }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try H5File.createAtomically(path) { f in
                try f.write("v", [Int64(2)], shape: [1])
                throw Boom()
            }
        }
        // The old file is untouched and no temporary file is left in the folder.
        #expect(try H5File.open(path).dataset("v").read(Int64.self) == [1])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.h5"])
        TestFiles.expectError(["folder", "does not exist"]) {
            try H5File.createAtomically(dir + "/no/such/out.h5") { _ in }
        }
        TestFiles.expectError(["shape (2,3)", "5 values"]) {
            try H5File.createAtomically(dir + "/bad.h5") { f in try f.write("v", [Float](repeating: 0, count: 5), shape: [2, 3]) }
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.h5"))
    }

    /// A write that fails half-way closes every HDF5 object it opened: no file of it stays
    /// registered with the library (one that did crashed the process at exit, in
    /// H5_term_library), even when the body keeps a group beyond its end.
    @Test func failedWriteLeavesNoFileOpen() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/half.h5"
        struct Boom: Error {}
        var kept: H5Group?
        #expect(throws: Boom.self) {
            try H5File.createAtomically(path) { f in
                let g = try f.createGroup("model")
                try g.write("w", [Float](repeating: 1, count: 1 << 16), shape: [256, 256])
                try g.setAttribute("step", .int(3))
                kept = g
                throw Boom()
            }
        }
        #expect(!H5Library.openFileNames().contains { $0.hasPrefix(dir) })
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [])
        kept = nil
        // A successful write leaves nothing open either.
        try H5File.createAtomically(path) { f in try f.write("w", [Float](repeating: 2, count: 64), shape: [8, 8]) }
        #expect(!H5Library.openFileNames().contains { $0.hasPrefix(dir) })
        let file = try H5File.open(path)
        #expect(H5Library.openFileNames().contains(path))   // the check does see open files
        let w = try file.dataset("w")
        #expect(try w.read(Float.self) == [Float](repeating: 2, count: 64))
        #expect(w.chunkShape == [8, 8])
    }

    @Test func readWriteModeAddsToAFile() throws {
        let dir = TestFiles.scratch(); defer { TestFiles.cleanup(dir) }
        let path = dir + "/rw.h5"
        try H5File.createAtomically(path) { f in try f.write("a", [Float(1)], shape: [1]) }
        do {
            let f = try H5File.open(path, mode: .readWrite)
            try f.write("b", [Float(2)], shape: [1])
            try f.setAttribute("note", .string("added"))
        }
        let f = try H5File.open(path)
        #expect(try f.members() == ["a", "b"])
        #expect(try f.attribute("note") == .string("added"))
    }
}
