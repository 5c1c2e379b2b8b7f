import Foundation
import TestSupport
import XCTest
@testable import Tensors

/// bf16 products (Precision.swift, BF16.swift, Products.swift). The rounding is checked against
/// hand-computed bit patterns on every machine; the products against fp32 products of the
/// rounded inputs where the CPU has bf16 instructions, and against plain fp32 where it falls back.
///
/// Tolerances come from bf16's 8 significant bits: rounding to nearest moves a value by at most
/// u = 2^-8 of itself, so a product of two rounded factors is off by at most (2u + u^2)|a b|, and
/// a sum of K such products by (2u + u^2) sum |a b|: the bound grows with K only through
/// sum |a b| (K times a typical term when every term has the same sign; about sqrt(K) times when
/// signs are random, the typical but not the worst case, so the tests use the worst case,
/// element by element, from |A| |B|). fp32 accumulation adds at most K 2^-24 sum |a b| per sum
/// (2K 2^-24 between two different summation orders).
final class PrecisionTests: XCTestCase {
    let u: Float = 1.0 / 256

    func testRoundingMatchesHandComputedBits() {
        let cases: [(UInt32, UInt16, String)] = [
            (0x3F80_0000, 0x3F80, "1 is exact"),
            (0xC020_0000, 0xC020, "-2.5 is exact"),
            (0x3F80_8000, 0x3F80, "1 + 2^-8: a tie, to the even 1"),
            (0x3F81_8000, 0x3F82, "1 + 3 2^-8: a tie, to the even 1 + 2^-6"),
            (0x3F80_8001, 0x3F81, "just above the tie rounds up"),
            (0x3F80_7FFF, 0x3F80, "just below the tie rounds down"),
            (0x4049_0FDB, 0x4049, "pi -> 3.140625"),
            (0x3DCC_CCCD, 0x3DCD, "0.1 -> 0.10009765625"),
            (0x7F7F_FFFF, 0x7F80, "the largest float rounds to infinity"),
            (0x7F80_0000, 0x7F80, "infinity stays"),
            (0xFF80_0000, 0xFF80, "-infinity stays"),
            (0x7FC0_0000, 0x7FC0, "quiet NaN stays"),
            (0x7F80_0001, 0x7FC0, "a signalling NaN whose payload is in the low bits stays a NaN"),
            (0x0000_8000, 0x0000, "a subnormal tie, to the even 0"),
            (0x0001_8000, 0x0002, "a subnormal tie, to the even 2"),
            (0x8000_0000, 0x8000, "-0 stays"),
        ]
        for (bits, expected, what) in cases {
            XCTAssertEqual(BF16.round(Float(bitPattern: bits)), expected, what)
        }
        XCTAssertEqual(BF16.float(0x3F81), 1.0078125)
        XCTAssertEqual(BF16.rounded(0.1), 0.10009765625)
    }

    /// Whole operands: the portable loop equals the scalar rounding everywhere; the AVX512_BF16
    /// instruction, where the CPU has it, equals it too except that subnormals become zero.
    func testBufferRoundingEqualsScalarAndStaysWithinHalfAnUlp() throws {
        // Rows that are not whole vectors (tails of 13 and of 27 = 16 + 11), apart by more than their width.
        for (cols, ld) in [(45, 51), (59, 64)] {
            let rows = 37
            var source = try normalSample([rows * ld], seed: 5, scale: 3).toFloatArray()
            source[3] = .nan; source[20] = .infinity; source[40] = -0.0; source[47] = Float(bitPattern: 0x0000_1C84)   // subnormal
            for instructions in BF16.hasInstructions ? [false, true] : [false] {
                var out = [UInt16](repeating: 0, count: rows * cols)
                source.withUnsafeBufferPointer { s in
                    out.withUnsafeMutableBufferPointer {
                        BF16.round(s.baseAddress!, rows: rows, cols: cols, ld: ld, into: $0.baseAddress!, instructions: instructions)
                    }
                }
                for r in 0..<rows {
                    for c in 0..<cols {
                        let x = source[r * ld + c], b = out[r * cols + c]
                        let expected = instructions && x.isSubnormal ? BF16.round(x.sign == .minus ? -0.0 : 0) : BF16.round(x)
                        XCTAssertEqual(b, expected, "row \(r) col \(c), instructions \(instructions)")
                        if x.isFinite && x.isNormal {
                            XCTAssertLessThanOrEqual(Swift.abs(BF16.float(b) - x), u * Swift.abs(x), "\(x)")
                        }
                    }
                }
            }
        }
    }

