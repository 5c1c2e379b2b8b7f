import NN
import Tensors
import XCTest
import TestSupport

final class ModuleTests: XCTestCase {
    override func setUp() { manualSeed(3) }

    func testNamedParametersAreDottedAndOrdered() throws {
        var o = TransformerOptions()
        o.layerscaleInit = 1e-3
        let enc = try TransformerEncoder(dim: 8, depth: 2, heads: 2, registers: 3, options: o)
        let names = enc.namedParameters().map { $0.name }
        XCTAssertEqual(names.first, "registers")
        XCTAssertTrue(names.contains("layers.1.attn.qkv.weight"))
        XCTAssertTrue(names.contains("layers.2.ls2.gamma"))
        XCTAssertTrue(names.contains("final_norm.weight"))
        XCTAssertEqual(names.count, Set(names).count)
        XCTAssertEqual(try enc.registers!.shape, [3, 8])
    }

    func testPyTorchDefaultInits() throws {
        let lin = try Linear(100, 50)
        let bound = Float(1 / Double(100).squareRoot())
        let w = lin.weight.toFloatArray()
        XCTAssertLessThanOrEqual(w.map { Swift.abs($0) }.max()!, bound)
        XCTAssertGreaterThan(w.map { Swift.abs($0) }.max()!, 0.9 * bound)   // actually spans the range
        let norm = try LayerNorm(4)
        XCTAssertEqual(norm.weight!.toFloatArray(), [1, 1, 1, 1])
        XCTAssertEqual(norm.bias!.toFloatArray(), [0, 0, 0, 0])
        let emb = try Embedding(200, 50).weight.toFloatArray()
        let mean = emb.reduce(0, +) / Float(emb.count)
        let std = (emb.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(emb.count)).squareRoot()
        XCTAssertEqual(std, 1, accuracy: 0.05)
        let ls = try LayerScale(dim: 3, initValue: 1e-3)
        XCTAssertEqual(ls.gamma.toFloatArray(), [Float](repeating: 1e-3, count: 3))
    }

    func testStateDictRoundTripReproducesOutputs() throws {
        let a = try TransformerLayer(dim: 8, heads: 2), b = try TransformerLayer(dim: 8, heads: 2)
        let x = try Tensor.randn([6, 8]), o = try offsetsFor([4, 2])
        XCTAssertNotEqual(try a(x, offsets: o).toFloatArray(), try b(x, offsets: o).toFloatArray())
        var sd: [String: Tensor] = [:]
        for (n, t) in a.stateDict() { sd[n] = try t.clone() }
        try b.loadStateDict(sd)
        XCTAssertEqual(try a(x, offsets: o).toFloatArray(), try b(x, offsets: o).toFloatArray())
    }

