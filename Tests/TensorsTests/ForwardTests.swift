import Foundation
import XCTest
@testable import Tensors

final class ForwardTests: XCTestCase {
    func testCreation() throws {
        XCTAssertEqual(try Tensor.arange(0, 5).toInt64Array(), [0, 1, 2, 3, 4])
        XCTAssertEqual(try Tensor.arange(0, 5).dtype, .i64)
        assertClose(try Tensor.arange(0, 1, step: 0.25), [0, 0.25, 0.5, 0.75])
        assertClose(try Tensor.linspace(0, 1, steps: 5), [0, 0.25, 0.5, 0.75, 1])
        assertClose(try Tensor.eye(2, 3), [1, 0, 0, 0, 1, 0])
        assertClose(try Tensor.full([2], value: 7), [7, 7])
        XCTAssertEqual(try Tensor([1.5, -2.7] as [Float]).to(.i64).toInt64Array(), [1, -2])
        XCTAssertEqual(try Tensor([0, 3] as [Int64]).to(.bool).toBoolArray(), [false, true])
        XCTAssertEqual(try Tensor(scalar: Float(2.5)).item(), 2.5)
        assertThrows("do not fill shape [2,2]") { _ = try Tensor([1, 2, 3] as [Float], shape: [2, 2]) }
        assertThrows("item() needs exactly one") { _ = try Tensor.zeros([2]).item() }
    }

