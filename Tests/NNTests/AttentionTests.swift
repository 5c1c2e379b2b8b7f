import Foundation
import NN
import Tensors
import XCTest
import TestSupport

/// Packed attention against two independent references: padded attention with a key mask
/// (batched, written here with tensor ops), and a NumPy golden file (Golden/).
final class AttentionTests: XCTestCase {
    override func setUp() { manualSeed(11) }

    /// Padded reference: [B, N, H, hd] with -inf on padded keys, one batched product.
    func paddedAttention(q: Tensor, k: Tensor, v: Tensor, qOffsets: Tensor, kOffsets: Tensor, heads: Int) throws -> Tensor {
        let D = q.shape[1], hd = D / heads
        let (qp, qMask) = try q.unpack(offsets: qOffsets)
        let (kp, kMask) = try k.unpack(offsets: kOffsets)
        let (vp, _) = try v.unpack(offsets: kOffsets)
        let B = qp.shape[0], N = qp.shape[1], M = kp.shape[1]
        let qh = try qp.reshape([B, N, heads, hd]).permute([0, 2, 1, 3])
        let kh = try kp.reshape([B, M, heads, hd]).permute([0, 2, 3, 1])
        let vh = try vp.reshape([B, M, heads, hd]).permute([0, 2, 1, 3])
        let scores = try qh.matmul(kh).mul(1 / Double(hd).squareRoot())          // [B, H, N, M]
        let padKey = try kMask.logicalNot().reshape([B, 1, 1, M]).expand([B, heads, N, M]).contiguous()
        let masked = try scores.maskedFill(padKey, value: -Double.infinity)
        let w = try NNOps.softmax(masked, dim: -1)
        let out = try w.matmul(vh).permute([0, 2, 1, 3]).reshape([B, N, D])
        return try out.pack(mask: qMask).packed
    }

    func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.toFloatArray(), b.toFloatArray()).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    func testPackedEqualsPaddedWithKeyMask() throws {
        for (ql, kl, D, H) in [([3, 1, 5, 2], [3, 1, 5, 2], 8, 2), ([1, 6, 2], [4, 1, 7], 12, 3), ([1], [1], 4, 1)] {
            let q = try Tensor.randn([ql.reduce(0, +), D])
            let k = try Tensor.randn([kl.reduce(0, +), D]), v = try Tensor.randn([kl.reduce(0, +), D])
            let qo = try offsetsFor(ql), ko = try offsetsFor(kl)
            let packed = try PackedAttention.attend(q: q, k: k, v: v, queryOffsets: qo, keyOffsets: ko, heads: H)
            let padded = try paddedAttention(q: q, k: k, v: v, qOffsets: qo, kOffsets: ko, heads: H)
            XCTAssertEqual(packed.shape, padded.shape)
            XCTAssertLessThanOrEqual(maxDiff(packed, padded), 1e-5, "lengths \(ql) / \(kl)")
        }
    }

    func testFusedKernelEqualsCompositePath() throws {
        // Modules use the fused kernel without dropout and the composite with it: both agree.
        let ql = [3, 1, 4], kl = [2, 5, 1]
        let q = try Tensor.randn([8, 6]).requiresGrad_(), k = try Tensor.randn([8, 6]).requiresGrad_()
        let v = try Tensor.randn([8, 6]).requiresGrad_()
        let qo = try offsetsFor(ql), ko = try offsetsFor(kl)
        let fused = try PackedAttention.attend(q: q, k: k, v: v, queryOffsets: qo, keyOffsets: ko, heads: 3)
        let composite = try PackedAttention.attendComposite(q: q, k: k, v: v, queryOffsets: qo, keyOffsets: ko, heads: 3)
        XCTAssertLessThanOrEqual(maxDiff(fused, composite), 1e-5)
        let w = try Tensor.randn([8, 6])
        let gf = try Tensor.autogradGrad(outputs: [fused.mul(w).sum()], inputs: [q, k, v])
        let gc = try Tensor.autogradGrad(outputs: [composite.mul(w).sum()], inputs: [q, k, v])
        for i in 0..<3 { XCTAssertLessThanOrEqual(maxDiff(gf[i]!, gc[i]!), 1e-5, "gradient \(i)") }
    }

    func testPaddingDoesNotLeak() throws {
        // Changing one set's rows must not change another set's output.
        let lengths = [2, 3]
        let x = try Tensor.randn([5, 4]), o = try offsetsFor(lengths)
        let attn = try MultiheadAttention(dim: 4, heads: 2)
        let y1 = try attn(x, offsets: o)
        let x2 = try x.clone()
        try x2.setSlice([.range(2, 5, 1)], value: Tensor.randn([3, 4]))
        let y2 = try attn(x2, offsets: o)
        XCTAssertEqual(try y1.narrow(0, start: 0, length: 2).toFloatArray(), try y2.narrow(0, start: 0, length: 2).toFloatArray())
    }

    func testMatchesNumPyGolden() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/packed_attention.json")
        let data = try Data(contentsOf: url)
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertEqual(Set(cases.keys), ["self", "cross"])
        for (name, c) in cases {
            let D = c["dim"] as! Int, H = c["heads"] as! Int
            func floats(_ key: String) throws -> Tensor {
                let v = (c[key] as! [Double]).map(Float.init)
                return try Tensor(v, shape: [v.count / D, D])
            }
            func offsets(_ key: String) throws -> Tensor {
                let v = (c[key] as! [Int]).map(Int64.init)
                return try Tensor(v, shape: [v.count])
            }
            let out = try PackedAttention.attend(q: floats("q"), k: floats("k"), v: floats("v"), queryOffsets: offsets("q_offsets"),
                                                 keyOffsets: offsets("k_offsets"), heads: H)
            XCTAssertLessThanOrEqual(maxDiff(out, try floats("expected")), 1e-5, name)
        }
    }

    func testEmptySets() throws {
        // An empty query set adds no rows; a query set with no keys gets zeros.
        let q = try Tensor.randn([3, 4]), k = try Tensor.randn([2, 4])
        let out = try PackedAttention.attend(q: q, k: k, v: k, queryOffsets: offsetsFor([0, 2, 1]), keyOffsets: offsetsFor([1, 0, 1]), heads: 2)
        XCTAssertEqual(out.shape, [3, 4])
        XCTAssertEqual(try out.narrow(0, start: 0, length: 2).toFloatArray(), [Float](repeating: 0, count: 8))
    }

    func testBadOffsetsAreErrors() throws {
        let attn = try MultiheadAttention(dim: 4, heads: 2)
        let x = try Tensor.randn([5, 4])
        XCTAssertThrowsError(try attn(x, offsets: offsetsFor([2, 2]))) { e in
            XCTAssertTrue("\(e)".contains("end at 4 but the packed tensor has 5 rows"), "\(e)")
        }
        XCTAssertThrowsError(try attn(x, offsets: Tensor([0, 5] as [Float], shape: [2]))) { e in
            XCTAssertTrue("\(e)".contains("int64"), "\(e)")
        }
        XCTAssertThrowsError(try MultiheadAttention(dim: 6, heads: 4)) { e in
            XCTAssertTrue("\(e)".contains("not divisible"), "\(e)")
        }
    }
}
