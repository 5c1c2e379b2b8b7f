import Foundation

/// NumPy broadcasting and the strided iteration engine every elementwise kernel runs on.

/// The broadcast shape of two shapes, or a TensorError naming `op`.
/// ```swift
/// try broadcastShapes([3, 1], [4], op: "add")   // [3, 4]
/// ```
public func broadcastShapes(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
    let n = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
            throw TensorError("\(op): shapes \(formatShape(a)) and \(formatShape(b)) cannot broadcast")
        }
    }
    // Every broadcast result is materialised, so it must fit (f32 as the common case).
    try Tensor.checkFitsInMemory(out, dtype: .f32, op: op)
    return out
}

extension Tensor {
    /// Strides that read this tensor as if expanded to `target` (0 along broadcast dims).
    /// The caller has checked that the shapes broadcast.
    func broadcastStrides(to target: [Int]) -> [Int] {
        var s = [Int](repeating: 0, count: target.count)
        let lead = target.count - shape.count
        for i in 0..<shape.count where shape[i] != 1 || target[i + lead] == 1 {
            s[i + lead] = shape[i] == 1 ? 0 : strides[i]
        }
        return s
    }
}

/// An iteration plan over `shape` for up to four operands with their own element strides.
/// Size-1 dims are dropped and dims that are contiguous for every operand are merged, so most
/// kernels end up with one long inner loop. The inner loop runs over the last (merged) dim.
struct StridedPlan {
    /// Element offsets of the operands (lane k is operand k; unused lanes stay 0).
    typealias Offsets = SIMD4<Int>
    var outer: [Int] = []
    /// Per outer dim, the operands' strides along it.
    var outerStrides: [Offsets] = []
    var n = 1
    var inner: [Int]
    var rows = 1

    init(shape: [Int], strides: [[Int]]) {
        let k = strides.count
        precondition(k <= 4, "StridedPlan: at most 4 operands")
        var dims: [Int] = []
        var st: [Offsets] = []
        for (i, s) in shape.enumerated() where s != 1 {
            if let last = st.last, (0..<k).allSatisfy({ last[$0] == strides[$0][i] * s }) {
                dims[dims.count - 1] *= s
                for o in 0..<k { st[st.count - 1][o] = strides[o][i] }
            } else {
                dims.append(s)
                var v = Offsets()
                for o in 0..<k { v[o] = strides[o][i] }
                st.append(v)
            }
        }
        inner = Array(repeating: 0, count: k)
        if shape.contains(0) { rows = 0; n = 0; return }
        if let last = dims.popLast() {
            n = last
            let v = st.removeLast()
            for o in 0..<k { inner[o] = v[o] }
        }
        outer = dims
        outerStrides = st
        rows = dims.reduce(1, *)
    }

    /// Calls `body(offsets, j0, j1)` for rows `r0..<r1`. The offsets of the first row come from
    /// one division per dim; the following rows step them like an odometer, so short rows (a
    /// [T, 4] * [4] broadcast) do not pay a division per row and operand.
    @inline(__always) func forRows(_ r0: Int, _ r1: Int, _ j0: Int, _ j1: Int, _ body: (Offsets, Int, Int) -> Void) {
        guard r0 < r1 else { return }
        if outer.isEmpty { body(Offsets(), j0, j1); return }
        var index = [Int](repeating: 0, count: outer.count)
        var off = Offsets()
        var rem = r0
        for d in stride(from: outer.count - 1, through: 0, by: -1) {
            index[d] = rem % outer[d]
            rem /= outer[d]
            off &+= index[d] &* outerStrides[d]
        }
        for r in r0..<r1 {
            body(off, j0, j1)
            if r + 1 == r1 { break }
            var d = outer.count - 1
            index[d] += 1
            off &+= outerStrides[d]
            while index[d] == outer[d] && d > 0 {
                off &-= outer[d] &* outerStrides[d]
                index[d] = 0
                d -= 1
                index[d] += 1
                off &+= outerStrides[d]
            }
        }
    }