    func testScopesNestPerThreadAndReachTheWorkers() throws {
        XCTAssertEqual(Precision.current, .fp32)
        var seen = [Precision](repeating: .fp32, count: 8)
        final class Seen: @unchecked Sendable { var precision = Precision.bf16 }
        let other = Seen()
        struct Failure: Error {}
        XCTAssertThrowsError(try Precision.with(.bf16) {
            XCTAssertEqual(Precision.current, .bf16)
            Precision.with(.fp32) { XCTAssertEqual(Precision.current, .fp32) }
            seen.withUnsafeMutableBufferPointer { s in parallelRegion(iterations: 8) { s[$0] = Precision.current } }
            let thread = Thread { other.precision = Precision.current }
            thread.start()
            while !thread.isFinished { usleep(1000) }
            throw Failure()
        })
        XCTAssertEqual(seen, [Precision](repeating: .bf16, count: 8), "workers run in their caller's precision")
        XCTAssertEqual(other.precision, .fp32, "another thread's precision is its own")
        XCTAssertEqual(Precision.current, .fp32, "restored after a throw")
        XCTAssertEqual(Precision.depth, 0)
    }

    func testFallbackIsStated() {
        XCTAssertEqual(Precision.fp32.effective, .fp32)
        XCTAssertNil(Precision.fp32.fallbackNote)
        if Precision.bf16.isAvailable {
            XCTAssertEqual(Precision.bf16.effective, .bf16)
            XCTAssertNil(Precision.bf16.fallbackNote)
        } else {
            XCTAssertEqual(Precision.bf16.effective, .fp32)
            XCTAssertTrue(Precision.bf16.fallbackNote?.contains("run in fp32") == true)
        }
    }

    func testRouteFollowsTheMeasuredRule() {
        XCTAssertEqual(Products.route(m: 26, n: 26, k: 32, precision: .bf16), .openblas, "attention-sized products stay fp32")
        XCTAssertEqual(Products.route(m: 2048, n: 512, k: 512, precision: .fp32),
                       Products.oneDNNF32Wide ? .onednnF32 : .openblas, "wide fp32: oneDNN only where OpenBLAS's kernels are narrower")
        XCTAssertEqual(Products.route(m: 64, n: 64, k: 64, precision: .fp32), .openblas, "small fp32 products stay on OpenBLAS")
        XCTAssertEqual(Products.route(m: 6675, n: 384, k: 128, precision: .fp32),
                       Products.oneDNNF32Measured ? .onednnF32 : .openblas)
        XCTAssertEqual(Products.route(m: 2048, n: 512, k: 512, precision: .bf16),
                       Precision.bf16.isAvailable ? .onednnBF16 : .openblas)
    }

