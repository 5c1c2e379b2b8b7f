import TestSupport
import XCTest
@testable import Tensors

/// Finite-difference checks of every differentiable op and argument, including broadcast and
/// non-contiguous (transposed / narrowed) inputs.
final class GradientTests: XCTestCase {
    func testUnaryOps() throws {
        for op in UnaryOp.allCases where ![.sign, .floor, .ceil, .round].contains(op) {
            let positive: Set<UnaryOp> = [.log, .sqrt, .rsqrt, .reciprocal, .log1p]
            let x = try sample([2, 3], seed: 3, lo: positive.contains(op) ? 0.5 : -2, hi: 2)
            // relu and abs are checked away from their kink at 0.
            try gradCheck([x]) { try $0[0].t().apply(op) }
        }
    }

    func testBinaryOpsWithBroadcastAndTranspose() throws {
        for op in BinaryOp.allCases {
            let a = try sample([3, 2], seed: 1, lo: 0.5, hi: 2), b = try sample([3], seed: 2, lo: 0.5, hi: 2)
            try gradCheck([a, b]) { try $0[0].t().binary(op, $0[1]) }   // transposed [2,3] op broadcast [3]
            let c = try sample([2, 3], seed: 4, lo: 0.5, hi: 2), d = try sample([1, 3], seed: 5, lo: 0.5, hi: 2)
            try gradCheck([c, d]) { try $0[0].binary(op, $0[1]) }
        }
        let x = try sample([4, 3], seed: 6, lo: 0.5, hi: 2)
        try gradCheck([x]) { try $0[0].narrow(0, start: 1, length: 2).pow(3) }
        try gradCheck([x]) { try $0[0].rsub(1).rdiv(2).rpow(1.5) }
        try gradCheck([x]) { try (2 - $0[0] * $0[0]) / 3 }
    }

    func testCompareFamily() throws {
        let x = try sample([2, 3], seed: 7), y = try sample([3], seed: 8)
        try gradCheck([x, y]) { try Tensor.where($0[0].gt(0), $0[0], $0[1]) }
        try gradCheck([x]) { try $0[0].maskedFill($0[0].lt(0).detach(), value: 3) }
        try gradCheck([x]) { try $0[0].clamp(min: -0.5, max: 0.5) }
    }

    func testReductions() throws {
        let x = try sample([3, 4], seed: 9, lo: 0.5, hi: 2)
        try gradCheck([x]) { try $0[0].sum() }
        try gradCheck([x]) { try $0[0].t().sum(dims: [0]) }
        try gradCheck([x]) { try $0[0].mean(dims: [1], keepDim: true) }
        try gradCheck([x]) { try $0[0].variance(dims: [0]) }
        try gradCheck([x]) { try $0[0].std(dims: [1], unbiased: false) }
        try gradCheck([x]) { try $0[0].logsumexp(dims: [1]) }
        try gradCheck([x]) { try $0[0].norm() }
        try gradCheck([x]) { try $0[0].norm(p: 3, dims: [0]) }
        try gradCheck([x]) { try $0[0].prod(dim: 1) }
        try gradCheck([x]) { try $0[0].t().cumsum(1) }
        try gradCheck([x]) { try $0[0].max(dim: 1).values }
        try gradCheck([x]) { try $0[0].min(dim: 0, keepDim: true).values }
        try gradCheck([x]) { try $0[0].max() }
        try gradCheck([x]) { try $0[0].amax(dims: [0, 1]) }
        let y = try sample([2, 3, 4], seed: 10)
        try gradCheck([y]) { try $0[0].sum(dims: [0, 2]) }
        try gradCheck([y]) { try $0[0].permute([2, 0, 1]).mean(dims: [1, 2]) }
    }

    func testMatmul() throws {
        let a = try sample([3, 4], seed: 11), b = try sample([4, 2], seed: 12)
        try gradCheck([a, b]) { try $0[0].matmul($0[1]) }
        try gradCheck([a, b]) { try $0[1].t().matmul($0[0].t()) }                  // transposed views
        let c = try sample([2, 3, 4], seed: 13), d = try sample([4, 2], seed: 14)
        try gradCheck([c, d]) { try $0[0].matmul($0[1]) }                          // broadcast batch
        let v = try sample([4], seed: 15)
        try gradCheck([a, v]) { try $0[0].matmul($0[1]) }
        try gradCheck([v, b]) { try $0[0].matmul($0[1]) }
        let e = try sample([2, 4, 3], seed: 16)
        try gradCheck([c, e]) { try $0[0].bmm($0[1]) }
        try gradCheck([v, v.detach().clone()]) { try $0[0].outer($0[1]) }
    }

