import NN
import Tensors
import XCTest
import TestSupport

/// Gradient checks through every module, on packed sets of mixed lengths (one of length 1).
final class GradientTests: XCTestCase {
    let D = 8
    var T: Int { mixedLengths.reduce(0, +) }

    override func setUp() { manualSeed(7) }

    func input(_ rows: Int? = nil, _ width: Int? = nil) throws -> Tensor {
        try Tensor.randn([rows ?? T, width ?? D])
    }

    func testLinear() throws {
        let m = try Linear(D, 5), x = try input()
        try gradCheck(probes(m, [("x", x)])) { try m(x) }
    }

    func testLinearOnBatchedInput() throws {
        let m = try Linear(4, 3, bias: false), x = try Tensor.randn([2, 3, 4])
        try gradCheck(probes(m, [("x", x)])) { try m(x) }
    }

    func testEmbedding() throws {
        let m = try Embedding(6, D)
        let ids = try Tensor([0, 5, 2, 2, 1] as [Int64], shape: [5])
        try gradCheck(probes(m, [])) { try m(ids) }
    }

    func testLayerNorm() throws {
        let m = try LayerNorm(D), x = try input()
        try withNoGrad { try m.weight!.copy_(Tensor.randn([D])); try m.bias!.copy_(Tensor.randn([D])) }
        try gradCheck(probes(m, [("x", x)])) { try m(x) }
    }

    func testActivationsAndMLP() throws {
        for act in Activation.Kind.allCases {
            let m = try MLP(inFeatures: D, outFeatures: 3, hidden: 6, depth: 2, activation: act, norm: true)
            let x = try input()
            try gradCheck(probes(m, [("x", x)])) { try m(x) }
        }
    }

    func testDropoutInTrainModeWithFixedSeed() throws {
        let m = try Dropout(0.3), x = try input()
        // The same seed gives the same mask in every evaluation, so the function is smooth.
        try gradCheck([("x", x)]) { manualSeed(99); return try m(x) }
    }

    func testSwiGLU() throws {
        let m = try SwiGLU(dim: D, mult: 2), x = try input()
        try gradCheck(probes(m, [("x", x)])) { try m(x) }
    }

    func testSelfAttention() throws {
        let m = try MultiheadAttention(dim: D, heads: 2), x = try input(), o = try offsetsFor(mixedLengths)
        try gradCheck(probes(m, [("x", x)])) { try m(x, offsets: o) }
    }

    func testSelfAttentionWithDropoutPath() throws {
        let m = try MultiheadAttention(dim: D, heads: 2, dropout: 0.25), x = try input(), o = try offsetsFor(mixedLengths)
        try gradCheck(probes(m, [("x", x)])) { manualSeed(5); return try m(x, offsets: o) }
    }

    func testCrossAttention() throws {
        let m = try MultiheadAttention(dim: D, heads: 2, cross: true, kvDim: 6)
        let x = try input(), o = try offsetsFor(mixedLengths)
        let kvLengths = [1, 4, 2, 3]
        let kv = try Tensor.randn([kvLengths.reduce(0, +), 6]), ko = try offsetsFor(kvLengths)
        try gradCheck(probes(m, [("x", x), ("kv", kv)])) { try m(x, offsets: o, kv: kv, kvOffsets: ko) }
    }

    func layerOptions(context: Int? = nil) -> TransformerOptions {
        var o = TransformerOptions()
        o.layerscaleInit = 0.5   // large enough that the branches matter in the check
        o.contextDim = context
        return o
    }

    func testTransformerLayer() throws {
        let m = try TransformerLayer(dim: D, heads: 2, options: layerOptions())
        let x = try input(), o = try offsetsFor(mixedLengths)
        try gradCheck(probes(m, [("x", x)])) { try m(x, offsets: o) }
    }

    func testTransformerLayerWithAdaptiveNorm() throws {
        let m = try TransformerLayer(dim: D, heads: 2, options: layerOptions(context: 3))
        // Move the zero-initialised modulation off zero so its gradient path is exercised.
        for (name, p) in m.namedParameters() where name.contains("modulation") {
            try withNoGrad { try p.copy_(Tensor.randn(p.shape).mul(0.3)) }
        }
        let x = try input(), o = try offsetsFor(mixedLengths), c = try Tensor.randn([mixedLengths.count, 3])
        try gradCheck(probes(m, [("x", x), ("context", c)])) { try m(x, offsets: o, context: c) }
    }

    func testTransformerEncoderWithRegisters() throws {
        var opts = layerOptions()
        opts.ffMult = 1
        let m = try TransformerEncoder(dim: D, depth: 2, heads: 2, registers: 2, registerStd: 1, options: opts)
        let x = try input(), o = try offsetsFor(mixedLengths)
        try gradCheck(probes(m, [("x", x)]), maxPerTensor: 8) { try m(x, offsets: o) }
    }

    func testTransformerDecoderLayer() throws {
        let m = try TransformerDecoderLayer(dim: D, heads: 2, kvDim: 4, options: layerOptions())
        let x = try input(), o = try offsetsFor(mixedLengths)
        let memLengths = [2, 1, 1, 3]
        let mem = try Tensor.randn([7, 4]), mo = try offsetsFor(memLengths)
        try gradCheck(probes(m, [("x", x), ("memory", mem)]), maxPerTensor: 12) {
            try m(x, offsets: o, memory: mem, memoryOffsets: mo)
        }
    }

    func testClassAttentionPooling() throws {
        var opts = TransformerOptions()
        opts.ffMult = 1
        let m = try ClassAttentionPooling(dim: D, heads: 2, depth: 2, options: opts)
        let x = try input(), o = try offsetsFor(mixedLengths)
        try gradCheck(probes(m, [("x", x)]), maxPerTensor: 12) { try m(x, offsets: o) }
    }

    func testSequentialPassesOffsetsToSetModules() throws {
        let m = Sequential([try Linear(5, D), try TransformerLayer(dim: D, heads: 2, options: layerOptions()), try LayerNorm(D)])
        let x = try input(nil, 5), o = try offsetsFor(mixedLengths)
        try gradCheck(probes(m, [("x", x)]), maxPerTensor: 8) { try m(x, o) }
    }

    func testTimeEmbeddings() throws {
        let t = try Tensor.rand([4])
        let cosine = try CosineEncoding(dim: 6)
        try gradCheck([("t", t)], eps: 1e-4, tol: 3e-2) { try cosine(t) }
        let fourier = try FourierEmbedding(dim: 6, scale: 1)
        try gradCheck([("t", t)], eps: 1e-4, tol: 3e-2) { try fourier(t) }
    }

    func testLayerScale() throws {
        let m = try LayerScale(dim: D, initValue: 0.1), x = try input()
        try gradCheck(probes(m, [("x", x)])) { try m(x) }
    }
}