    func testStrictLoadListsEveryProblemAndLoadsNothing() throws {
        let m = try Linear(3, 2)
        let before = m.weight.toFloatArray()
        let sd: [String: Tensor] = ["weight": try Tensor.zeros([2, 4]), "extra": try Tensor.zeros([1])]
        XCTAssertThrowsError(try m.loadStateDict(sd)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("missing keys: bias"), s)
            XCTAssertTrue(s.contains("unexpected keys: extra"), s)
            XCTAssertTrue(s.contains("mis-shaped keys: weight (expected float32 [2,3], got float32 [2,4])"), s)
        }
        XCTAssertEqual(m.weight.toFloatArray(), before)
        // Non-strict: loads what fits, reports the rest.
        let (missing, unexpected) = try m.loadStateDict(["weight": try Tensor.zeros([2, 3]), "extra": try Tensor.zeros([1])], strict: false)
        XCTAssertEqual(missing, ["bias"])
        XCTAssertEqual(unexpected, ["extra"])
        XCTAssertEqual(m.weight.toFloatArray(), [0, 0, 0, 0, 0, 0])
    }

    func testTrainEvalPropagatesAndDropoutObeys() throws {
        var o = TransformerOptions()
        o.dropout = 0.5
        let m = Sequential([try Dropout(0.5), try TransformerLayer(dim: 4, heads: 1, options: o)])
        m.eval()
        var all: [Bool] = []
        m.visit(prefix: "") { _, c in all.append(c.training) }
        XCTAssertFalse(all.contains(true))
        let x = try Tensor.randn([5, 4]), off = try offsetsFor([5])
        XCTAssertEqual(try m(x, off).toFloatArray(), try m(x, off).toFloatArray())
        m.train()
        XCTAssertNotEqual(try m(x, off).toFloatArray(), try m(x, off).toFloatArray())
        let d = try Dropout(0.25)
        let y = try d(Tensor.ones([20000])).toFloatArray()
        let zeros = y.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / 20000, 0.25, accuracy: 0.02)
        XCTAssertTrue(y.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.75) < 1e-6 })
    }

    func testEncoderRegistersLayout() throws {
        let enc = try TransformerEncoder(dim: 4, depth: 1, heads: 1, registers: 2, keepRegisters: true)
        let x = try Tensor.randn([4, 4]), o = try offsetsFor([1, 3])
        let out = try enc.forward([x, o])
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out[0].shape, [8, 4])
        XCTAssertEqual(out[1].toInt64Array(), [0, 3, 8])
        // Stripping gives the input layout, equal to the kept output minus the register rows.
        let stripped = try TransformerEncoder(dim: 4, depth: 1, heads: 1, registers: 2)
        try stripped.loadStateDict(Dictionary(uniqueKeysWithValues: enc.stateDict().map { ($0.name, $0.tensor) }))
        let y = try stripped(x, offsets: o)
        XCTAssertEqual(y.shape, [4, 4])
        let kept = out[0].toFloatArray()
        XCTAssertEqual(y.toFloatArray(), Array(kept[8..<12]) + Array(kept[20..<32]))
    }

    func testClassAttentionPoolingShapeAndIndependence() throws {
        let pool = try ClassAttentionPooling(dim: 8, heads: 2)
        let x = try Tensor.randn([6, 8]), o = try offsetsFor([1, 5])
        let v = try pool(x, offsets: o)
        XCTAssertEqual(v.shape, [2, 8])
        let alone = try pool(x.narrow(0, start: 0, length: 1), offsets: offsetsFor([1]))
        // Equal up to rounding: BLAS blocks a 1-row and a 2-row product differently.
        for (a, b) in zip(alone.toFloatArray(), try v.narrow(0, start: 0, length: 1).toFloatArray()) {
            XCTAssertEqual(a, b, accuracy: 1e-5)
        }
    }

    func testAdaptiveNormStartsAsPlainNorm() throws {
        var o = TransformerOptions()
        o.contextDim = 3
        let ada = try AdaptiveLayerNorm(dim: 4, contextDim: 3)
        let x = try Tensor.randn([5, 4]), off = try offsetsFor([2, 3])
        let y = try ada(x, offsets: off, context: Tensor.randn([2, 3]))
        let plain = try NNOps.layerNorm(x, weight: nil, bias: nil, eps: 1e-5)
        XCTAssertEqual(y.toFloatArray(), plain.toFloatArray())
        let layer = try TransformerLayer(dim: 4, heads: 2, options: o)
        XCTAssertThrowsError(try layer(x, offsets: off)) { e in XCTAssertTrue("\(e)".contains("needs a context"), "\(e)") }
    }

    func testCosineEncodingFormula() throws {
        let enc = try CosineEncoding(dim: 3)
        let y = try enc(Tensor([0.5] as [Float], shape: [1])).toFloatArray()
        for k in 0..<3 {
            XCTAssertEqual(Double(y[k]), cos(Double.pi * exp(Double(k)) * 0.5), accuracy: 1e-5)
        }
        let lin = try CosineEncoding(dim: 2, minValue: -1, maxValue: 1, scaling: .linear)
        let z = try lin(Tensor([[0.0]] .flatMap { $0 }.map(Float.init), shape: [1, 1])).toFloatArray()
        XCTAssertEqual(Double(z[0]), cos(Double.pi * 1 * 0.5), accuracy: 1e-6)
        XCTAssertEqual(Double(z[1]), cos(Double.pi * 2 * 0.5), accuracy: 1e-6)
    }

    func testFourierEmbeddingIsABuffer() throws {
        let emb = try FourierEmbedding(dim: 8)
        XCTAssertTrue(emb.parameters().isEmpty)
        XCTAssertEqual(emb.stateDict().map { $0.name }, ["frequencies"])
        XCTAssertEqual(try emb(Tensor.rand([3])).shape, [3, 8])
    }

    func testTreeDescriptionCountsParameters() throws {
        let mlp = try MLP(inFeatures: 2, outFeatures: 1, hidden: 4, depth: 1)
        let tree = mlp.treeDescription
        XCTAssertTrue(tree.hasPrefix("MLP(in=2, out=1, hidden=4, depth=1)  [17 params]"), tree)
        XCTAssertTrue(tree.contains("(1): Linear(in_features=2, out_features=4, bias=true)  [12 params]"), tree)
        XCTAssertEqual(formatCount(1234567), "1,234,567")
    }

    func testArgumentErrorsNameTheModule() throws {
        let layer = try TransformerLayer(dim: 4, heads: 2)
        XCTAssertThrowsError(try layer.forward([try Tensor.randn([3, 4])])) { e in
            XCTAssertEqual("\(e)", "TransformerLayer: expected arguments (x, offsets) but got 1")
        }
        let lin = try Linear(3, 2)
        XCTAssertThrowsError(try lin(try Tensor.randn([2, 4]))) { e in
            XCTAssertTrue("\(e)".contains("Linear(3 -> 2): input has shape [2,4], expected last dim 3"), "\(e)")
        }
        let emb = try Embedding(3, 2)
        XCTAssertThrowsError(try emb(try Tensor([3] as [Int64], shape: [1]))) { e in
            XCTAssertTrue("\(e)".contains("Embedding(3, 2)"), "\(e)")
        }
        XCTAssertThrowsError(try ModuleList([lin]).forward([])) { e in XCTAssertTrue("\(e)".contains("not callable")) }
    }

    /// A container refuses a module whose tree holds it (it would recurse forever in forward,
    /// printing and every walk); the refused append changes nothing.
    func testContainersRefuseCycles() throws {
        let lin = try Linear(8, 8)
        let s = Sequential([lin])
        XCTAssertThrowsError(try s.append(s)) { e in
            XCTAssertEqual("\(e)", "Sequential:append: adding this module would make a cycle (a module cannot contain itself)")
        }
        let a = Sequential([]), b = ModuleList()
        try a.append(b)
        XCTAssertThrowsError(try b.append(a)) { e in
            XCTAssertEqual("\(e)", "ModuleList:append: adding this module would make a cycle (a module cannot contain itself)")
        }
        let outer = Sequential([Sequential([s])])
        XCTAssertThrowsError(try s.append(outer)) { e in XCTAssertTrue("\(e)".contains("would make a cycle"), "\(e)") }
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(b.count, 0)
        XCTAssertEqual(try s(try Tensor.randn([4, 8])).shape, [4, 8])
        // Sharing one module twice is not a cycle.
        try s.append(lin)
        XCTAssertEqual(s.count, 2)
        XCTAssertTrue(outer.contains(lin))
        XCTAssertFalse(lin.contains(outer))
        XCTAssertEqual(outer.treeDescription.split(separator: "\n").count, 5)
    }
}
