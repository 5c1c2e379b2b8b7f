import NN
import Tensors
import XCTest
import TestSupport

/// The downstream head against a plain-array computation of the MPMv2 classifier (Linear,
/// class token, one cross-attention block with one head, SwiGLU, LayerNorm, Linear), written
/// from the definition rather than from the modules; then packed sets, eval mode and gradients.
final class ClassAttentionClassifierTests: XCTestCase {
    typealias Matrix = [[Double]]

    func values(_ t: Tensor) -> [Double] { t.toFloatArray().map(Double.init) }
    func matrix(_ t: Tensor) -> Matrix {
        let v = values(t), c = t.shape.count == 1 ? 1 : t.shape[1]
        return stride(from: 0, to: v.count, by: c).map { Array(v[$0..<$0 + c]) }
    }
    /// x [n, in] times a Linear's weight [out, in]^T plus bias.
    func linear(_ x: Matrix, _ l: Linear) -> Matrix {
        let w = matrix(l.weight), b = l.bias.map(values) ?? [Double](repeating: 0, count: w.count)
        return x.map { row in w.indices.map { o in zip(w[o], row).reduce(b[o]) { $0 + $1.0 * $1.1 } } }
    }
    func layerNorm(_ x: Matrix, _ n: LayerNorm) -> Matrix {
        let g = n.weight.map(values), b = n.bias.map(values)
        return x.map { row in
            let mean = row.reduce(0, +) / Double(row.count)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(row.count)
            return row.indices.map { i in (row[i] - mean) / (variance + 1e-5).squareRoot() * (g?[i] ?? 1) + (b?[i] ?? 0) }
        }
    }
    func add(_ a: Matrix, _ b: Matrix) -> Matrix { zip(a, b).map { zip($0, $1).map(+) } }

    func reference(_ head: ClassAttentionClassifier, _ set: Matrix) -> [Double] {
        let h = linear(set, head.input)
        let layer = head.pool.layers.modules[0] as! TransformerLayer
        var g = matrix(head.pool.token)                                     // [1, H]
        let q = linear(layerNorm(g, layer.children[0].module as! LayerNorm), layer.attn.q!)
        let kv = linear(h, layer.attn.kv!)
        let width = q[0].count
        let k = kv.map { Array($0[0..<width]) }, v = kv.map { Array($0[width...]) }
        let logits = k.map { zip($0, q[0]).reduce(0) { $0 + $1.0 * $1.1 } / Double(width).squareRoot() }
        let top = logits.max()!, e = logits.map { exp($0 - top) }, z = e.reduce(0, +)
        let attended = (0..<width).map { c in v.indices.reduce(0) { $0 + e[$1] / z * v[$1][c] } }
        g = add(g, linear([attended], layer.attn.out))
        let ab = linear(layerNorm(g, layer.children[2].module as! LayerNorm), layer.ff.lin1)[0]
        let half = ab.count / 2
        let gated = (0..<half).map { i in ab[i] / (1 + exp(-ab[i])) * ab[half + i] }
        g = add(g, linear([gated], layer.ff.lin2))
        return linear(layerNorm(g, head.norm), head.output)[0]
    }

    func testMatchesThePlainComputationOnPackedSets() throws {
        var o = ClassAttentionClassifier.Options()
        o.hidden = 8; o.heads = 1; o.depth = 1
        let head = try ClassAttentionClassifier(inputDim: 5, classes: 3, options: o)
        head.eval()
        let x = try Tensor.randn([7, 5], generator: Generator(seed: 3))
        let logits = try head(x, offsets: offsetsFor([3, 4]))
        XCTAssertEqual(logits.shape, [2, 3])
        let rows = matrix(x)
        let expected = reference(head, Array(rows[0..<3])) + reference(head, Array(rows[3...]))
        for (a, b) in zip(values(logits), expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        // A set's logits do not depend on the other sets, nor on the order of its elements.
        let reversed = try Tensor(Array(rows[0..<3].reversed()).flatMap { $0.map(Float.init) }, shape: [3, 5])
        let alone = try head(reversed, offsets: offsetsFor([3]))
        for (a, b) in zip(values(alone), expected[0..<3]) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testDropoutOnlyInTrainModeAndGradients() throws {
        let head = try ClassAttentionClassifier(inputDim: 4, classes: 1)
        XCTAssertEqual(try head(Tensor.randn([5, 4]), offsets: offsetsFor([2, 3])).shape, [2, 1], "one logit")
        let x = try Tensor.randn([6, 4], generator: Generator(seed: 5)), off = try offsetsFor([2, 4])
        head.eval()
        XCTAssertEqual(try head(x, offsets: off).toFloatArray(), try head(x, offsets: off).toFloatArray(), "eval is deterministic")
        try gradCheck([("x", x), ("input.weight", head.input.weight)], eps: 1e-2, tol: 3e-2, maxPerTensor: 12) {
            try head(x, offsets: off).square().sum()
        }
        XCTAssertThrowsError(try head(Tensor.randn([3, 5]), offsets: offsetsFor([3]))) { e in
            XCTAssertTrue("\(e)".contains("x must be packed [T, 4]"), "\(e)")
        }
    }
}
