import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// Attention over packed sets: NumPy goldens, equality with the padded form under a key mask,
/// gradients for q, k and v (self- and cross-attention, sets of lengths 1, 3, 7), layouts.
final class FunctionalAttentionTests: XCTestCase {
    func testGolden() throws {
        let c = try GoldenCase("attention_self")
        let y = try Functional.packedAttention(query: c.input("q"), key: c.input("k"), value: c.input("v"),
                                               queryOffsets: c.indices("offsets"), numHeads: 2)
        assertMatches(y, try c.output("y"), tol: 1e-5, "self")
        let x = try GoldenCase("attention_cross")
        let z = try Functional.packedAttention(query: x.input("q"), key: x.input("k"), value: x.input("v"),
                                               queryOffsets: x.indices("q_offsets"), keyOffsets: x.indices("kv_offsets"),
                                               numHeads: 2, scale: 0.3)
        assertMatches(z, try x.output("y"), tol: 1e-5, "cross")
    }

    /// One set of one query and one key: softmax over a single key is 1, so the output is v.
    func testSingleKeyReturnsValue() throws {
        let v = try Tensor([Float(1), 2, 3, 4], shape: [1, 4])
        let y = try Functional.packedAttention(query: normalSample([1, 4], seed: 1), key: normalSample([1, 4], seed: 2),
                                               value: v, queryOffsets: offsetsFor([1]), numHeads: 2)
        XCTAssertEqual(y.toFloatArray(), [1, 2, 3, 4])
    }

    /// Packed attention equals attention on the padded form with padded keys masked, for self-
    /// and cross-attention, on enough work to run on every core.
    func testEqualsPaddedWithKeyMask() throws {
        let heads = 4, dh = 16
        let qLengths = [5, 17, 1, 33, 12, 40, 40, 3, 28, 9, 21, 36, 2, 40, 7, 30]
        let kLengths = [9, 2, 14, 33, 1, 40, 25, 6, 28, 19, 3, 36, 11, 8, 40, 30]
        for cross in [false, true] {
            let kl = cross ? kLengths : qLengths
            let tq = qLengths.reduce(0, +), tk = kl.reduce(0, +)
            let q = try normalSample([tq, heads * dh], seed: 81), k = try normalSample([tk, heads * dh], seed: 82)
            let v = try normalSample([tk, heads * dh], seed: 83)
            let qo = try offsetsFor(qLengths), ko = try offsetsFor(kl)
            let packed = try Functional.packedAttention(query: q, key: k, value: v, queryOffsets: qo,
                                                        keyOffsets: cross ? ko : nil, numHeads: heads)
            let reference = try paddedAttention(q, k, v, qo, ko, heads: heads, scale: 1 / Double(dh).squareRoot())
            assertValues(packed, reference.toFloatArray().map(Double.init), tol: 1e-5, cross ? "cross" : "self")
            // Gradients agree with the padded composite too.
            for t in [q, k, v] { try t.requiresGrad_() }
            let g = try normalSample([tq, heads * dh], seed: 84)
            let gp = try Tensor.autogradGrad(outputs: [Functional.packedAttention(query: q, key: k, value: v, queryOffsets: qo,
                                                                                  keyOffsets: ko, numHeads: heads).mul(g).sum()],
                                             inputs: [q, k, v])
            let gr = try Tensor.autogradGrad(outputs: [paddedAttention(q, k, v, qo, ko, heads: heads, scale: 1 / Double(dh).squareRoot())
                .mul(g).sum()], inputs: [q, k, v])
            for i in 0..<3 { assertValues(gp[i]!, gr[i]!.toFloatArray().map(Double.init), tol: 1e-4, "grad \(i) cross \(cross)") }
        }
    }

    func testGradientsSelfAttention() throws {
        let lengths = [1, 3, 7], t = 11, heads = 2, dh = 3
        let offsets = try offsetsFor(lengths)
        try gradCheck([try sample([t, heads * dh], seed: 85), try sample([t, heads * dh], seed: 86), try sample([t, heads * dh], seed: 87)]) {
            try Functional.packedAttention(query: $0[0], key: $0[1], value: $0[2], queryOffsets: offsets, numHeads: heads)
        }
        // [T, H, D] layout, custom scale.
        try gradCheck([try sample([t, heads, dh], seed: 88), try sample([t, heads, dh], seed: 89), try sample([t, heads, dh], seed: 90)]) {
            try Functional.packedAttention(query: $0[0], key: $0[1], value: $0[2], queryOffsets: offsets, scale: 0.7)
        }
        // q, k, v narrowed from one fused projection [T, 3*H*D]: strided rows read in place.
        try gradCheck([try sample([t, 3 * heads * dh], seed: 91)]) {
            let w = heads * dh
            return try Functional.packedAttention(query: $0[0].narrow(1, start: 0, length: w), key: $0[0].narrow(1, start: w, length: w),
                                                  value: $0[0].narrow(1, start: 2 * w, length: w), queryOffsets: offsets, numHeads: heads)
        }
    }