    /// Calls `body(offsets, j0, j1)` for every row segment, in parallel when the plan is large.
    /// Long single rows are split too, so `x + scalar` over 4M elements still uses every core.
    @inline(__always) func run(_ body: (Offsets, Int, Int) -> Void) {
        let target = parallelPieces(rows * n, work: Double(rows) * Double(n))
        if target == 1 {
            forRows(0, rows, 0, n, body)
            return
        }
        if rows >= target {
            parallelRegion(iterations: target) { c in
                forRows(c * rows / target, (c + 1) * rows / target, 0, n, body)
            }
        } else {
            let segs = (target + rows - 1) / rows
            parallelRegion(iterations: rows * segs) { i in
                let r = i / segs, s = i % segs
                forRows(r, r + 1, s * n / segs, (s + 1) * n / segs, body)
            }
        }
    }
}

/// Copies `src` (any strides, already broadcast to `shape`) into `dst` (any strides), moving
/// raw elements of type `T` (dtype-agnostic: f32 moves as UInt32 too).
@inline(__always)
func stridedCopy<T>(_ t: T.Type, shape: [Int], src: UnsafePointer<T>, srcStrides: [Int],
                    dst: UnsafeMutablePointer<T>, dstStrides: [Int]) {
    let plan = StridedPlan(shape: shape, strides: [dstStrides, srcStrides])
    let so = plan.inner[0], si = plan.inner[1]
    if so == 1 && si != 1 && si != 0 && plan.rows > 1 && plan.outerStrides.last?[1] == 1 {
        transposedCopy(plan, src: src, dst: dst)
        return
    }
    plan.run { off, j0, j1 in
        let o = dst + off[0], a = src + off[1]
        if so == 1 && si == 1 {
            (o + j0).update(from: a + j0, count: j1 - j0)
        } else if so == 1 && si == 0 {
            let v = a.pointee
            for j in j0..<j1 { o[j] = v }
        } else {
            for j in j0..<j1 { o[j * so] = a[j * si] }
        }
    }
}

/// `stridedCopy` for a source that is contiguous down the rows rather than along them (a
/// transpose): row by row, every read would touch a new cache line, so it copies 32x32 tiles,
/// whose reads and writes both stay in cache.
func transposedCopy<T>(_ plan: StridedPlan, src: UnsafePointer<T>, dst: UnsafeMutablePointer<T>) {
    let tile = 32, n = plan.n, si = plan.inner[1]
    let groups = (plan.rows + tile - 1) / tile
    parallelFor(groups, work: plan.rows * n) { g0, g1 in
        var rowOffsets = [StridedPlan.Offsets](repeating: .init(), count: tile)
        for g in g0..<g1 {
            var count = 0
            plan.forRows(g * tile, Swift.min((g + 1) * tile, plan.rows), 0, n) { off, _, _ in
                rowOffsets[count] = off
                count += 1
            }
            for c0 in stride(from: 0, to: n, by: tile) {
                let c1 = Swift.min(c0 + tile, n)
                for r in 0..<count {
                    let o = dst + rowOffsets[r][0], a = src + rowOffsets[r][1]
                    for c in c0..<c1 { o[c] = a[c * si] }
                }
            }
        }
    }
}

extension Tensor {
    /// Copies this tensor's elements (viewed with `srcStrides` over `shape`) into `dst`.
    func copyElements(into dst: Tensor, shape: [Int], srcStrides: [Int]) {
        switch dtype.byteSize {
        case 4: stridedCopy(UInt32.self, shape: shape, src: pointer(UInt32.self), srcStrides: srcStrides,
                            dst: dst.pointer(UInt32.self), dstStrides: dst.strides)
        case 8: stridedCopy(UInt64.self, shape: shape, src: pointer(UInt64.self), srcStrides: srcStrides,
                            dst: dst.pointer(UInt64.self), dstStrides: dst.strides)
        default: stridedCopy(UInt8.self, shape: shape, src: pointer(UInt8.self), srcStrides: srcStrides,
                             dst: dst.pointer(UInt8.self), dstStrides: dst.strides)
        }
    }

    /// A contiguous copy of this view's data, never recorded by autograd.
    func contiguousData() -> Tensor {
        let out = Tensor(uninitialized: shape, dtype: dtype)
        copyElements(into: out, shape: shape, srcStrides: strides)
        return out
    }
}