    /// In a bf16 scope, a product large enough for bf16 equals the fp32 product of the rounded
    /// inputs up to summation order (the products of two bf16 values are exact in fp32); where
    /// bf16 is not available it is the fp32 product, bit for bit.
    func testBF16ProductsAreFP32ProductsOfRoundedInputs() throws {
        for (m, n, k) in [(300, 200, 64), (40, 900, 64), (64, 100, 1500)] {   // rows, columns, depth split
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a0 = try normalSample(ta ? [k, m] : [m, k], seed: 11), b0 = try normalSample(tb ? [n, k] : [k, n], seed: 12)
                let a = ta ? try a0.t() : a0, b = tb ? try b0.t() : b0
                let c16 = try Precision.with(.bf16) { try a.matmul(b) }
                let c32 = try a.matmul(b)
                let what = "m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb)"
                guard Precision.bf16.isAvailable else {
                    XCTAssertEqual(c16.toFloatArray(), c32.toFloatArray(), what)
                    continue
                }
                let ar = try rounded(a), br = try rounded(b)
                let reference = try ar.matmul(br)
                let bound = try ar.abs().matmul(br.abs()).mul(Double(2 * k) * 0x1p-24 + 1e-30)
                try assertWithin(c16, reference, bound, what)
                XCTAssertNotEqual(c16.toFloatArray(), c32.toFloatArray(), "\(what): bf16 products differ from fp32 ones")
            }
        }
    }

    /// Linear forward and backward in bf16 against fp32, element by element within the bound
    /// above: y = x W^T + b and gx = g W, gw = g^T x each sum K rounded products, so
    /// |bf16 - fp32| <= (2u + u^2 + 2K 2^-24) (|.| |.|) with K = in, out and rows respectively.
    /// The upstream gradient is a fixed tensor r (loss = sum(y r)), the same in both runs.
    func testLinearGradientsWithinBF16Bounds() throws {
        let rows = 600, inputs = 96, outputs = 128
        let x = try normalSample([rows, inputs], seed: 21), w = try normalSample([outputs, inputs], seed: 22, scale: 0.1)
        let b = try normalSample([outputs], seed: 23), r = try normalSample([rows, outputs], seed: 24)
        func run(_ precision: Precision) throws -> [Tensor] {
            let xl = try x.detach().requiresGrad_(), wl = try w.detach().requiresGrad_(), bl = try b.detach().requiresGrad_()
            let y = try Precision.with(precision) { try Functional.linear(xl, weight: wl, bias: bl) }
            try y.mul(r).sum().backward()   // outside the scope: the backward keeps the forward's precision
            return [y, xl.grad!, wl.grad!, bl.grad!]
        }
        let f = try run(.fp32), h = try run(.bf16)
        guard Precision.bf16.isAvailable else {
            for (a, c) in zip(f, h) { XCTAssertEqual(a.toFloatArray(), c.toFloatArray()) }
            return
        }
        func factor(_ k: Int) -> Double { Double(2 * u + u * u) + Double(2 * k) * 0x1p-24 }
        try assertWithin(h[0], f[0], try x.abs().matmul(w.abs().t()).mul(factor(inputs)), "y")
        try assertWithin(h[1], f[1], try r.abs().matmul(w.abs()).mul(factor(outputs)), "grad x")
        try assertWithin(h[2], f[2], try r.abs().t().matmul(x.abs()).mul(factor(rows)), "grad W")
        XCTAssertEqual(h[3].toFloatArray(), f[3].toFloatArray(), "the bias gradient is a sum, fp32 in both")
        XCTAssertNotEqual(h[0].toFloatArray(), f[0].toFloatArray(), "the forward ran in bf16")
    }

    /// Attention of one set large enough for bf16 products (200 x 200 x 32 >= 2^20), first-order
    /// bounds (u = 2^-8):
    /// - scores S = s Q K^T: |dS_ij| <= 2u s sum_d |q_id||k_jd| <= E := 2u s max(|Q||K|^T);
    /// - softmax: |dP_ij| <= P_ij (|dS_ij| + sum_l P_il |dS_il|) <= 2E P_ij;
    /// - O = P V, P and V rounded again: |dO_id| <= sum_j (2E + 2u) P_ij |v_jd| <= (2E + 2u) max|V|;
    /// - dV = P^T G: |d dV_jd| <= (2E + 2u) sum_i P_ij |g_id| <= (2E + 2u) max_d sum_i |g_id|;
    /// - dP = G V^T: |d dP| <= 2u D with D := max(|G||V|^T); dS = P (dP - rowsum(P dP)) has
    ///   |dS_ij| <= 2D P_ij and moves by at most 4(E + u) D P_ij; dQ = s dS K adds its own
    ///   rounding, 2u |dS||K|: |d dQ| <= s max|K| D (4E + 8u), and dK likewise with max|Q|.
    /// Second-order terms are covered by a factor 1.25.
    func testAttentionGradientsWithinBF16Bounds() throws {
        let t = 200, dh = 32
        let scale = 1 / Double(dh).squareRoot()
        let q = try normalSample([t, dh], seed: 31, scale: 0.5), k = try normalSample([t, dh], seed: 32, scale: 0.5)
        let v = try normalSample([t, dh], seed: 33), g = try normalSample([t, dh], seed: 34)
        let offsets = try offsetsFor([t])
        func run(_ precision: Precision) throws -> [Tensor] {
            let leaves = try [q, k, v].map { try $0.detach().requiresGrad_() }
            let o = try Precision.with(precision) {
                try Functional.packedAttention(query: leaves[0], key: leaves[1], value: leaves[2], queryOffsets: offsets, numHeads: 1)
            }
            try o.mul(g).sum().backward()
            return [o] + leaves.map { $0.grad! }
        }
        let f = try run(.fp32), h = try run(.bf16)
        guard Precision.bf16.isAvailable else {
            for (a, c) in zip(f, h) { XCTAssertEqual(a.toFloatArray(), c.toFloatArray()) }
            return
        }
        func maxOf(_ x: Tensor) throws -> Double { try x.max().item() }
        let uu = Double(u)
        let e = 2 * uu * scale * (try maxOf(q.abs().matmul(k.abs().t())))
        let d = try maxOf(g.abs().matmul(v.abs().t()))
        let bounds = [
            (2 * e + 2 * uu) * (try maxOf(v.abs())),
            scale * (try maxOf(k.abs())) * d * (4 * e + 8 * uu),
            scale * (try maxOf(q.abs())) * d * (4 * e + 8 * uu),
            (2 * e + 2 * uu) * (try maxOf(g.abs().sum(dims: [0]))),
        ]
        for (i, name) in ["output", "grad query", "grad key", "grad value"].enumerated() {
            let worst = try maxOf(h[i].sub(f[i]).abs())
            XCTAssertLessThanOrEqual(worst, 1.25 * bounds[i], name)
            XCTAssertGreaterThan(worst, 0, "\(name): the products ran in bf16")
        }
    }

    /// A weight's bf16 copy is kept on its storage and made again once the storage changes: an
    /// in-place op, a write through `elementPointer` marked with `markModified`. Another range
    /// of the same storage (a view) gets its own. Every machine: the cache does not need the
    /// hardware.
    func testWeightCopyIsKeptUntilTheWeightChanges() throws {
        let w = try normalSample([48, 40], seed: 31)
        func expect(_ copy: BF16Copy, _ t: Tensor, _ what: String) {
            let values = t.contiguousData().toFloatArray()
            let bits = (0..<values.count).map { copy.bits[$0] }
            XCTAssertEqual(bits, values.map { BF16.round($0) }, what)
        }
        let first = BF16Copy.of(w)
        expect(first, w, "the copy is the rounded weight")
        XCTAssertTrue(BF16Copy.of(w) === first, "an unchanged weight is not rounded again")
        try withNoGrad { _ = try w.add_(0.5) }
        let second = BF16Copy.of(w)
        XCTAssertFalse(second === first, "an in-place op makes a new copy")
        expect(second, w, "the copy follows the in-place op")
        w.elementPointer(as: Float.self)[7] = 1000
        w.markModified()
        expect(BF16Copy.of(w), w, "the copy follows a marked write")
        let rows = try w.narrow(0, start: 8, length: 16)
        expect(BF16Copy.of(rows), rows, "a view of other rows gets its own copy")
        expect(BF16Copy.of(w), w, "and the whole weight its own again")
    }

    /// Functional.linear rounds W, x and the upstream gradient once for its three products; the
    /// results are bit for bit those of products that round their own operands (matmul in a bf16
    /// scope), also after the weight changed between two forwards.
    func testLinearRoundingOnceEqualsRoundingPerProduct() throws {
        let rows = 600, inputs = 96, outputs = 128
        let x = try normalSample([rows, inputs], seed: 41), w = try normalSample([outputs, inputs], seed: 42, scale: 0.1)
        let r = try normalSample([rows, outputs], seed: 43)
        for pass in 0..<2 {
            let xl = try x.detach().requiresGrad_(), wl = try w.detach().requiresGrad_()
            let y = try Precision.with(.bf16) { try Functional.linear(xl, weight: wl, bias: nil) }
            try y.mul(r).sum().backward()
            let (y2, gx, gw) = try Precision.with(.bf16) { (try x.matmul(w.t()), try r.matmul(w), try r.t().matmul(x)) }
            XCTAssertEqual(y.toFloatArray(), y2.toFloatArray(), "y, pass \(pass)")
            XCTAssertEqual(xl.grad!.toFloatArray(), gx.toFloatArray(), "grad x, pass \(pass)")
            XCTAssertEqual(wl.grad!.toFloatArray(), gw.toFloatArray(), "grad W, pass \(pass)")
            try withNoGrad { _ = try w.mul_(-1.5) }
        }
    }

    /// A bf16 linear layer's bias is added by oneDNN as it writes the output, in every split of
    /// the product (by rows, by columns: each block its columns of the bias; by depth: once): the
    /// result is the product without bias plus the bias, up to the order of fp32 additions.
    func testBF16BiasIsAddedOnceToEveryColumn() throws {
        for (rows, inputs, outputs) in [(600, 96, 128), (40, 64, 900), (16, 2048, 64)] {   // rows, columns, depth split
            let x = try normalSample([rows, inputs], seed: 51), w = try normalSample([outputs, inputs], seed: 52, scale: 0.1)
            let b = try normalSample([outputs], seed: 53, scale: 3)
            let (y, plain) = try Precision.with(.bf16) {
                (try Functional.linear(x, weight: w, bias: b), try Functional.linear(x, weight: w, bias: nil).add(b))
            }
            let bound = try x.abs().matmul(w.abs().t()).add(b.abs()).mul(Double(inputs + 2) * 0x1p-24)
            try assertWithin(y, plain, bound, "rows=\(rows) in=\(inputs) out=\(outputs)")
        }
    }

    /// A bf16 linear layer keeps its input's bf16 copy for the weight gradient, not the fp32
    /// input (freed once nothing else holds it), and still refuses a backward after the input
    /// was modified in place, as fp32 does.
    func testBF16LinearKeepsOnlyTheBF16CopyOfItsInput() throws {
        guard Precision.bf16.isAvailable else { return }   // fp32 products keep the fp32 input
        let leaf = try normalSample([600, 96], seed: 61).requiresGrad_()
        let w = try normalSample([128, 96], seed: 62, scale: 0.1).requiresGrad_()
        weak var storage: Storage?
        let y = try Precision.with(.bf16) { () throws -> Tensor in
            let x = try leaf.mul(2)
            storage = x.storage
            return try Functional.linear(x, weight: w, bias: nil)
        }
        XCTAssertNil(storage, "the fp32 input is not kept alive for the backward")
        try y.sum().backward()
        XCTAssertNotNil(w.grad)
        let x = try leaf.mul(2)
        let y2 = try Precision.with(.bf16) { try Functional.linear(x, weight: w, bias: nil) }
        try withNoGrad { _ = try x.add_(1) }
        XCTAssertThrowsError(try y2.sum().backward()) { e in
            XCTAssertTrue("\(e)".contains("modified in place"), "\(e)")
        }
    }

    private func rounded(_ t: Tensor) throws -> Tensor {
        try Tensor(t.contiguousData().toFloatArray().map(BF16.rounded), shape: t.shape)
    }

    /// |x - y| <= bound, element by element.
    private func assertWithin(_ x: Tensor, _ y: Tensor, _ bound: Tensor, _ what: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let xv = x.toFloatArray(), yv = y.toFloatArray(), bv = bound.toFloatArray()
        var failures = 0
        for i in xv.indices where !(Swift.abs(xv[i] - yv[i]) <= bv[i]) {
            if failures < 3 { XCTFail("\(what) [\(i)]: \(xv[i]) vs \(yv[i]), bound \(bv[i])", file: file, line: line) }
            failures += 1
        }
    }
}