    func testViews() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let t = try x.transpose(0, 1)
        XCTAssertEqual(t.shape, [3, 2])
        XCTAssertFalse(t.isContiguous)
        assertClose(t, [1, 4, 2, 5, 3, 6])
        XCTAssert(t.storage === x.storage)
        assertClose(try x.narrow(1, start: 1, length: 2), [2, 3, 5, 6])
        assertClose(try x.select(1, 2), [3, 6])
        assertClose(try x.select(1, 3, indexBase: 1), [3, 6])
        XCTAssertEqual(try x.unsqueeze(1).shape, [2, 1, 3])
        XCTAssertEqual(try x.unsqueeze(-1).shape, [2, 3, 1])
        XCTAssertEqual(try x.unsqueeze(0).squeeze().shape, [2, 3])
        assertClose(try x.permute([1, 0]).reshape([-1]), [1, 4, 2, 5, 3, 6])
        assertClose(try Tensor([1, 2] as [Float], shape: [2, 1]).expand([2, 3]), [1, 1, 1, 2, 2, 2])
        XCTAssertEqual(try Tensor.zeros([2, 3, 4]).flatten(1).shape, [2, 12])
        assertClose(try x.slice([.all, .range(nil, nil, 2)]), [1, 3, 4, 6])
        assertClose(try x.slice([.index(-1), .range(1, nil, 1)]), [5, 6])
        let y = try x.clone()
        try y.setSlice([.all, .index(0)], value: 0)
        try y.setSlice([.index(1)], value: Tensor([7, 8, 9] as [Float]))
        assertClose(y, [0, 2, 3, 7, 8, 9])
        assertClose(x, [1, 2, 3, 4, 5, 6])   // clone owns its storage
        assertThrows("view: tensor of shape [3,2] is not contiguous") { _ = try t.view([6]) }
        assertClose(try t.reshape([6]), [1, 4, 2, 5, 3, 6])
    }

    func testJoining() throws {
        let a = try Tensor([1, 2] as [Float], shape: [1, 2]), b = try Tensor([3, 4, 5, 6] as [Float], shape: [2, 2])
        assertClose(try Tensor.cat([a, b], dim: 0), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Tensor.stack([b, b], dim: 1).shape, [2, 2, 2])
        let parts = try Tensor.arange(0, 5).split(2)
        XCTAssertEqual(parts.map { $0.toInt64Array() }, [[0, 1], [2, 3], [4]])
        XCTAssertEqual(try Tensor.arange(0, 6).chunk(3).count, 3)
        XCTAssertEqual(try Tensor.arange(0, 6).split(sizes: [1, 5]).map { $0.numel }, [1, 5])
        assertThrows("cat: tensor 1 has shape [3]") { _ = try Tensor.cat([a, Tensor.zeros([3])]) }
    }

    func testElementwise() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]), b = try Tensor([10, 20, 30] as [Float])
        assertClose(try a + b, [11, 22, 33, 14, 25, 36])
        assertClose(try 1 - a, [0, -1, -2, -3, -4, -5])
        assertClose(try a / 2, [0.5, 1, 1.5, 2, 2.5, 3])
        assertClose(try a.pow(2), [1, 4, 9, 16, 25, 36])
        assertClose(try a.t().add(Tensor([1, 2] as [Float])), [2, 6, 3, 7, 4, 8])   // strided + broadcast
        let ints = try Tensor([1, 2, 3] as [Int64])
        XCTAssertEqual(try ints.add(1).dtype, .i64)
        XCTAssertEqual(try ints.mul(0.5).dtype, .f32)
        XCTAssertEqual(try ints.add(b).dtype, .f32)
        XCTAssertEqual(try ints.div(ints).dtype, .f32)
        XCTAssertEqual(try a.gt(3).toBoolArray(), [false, false, false, true, true, true])
        XCTAssertEqual(try ints.eq(Tensor([1, 0, 3] as [Int64])).toBoolArray(), [true, false, true])
        XCTAssertEqual(try a.gt(2).logicalAnd(a.lt(5)).toBoolArray(), [false, false, true, true, false, false])
        assertClose(try Tensor.where(a.gt(3), a, 0), [0, 0, 0, 4, 5, 6])
        assertClose(try a.maskedFill(Tensor([true, false, true]), value: -1), [-1, 2, -1, -1, 5, -1])
        assertClose(try a.clamp(min: 2, max: 4), [2, 2, 3, 4, 4, 4])
        assertClose(try Tensor([-1, 0, 2] as [Float]).relu(), [0, 0, 2])
        assertClose(try Tensor([0, 1] as [Float]).gelu(), [0, 0.8413447])
        assertClose(try Tensor([0.5, 1.5, 2.5, -0.5] as [Float]).round(), [0, 2, 2, -0])
        assertClose(try Tensor([100, -100] as [Float]).softplus(), [100, 0])
        assertClose(try Tensor([0] as [Float]).sigmoid(), [0.5])
        XCTAssertEqual(try Tensor([Float.nan, 1, .infinity]).isnan().toBoolArray(), [true, false, false])
        XCTAssertEqual(try Tensor([Float.nan, 1, .infinity]).isfinite().toBoolArray(), [false, true, false])
        assertClose(try a.maximum(Tensor([3] as [Float])), [3, 3, 3, 4, 5, 6])
        let c = try a.clone()
        try c.add_(b)
        try c.mul_(2)
        assertClose(c, [22, 44, 66, 28, 50, 72])
        try c.apply_(.neg)
        assertClose(c, [-22, -44, -66, -28, -50, -72])
        XCTAssertEqual(c.storage.version, 3)
        assertThrows("add_: result shape [2,3] does not match the in-place target [3]") { try b.add_(a) }
    }

    func testTransposedCopiesAndOperands() throws {
        // Sizes that are not multiples of the 32x32 copy tile, with a batch dim in front, and
        // enough elements for the parallel path.
        let (b, r, c) = (24, 70, 45)
        let x = try Tensor.arange(0, Double(b * r * c), dtype: .f32).reshape([b, r, c])
        let xt = try x.transpose(1, 2)
        var expected = [Float]()
        for i in 0..<b { for j in 0..<c { for k in 0..<r { expected.append(Float(i * r * c + k * c + j)) } } }
        XCTAssertEqual(xt.contiguous().toFloatArray(), expected)
        XCTAssertEqual(try xt.add(xt).toFloatArray(), expected.map { 2 * $0 })
        XCTAssertEqual(try xt.gt(Tensor(scalar: Float(100))).toBoolArray(), expected.map { $0 > 100 })
        let rows = try Tensor.arange(0, Double(c * r), dtype: .f32).reshape([c, r])   // contiguous next to transposed
        XCTAssertEqual(try xt.sub(rows).toFloatArray(), expected.enumerated().map { $1 - Float($0 % (c * r)) })
    }

    func testLargeElementwiseParallel() throws {
        let n = 1 << 20
        let x = try Tensor.arange(0, Double(n), dtype: .f32)
        let y = try x.add(x).sub(x)
        let v = y.toFloatArray()
        XCTAssertEqual(v[0], 0); XCTAssertEqual(v[n - 1], Float(n - 1)); XCTAssertEqual(v[n / 2 + 3], Float(n / 2 + 3))
        // In-place kernels (output aliasing an input) over every chunk.
        let z = try x.clone()
        try z.add_(x)
        try z.mul_(-1)
        try z.apply_(.neg)
        XCTAssertEqual(z.toFloatArray(), (0..<n).map { Float(2 * $0) })
        let m = try x.reshape([1024, 1024])
        let rows = try m.sum(dims: [1]).toFloatArray(), cols = try m.sum(dims: [0]).toFloatArray()
        XCTAssertEqual(Double(rows[3]), Double(3 * 1024 * 1024 + 1023 * 512), accuracy: 1e3)
        XCTAssertEqual(Double(cols[5]), Double(5 * 1024 + 1024 * 1024 * 1023 / 2), accuracy: 1e4)
        let s = try m.t().add(1).sum(dims: [1]).toFloatArray()
        XCTAssertEqual(Double(s[5]), Double(cols[5]) + 1024, accuracy: 1e4)
    }

    func testReductions() throws {
        let x = try Tensor([1, 5, 3, 4, 2, 6] as [Float], shape: [2, 3])
        assertClose(try x.sum(), [21])
        assertClose(try x.sum(dims: [0]), [5, 7, 9])
        XCTAssertEqual(try x.sum(dims: [1], keepDim: true).shape, [2, 1])
        assertClose(try x.mean(dims: [1]), [3, 4])
        assertClose(try x.variance(dims: [1]), [4, 4])
        assertClose(try x.variance(dims: [1], unbiased: false), [8.0 / 3, 8.0 / 3])
        assertClose(try x.std(), [1.8708287])
        let (v, i) = try x.max(dim: 1)
        assertClose(v, [5, 6]); XCTAssertEqual(i.toInt64Array(), [1, 2])
        XCTAssertEqual(try x.min(dim: 0).indices.toInt64Array(), [0, 1, 0])
        XCTAssertEqual(try x.argmax().toInt64Array(), [5])
        XCTAssertEqual(try x.argmin(dim: 1).toInt64Array(), [0, 1])
        assertClose(try x.amax(dims: [0, 1]), [6])
        assertClose(try x.logsumexp(dims: [1]), [5.1429316, 6.1429315])
        assertClose(try Tensor([-Float.infinity, -.infinity]).logsumexp(dims: [0]), [-.infinity])
        assertClose(try x.prod(dim: 1), [15, 48])
        assertClose(try x.cumsum(1), [1, 6, 9, 4, 6, 12])
        assertClose(try Tensor([3, 4] as [Float]).norm(), [5])
        assertClose(try Tensor([3, -4] as [Float]).norm(p: 1), [7])
        assertClose(try Tensor([3, -4] as [Float]).norm(p: .infinity), [4])
        XCTAssertEqual(try x.gt(1).all(dims: [1]).toBoolArray(), [false, true])
        XCTAssertEqual(try x.gt(5).any(dims: [1]).toBoolArray(), [false, true])
        XCTAssertEqual(try Tensor([true, true, false]).sum().toInt64Array(), [2])
        assertClose(try Tensor.zeros([2, 3, 4]).add(1).sum(dims: [0, 2]), [8, 8, 8])
        assertClose(try Tensor.arange(0, 24, dtype: .f32).reshape([2, 3, 4]).sum(dims: [0, 2]), [60, 92, 124])
    }

    func testMatmul() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let b = try Tensor([1, 0, 0, 1, 1, 1] as [Float], shape: [3, 2])
        assertClose(try a.matmul(b), [4, 5, 10, 11])
        assertClose(try a.matmul(a.t()), [14, 32, 32, 77])            // transposed view, no copy
        assertClose(try a.t().matmul(a), [17, 22, 27, 22, 29, 36, 27, 36, 45])
        assertClose(try a.matmul(Tensor([1, 1, 1] as [Float])), [6, 15])
        assertClose(try Tensor([1, 1] as [Float]).matmul(a), [5, 7, 9])
        assertClose(try Tensor([1, 2] as [Float]).dot(Tensor([3, 4] as [Float])), [11])
        let batched = try Tensor.stack([a, a.mul(2)]).matmul(b)       // [2,2,3] x [3,2]
        XCTAssertEqual(batched.shape, [2, 2, 2])
        assertClose(batched, [4, 5, 10, 11, 8, 10, 20, 22])
        XCTAssertEqual(try Tensor.zeros([4, 1, 2, 3]).matmul(Tensor.zeros([5, 3, 7])).shape, [4, 5, 2, 7])
        assertClose(try Tensor([1, 2] as [Float]).outer(Tensor([1, 2, 3] as [Float])), [1, 2, 3, 2, 4, 6])
        assertThrows("matmul: a is 256x7, b is 128x64 (inner sizes 7 and 128 differ)") {
            _ = try Tensor.zeros([256, 7]).matmul(Tensor.zeros([128, 64]))
        }
        assertThrows("matmul: expected float32 tensors") { _ = try Tensor.arange(0, 4).matmul(a) }
    }

    func testIndexing() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [3, 2])
        assertClose(try x.indexSelect(0, index: Tensor([2, 0, 2] as [Int64])), [5, 6, 1, 2, 5, 6])
        assertClose(try x.indexSelect(0, index: Tensor([3, 1] as [Int64]), indexBase: 1), [5, 6, 1, 2])
        assertClose(try x.gather(1, index: Tensor([1, 0, 0] as [Int64], shape: [3, 1])), [2, 3, 5])
        assertClose(try Tensor.zeros([2, 3]).scatter(1, index: Tensor([2, 0] as [Int64], shape: [2, 1]), value: 1), [0, 0, 1, 1, 0, 0])
        assertClose(try Tensor.zeros([3]).scatterAdd(0, index: Tensor([0, 2, 0] as [Int64]), src: Tensor([1, 2, 3] as [Float])), [4, 0, 2])
        assertClose(try Tensor.zeros([3, 2]).indexAdd(0, index: Tensor([1, 1] as [Int64]), source: x.narrow(0, start: 0, length: 2)), [0, 0, 4, 6, 0, 0])
        assertClose(try x.maskedSelect(x.gt(3)), [4, 5, 6])
        XCTAssertEqual(try x.gt(4).nonzero().toInt64Array(), [2, 0, 2, 1])
        XCTAssertEqual(try Tensor([2, 1] as [Int64]).oneHot(numClasses: 3, indexBase: 1).toInt64Array(), [0, 1, 0, 1, 0, 0])
        assertThrows("index_select: index 6 out of range 1..3") { _ = try x.indexSelect(0, index: Tensor([6] as [Int64]), indexBase: 1) }
        assertThrows("gather: index 2 out of range 0..1") { _ = try x.gather(1, index: Tensor([2] as [Int64], shape: [1, 1])) }
        assertThrows("index must be int64") { _ = try x.indexSelect(0, index: Tensor([0] as [Float])) }
    }

    func testSorting() throws {
        let x = try Tensor([3, 1, 2, 1] as [Float])
        let (v, i) = try x.sort()
        assertClose(v, [1, 1, 2, 3]); XCTAssertEqual(i.toInt64Array(), [1, 3, 2, 0])   // stable
        XCTAssertEqual(try x.argsort(descending: true).toInt64Array(), [0, 2, 1, 3])
        let (tv, ti) = try x.topk(2)
        assertClose(tv, [3, 2]); XCTAssertEqual(ti.toInt64Array(), [0, 2])
        let (u, inv, counts) = try x.unique(returnInverse: true, returnCounts: true)
        assertClose(u, [1, 2, 3]); XCTAssertEqual(inv?.toInt64Array(), [2, 0, 1, 0]); XCTAssertEqual(counts?.toInt64Array(), [2, 1, 1])
        let m = try Tensor([3, 1, 2, 9, 8, 7] as [Float], shape: [2, 3])
        assertClose(try m.sort(dim: 1).values, [1, 2, 3, 7, 8, 9])
        assertClose(try m.sort(dim: 0, descending: true).values, [9, 8, 7, 3, 1, 2])
        assertThrows("topk: k = 5 is out of range") { _ = try x.topk(5) }
    }

    func testSegments() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6, 7, 8] as [Float], shape: [4, 2])
        let off = try Tensor([0, 1, 1, 4] as [Int64])   // sets of 1, 0 and 3 rows
        assertClose(try x.segmentSum(offsets: off), [1, 2, 0, 0, 15, 18])
        assertClose(try x.segmentMean(offsets: off), [1, 2, 0, 0, 5, 6])
        assertClose(try x.segmentMax(offsets: off), [1, 2, 0, 0, 7, 8])
        let sm = try x.segmentSoftmax(offsets: off)
        assertClose(try sm.segmentSum(offsets: off), [1, 1, 0, 0, 1, 1])
        let (padded, mask) = try x.unpack(offsets: off)
        XCTAssertEqual(padded.shape, [3, 3, 2])
        XCTAssertEqual(mask.toBoolArray(), [true, false, false, false, false, false, true, true, true])
        let (packed, o2) = try padded.pack(mask: mask)
        assertClose(packed, x.toFloatArray()); XCTAssertEqual(o2.toInt64Array(), [0, 1, 1, 4])
        assertThrows("segment_sum: offsets end at 3 but the packed tensor has 4 rows") {
            _ = try x.segmentSum(offsets: Tensor([0, 3] as [Int64]))
        }
        assertThrows("unpack: a set has 3 rows, more than the requested length 2") { _ = try x.unpack(offsets: off, length: 2) }
    }

    func testRandom() throws {
        let g = Generator(seed: 7)
        let st = g.state
        let a = try Tensor.randn([1000], generator: g)
        try g.setState(st)
        let b = try Tensor.randn([1000], generator: g)
        XCTAssertEqual(a.toFloatArray(), b.toFloatArray())
        XCTAssertEqual(try a.mean().item(), 0, accuracy: 0.1)
        XCTAssertEqual(try a.std().item(), 1, accuracy: 0.1)
        manualSeed(3); let r1 = try Tensor.rand([5]).toFloatArray()
        manualSeed(3); let r2 = try Tensor.rand([5]).toFloatArray()
        XCTAssertEqual(r1, r2)
        let ri = try Tensor.randint(2, 5, [200], generator: g).toInt64Array()
        XCTAssert(ri.allSatisfy { $0 >= 2 && $0 < 5 } && Set(ri).count == 3)
        XCTAssertEqual(try Tensor.randperm(10, generator: g).toInt64Array().sorted(), Array(0..<10))
        let mn = try Tensor([0, 1, 0, 3] as [Float]).multinomial(numSamples: 2, generator: g).toInt64Array()
        XCTAssertEqual(Set(mn), [1, 3])
        let bern = try Tensor.bernoulli([1000], p: 0.3, generator: g)
        XCTAssertEqual(try bern.mean().item(), 0.3, accuracy: 0.06)
        assertThrows("multinomial: cannot draw 3 samples without replacement from 2") {
            _ = try Tensor([1, 1] as [Float]).multinomial(numSamples: 3)
        }
    }

    func testPrinting() throws {
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).description, "tensor([[1., 2.],\n        [3., 4.]])")
        XCTAssertEqual(try Tensor([1.5, 2] as [Float]).requiresGrad_().description, "tensor([1.5000, 2.0000], requires_grad=True)")
        XCTAssertEqual(try Tensor([1, 2] as [Int64]).description, "tensor([1, 2], dtype=int64)")
        XCTAssertEqual(try Tensor([true, false]).description, "tensor([ True, False], dtype=bool)")
        let big = try Tensor.arange(0, 2000, dtype: .f32).description
        XCTAssert(big.contains("...") && big.contains("1999."), big)
        let y = try Tensor([1] as [Float]).requiresGrad_().mul(2)
        XCTAssertEqual(y.description, "tensor([2.], grad_fn=<mul>)")
    }

    /// A summarised print formats only the elements it shows (PyTorch's layout kept), so a
    /// [50000, 128] tensor prints at once instead of formatting 6.4 million numbers.
    func testSummarisedPrintFormatsOnlyShownElements() throws {
        let grid = try Tensor.arange(0, 2000, dtype: .f32).reshape([40, 50]).description
        XCTAssertEqual(grid, """
            tensor([[   0.,    1.,    2., ...,   47.,   48.,   49.],
                    [  50.,   51.,   52., ...,   97.,   98.,   99.],
                    [ 100.,  101.,  102., ...,  147.,  148.,  149.],
                    ...,
                    [1850., 1851., 1852., ..., 1897., 1898., 1899.],
                    [1900., 1901., 1902., ..., 1947., 1948., 1949.],
                    [1950., 1951., 1952., ..., 1997., 1998., 1999.]])
            """)
        XCTAssertEqual(Tensor.lastFormattedCount, 36)
        let large = try Tensor.randn([50_000, 128])
        let start = Date()
        let text = large.description
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)
        XCTAssertEqual(Tensor.lastFormattedCount, 36)
        XCTAssertEqual(text.split(separator: "\n").count, 7)
        // A transposed (non-contiguous) view and a 3-d tensor summarise the same way.
        _ = try Tensor.arange(0, 2000, dtype: .f32).reshape([40, 50]).transpose(0, 1).description
        XCTAssertEqual(Tensor.lastFormattedCount, 36)
        _ = try Tensor.arange(0, 2000, dtype: .f32).reshape([2, 10, 100]).description
        XCTAssertEqual(Tensor.lastFormattedCount, 2 * 6 * 6)
    }
}