    func testViews() throws {
        let x = try sample([2, 3, 4], seed: 17)
        try gradCheck([x]) { try $0[0].transpose(0, 2).reshape([4, 6]).mul($0[0].transpose(0, 2).reshape([4, 6])) }
        try gradCheck([x]) { try $0[0].permute([1, 2, 0]).contiguous().view([-1]).square() }
        try gradCheck([x]) { try $0[0].narrow(2, start: 1, length: 2).select(0, 1).square() }
        try gradCheck([x]) { try $0[0].slice([.range(nil, nil, 1), .index(-1), .range(0, 4, 2)]).square() }
        try gradCheck([x]) { try $0[0].unsqueeze(1).squeeze(1).flatten(1).square() }
        let b = try sample([3, 1], seed: 18)
        try gradCheck([b]) { try $0[0].expand([2, 3, 4]).square() }
        try gradCheck([x, b]) { try Tensor.cat([$0[0].select(0, 0), $0[1].t().t()], dim: 1).square() }
        try gradCheck([b]) { try Tensor.stack([$0[0], $0[0].square()], dim: 1) }
        try gradCheck([x]) { let p = try $0[0].split(sizes: [1, 3], dim: 2); return try p[1].mul(p[0]) }
        try gradCheck([x]) { try $0[0].chunk(2, dim: 2)[1].clone().square() }
    }

    func testSliceAssignment() throws {
        let x = try sample([3, 4], seed: 19), v = try sample([4], seed: 20)
        try gradCheck([x, v]) { inputs in
            let y = try inputs[0].mul(1)
            try y.setSlice([.index(1)], value: inputs[1].square())
            return try y.mul(y)
        }
        try gradCheck([x, v]) { inputs in
            let y = try inputs[0].mul(2)
            try y.add_(inputs[1])
            try y.mul_(inputs[0])
            return y
        }
    }

    func testIndexingOps() throws {
        let x = try sample([4, 3], seed: 21), idx = try Tensor([2, 0, 2] as [Int64])
        try gradCheck([x]) { try $0[0].indexSelect(0, index: idx) }
        try gradCheck([x]) { try $0[0].t().indexSelect(1, index: idx) }
        let gi = try Tensor([1, 0, 2, 2, 1, 0, 0, 0] as [Int64], shape: [4, 2])
        try gradCheck([x]) { try $0[0].gather(1, index: gi) }
        let src = try sample([4, 3], seed: 22)
        let si = try Tensor([0, 1, 2, 3] as [Int64], shape: [4, 1])
        try gradCheck([x, src]) { try $0[0].scatter(1, index: si.remainderFree(3), src: $0[1]) }
        try gradCheck([x, src]) { try $0[0].scatterAdd(0, index: Tensor([1, 1, 0, 3] as [Int64], shape: [4, 1]), src: $0[1]) }
        let rows = try sample([3, 3], seed: 23)
        try gradCheck([x, rows]) { try $0[0].indexAdd(0, index: idx, source: $0[1], alpha: 0.5) }
        try gradCheck([x]) { try $0[0].maskedSelect($0[0].gt(0).detach()) }
        let (_, i) = try x.sort(dim: 1)
        XCTAssertEqual(i.shape, [4, 3])
        try gradCheck([x]) { try $0[0].sort(dim: 0, descending: true).values }
        try gradCheck([x]) { try $0[0].topk(2, dim: 1).values }
    }

    func testSegments() throws {
        let x = try sample([6, 2], seed: 24), off = try Tensor([0, 2, 2, 6] as [Int64])
        try gradCheck([x]) { try $0[0].segmentSum(offsets: off) }
        try gradCheck([x]) { try $0[0].segmentMean(offsets: off) }
        try gradCheck([x]) { try $0[0].segmentMax(offsets: off) }
        try gradCheck([x]) { try $0[0].segmentSoftmax(offsets: off) }
        let pooled = try sample([3, 2], seed: 25)
        try gradCheck([pooled]) { try $0[0].segmentExpand(offsets: off) }
        try gradCheck([x]) { try $0[0].unpack(offsets: off).padded }
        let padded = try sample([2, 3, 2], seed: 26), mask = try Tensor([true, true, false, false, true, false])
        try gradCheck([padded]) { try $0[0].pack(mask: mask.reshape([2, 3])).packed }
    }
}

extension Tensor {
    /// Test helper: keeps index values inside 0..<n.
    func remainderFree(_ n: Int64) throws -> Tensor {
        try Tensor(toInt64Array().map { $0 % n }, shape: shape)
    }
}
