import Foundation
import NN
import Tensors
import Testing
@testable import JetData

/// The value file (mpm.save/mpm.load) from Swift, with no Lua state: a model saved and loaded into a fresh
/// one, nested values round-tripped, and a mismatched model refused clearly.
@Suite("Value files from Swift")
struct ValueFileTests {
    static func model(hidden: Int = 4) throws -> Sequential {
        Sequential([try Linear(3, hidden), Activation(.silu), try Linear(hidden, 2)])
    }

    @Test func modelRoundTripsWithoutLua() throws {
        let dir = TestFiles.scratch()
        defer { TestFiles.cleanup(dir) }
        let path = dir + "/model.h5"
        let saved = try Self.model()
        try ValueFile.save(saved, to: path)
        let fresh = try Self.model()
        #expect(fresh.stateDict().map { $0.tensor.toFloatArray() } != saved.stateDict().map { $0.tensor.toFloatArray() })
        let (missing, unexpected) = try ValueFile.load(into: fresh, from: path)
        #expect(missing.isEmpty && unexpected.isEmpty)
        let a = saved.stateDict(), b = fresh.stateDict()
        #expect(a.map(\.name) == b.map(\.name))
        for (x, y) in zip(a, b) {
            #expect(x.tensor.shape == y.tensor.shape)
            #expect(x.tensor.toFloatArray() == y.tensor.toFloatArray(), "\(x.name) differs after loading")
        }
        let x = try Tensor.randn([5, 3])
        #expect(try saved(x).toFloatArray() == fresh(x).toFloatArray())
    }

    @Test func mismatchedModelGivesAClearError() throws {
        let dir = TestFiles.scratch()
        defer { TestFiles.cleanup(dir) }
        let path = dir + "/model.h5"
        try ValueFile.save(try Self.model(), to: path)
        let other = try Self.model(hidden: 5)
        do {
            try ValueFile.load(into: other, from: path)
            Issue.record("loading a hidden=4 file into a hidden=5 model must fail")
        } catch let e as TensorError {
            #expect(e.message.contains("load_state_dict: the state dict does not fit"), "\(e.message)")
            #expect(e.message.contains("1.weight (expected float32 [5,3], got float32 [4,3])"), "\(e.message)")
        }
    }

    @Test func nestedValuesRoundTrip() throws {
        let dir = TestFiles.scratch()
        defer { TestFiles.cleanup(dir) }
        let path = dir + "/nested.h5"
        let weights = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        let node: ValueFile.Node = .table([
            (.string("config"), .table([(.string("name"), .string("toy")), (.string("on"), .bool(true)),
                                        (.string("sizes"), .ints([3, 4]))])),
            (.string("step"), .int(1000)),
            (.string("w"), .tensor(weights)),
        ])
        try ValueFile.save(node, to: path)
        guard case .table(let entries) = try ValueFile.load(path) else { Issue.record("not a table"); return }
        let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.0.name, $0.1) })
        guard case .int(1000)? = byName["step"] else { Issue.record("step: \(String(describing: byName["step"]))"); return }
        guard case .tensor(let w)? = byName["w"] else { Issue.record("w is not a tensor"); return }
        #expect(w.shape == [2, 2] && w.toFloatArray() == [1, 2, 3, 4])
        guard case .table(let config)? = byName["config"] else { Issue.record("config is not a table"); return }
        let c = Dictionary(uniqueKeysWithValues: config.map { ($0.0.name, $0.1) })
        guard case .bool(true)? = c["on"], case .string("toy")? = c["name"], case .ints([3, 4])? = c["sizes"] else {
            Issue.record("config came back as \(config)"); return
        }
    }

    @Test func foreignFileIsRefused() throws {
        let dir = TestFiles.scratch()
        defer { TestFiles.cleanup(dir) }
        let path = dir + "/plain.h5"
        try H5File.createAtomically(path) { file in try file.setAttribute("x", .int(1)) }
        TestFiles.expectError(["is an HDF5 file but not an mpmlua checkpoint"]) { _ = try ValueFile.load(path) }
    }
}