    func testGradientsCrossAttention() throws {
        let qo = try offsetsFor([1, 3, 7]), ko = try offsetsFor([4, 1, 2])
        // Values with a different head size (2) than queries and keys (3).
        try gradCheck([try sample([11, 6], seed: 92), try sample([7, 6], seed: 93), try sample([7, 4], seed: 94)]) {
            try Functional.packedAttention(query: $0[0], key: $0[1], value: $0[2], queryOffsets: qo, keyOffsets: ko, numHeads: 2)
        }
    }

    /// A set without keys gives zeros (and zero gradients); a set without queries leaves its
    /// keys and values without gradient.
    func testEmptySets() throws {
        let qo = try offsetsFor([2, 0, 3]), ko = try offsetsFor([0, 2, 3])
        let q = try normalSample([5, 4], seed: 95), k = try normalSample([5, 4], seed: 96), v = try normalSample([5, 4], seed: 97)
        for t in [q, k, v] { try t.requiresGrad_() }
        let y = try Functional.packedAttention(query: q, key: k, value: v, queryOffsets: qo, keyOffsets: ko, numHeads: 1)
        XCTAssertEqual(Array(y.toFloatArray()[0..<8]), [Float](repeating: 0, count: 8))
        let g = try Tensor.autogradGrad(outputs: [y.sum()], inputs: [q, k, v])
        XCTAssertEqual(Array(g[0]!.toFloatArray()[0..<8]), [Float](repeating: 0, count: 8))
        XCTAssertEqual(Array(g[1]!.toFloatArray()[0..<8]), [Float](repeating: 0, count: 8))
        XCTAssertEqual(Array(g[2]!.toFloatArray()[0..<8]), [Float](repeating: 0, count: 8))
        try gradCheck([try sample([5, 4], seed: 98), try sample([5, 4], seed: 99), try sample([5, 4], seed: 100)]) {
            try Functional.packedAttention(query: $0[0], key: $0[1], value: $0[2], queryOffsets: qo, keyOffsets: ko, numHeads: 2)
        }
    }

    func testErrors() throws {
        let q = try Tensor.zeros([4, 6]), o = try offsetsFor([1, 3])
        assertThrows("num_heads is required") { _ = try Functional.packedAttention(query: q, key: q, value: q, queryOffsets: o) }
        assertThrows("query width 6 (shape [4,6]) is not divisible by num_heads 4") {
            _ = try Functional.packedAttention(query: q, key: q, value: q, queryOffsets: o, numHeads: 4)
        }
        assertThrows("query offsets describe 2 sets but key/value offsets describe 1") {
            _ = try Functional.packedAttention(query: q, key: q, value: q, queryOffsets: o, keyOffsets: offsetsFor([4]), numHeads: 2)
        }
        assertThrows("offsets end at 3 but the packed tensor has 4 rows") {
            _ = try Functional.packedAttention(query: q, key: q, value: q, queryOffsets: offsetsFor([1, 2]), numHeads: 2)
        }
        assertThrows("query head size 3 and key head size 2 differ") {
            _ = try Functional.packedAttention(query: q, key: Tensor.zeros([4, 4]), value: q, queryOffsets: o, numHeads: 2)
        }
        assertThrows("head sizes must be at least 1") {
            _ = try Functional.packedAttention(query: Tensor.zeros([4, 0]), key: Tensor.zeros([4, 0]), value: q, queryOffsets: o, numHeads: 2)
        }
        assertThrows("needs a score matrix larger than 1024 MiB") {
            _ = try Functional.packedAttention(query: Tensor.zeros([12000, 1]), key: Tensor.zeros([12000, 1]), value: Tensor.zeros([12000, 1]),
                                               queryOffsets: offsetsFor([12000]), numHeads: 1)
        }
        assertThrows("key has 4 rows but value has 3") {
            _ = try Functional.packedAttention(query: q, key: q, value: Tensor.zeros([3, 6]), queryOffsets: o, numHeads: 2)
        }
    }

    /// The reference: unpack to [B, N, H*D], per head scores with padded keys set to -inf,
    /// softmax, product with the padded values, pack the real query rows back.
    private func paddedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ qo: Tensor, _ ko: Tensor,
                                 heads: Int, scale: Double) throws -> Tensor {
        let (pq, qmask) = try q.unpack(offsets: qo)
        let (pk, kmask) = try k.unpack(offsets: ko)
        let (pv, _) = try v.unpack(offsets: ko)
        let b = pq.shape[0], nq = pq.shape[1], nk = pk.shape[1], dh = q.shape[1] / heads, dv = v.shape[1] / heads
        let qh = try pq.reshape([b, nq, heads, dh]).permute([0, 2, 1, 3])
        let kh = try pk.reshape([b, nk, heads, dh]).permute([0, 2, 1, 3])
        let vh = try pv.reshape([b, nk, heads, dv]).permute([0, 2, 1, 3])
        let scores = try qh.matmul(kh.transpose(-1, -2)).mul(scale)                 // [B, H, Nq, Nk]
        let padded = try kmask.logicalNot().reshape([b, 1, 1, nk]).expand([b, heads, nq, nk])
        let p = try Functional.softmax(scores.maskedFill(padded, value: -.infinity), dim: -1)
        let o = try p.matmul(vh).permute([0, 2, 1, 3]).reshape([b, nq, heads * dv])
        return try o.pack(mask: qmask).packed
    }
}
