import Foundation

/// SIMD building blocks for the fused kernels: a vector `exp`, row reductions that accumulate
/// in Double, and loads/stores of partial vectors. Everything works on `SIMD8<Float>`, which
/// the compiler lowers to two SSE or one AVX register, so the same code is fast whatever the
/// target CPU level.
///
/// Float reductions are not auto-vectorised (the compiler may not reorder float additions), so
/// the kernels call these explicit versions instead of writing plain loops.
///
/// ```swift
/// let m = FusedMath.max(row, n)
/// let s = FusedMath.expSubStore(row, into: out, n, minus: m)   // out = exp(row - m), s = sum
/// ```
enum FusedMath {
    typealias V = SIMD8<Float>
    static let width = 8
    /// Accumulating more than this many elements per SIMD lane in Float before moving the
    /// partial sum into a Double keeps the rounding error of long rows at Double level.
    static let flushEvery = 1024

    // MARK: Loads and stores

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// The first `count` (< 8) elements at `p`, the other lanes filled with `pad`.
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, pad: Float = 0) -> V {
        var v = V(repeating: pad)
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    @inline(__always) static func storePartial(_ v: V, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { p[i] = v[i] }
    }

    // MARK: Elementary functions

    /// exp(x) lane by lane, within 2 ulp of `expf` (Cephes polynomial after a Cody-Waite range
    /// reduction). Below -87.3 the result is 0 and NaN stays NaN; above 88.37 it is +inf (the
    /// true overflow is at 88.72, a range the kernels never reach: they exponentiate shifted
    /// logits and -|x|, which are <= 0). Out-of-range lanes are patched after the fact instead
    /// of clamped first, which saves two blends per vector.
    @inline(__always) static func exp(_ x: V) -> V {
        // t = x*log2(e) + 1.5*2^23 rounds to the nearest integer n, held in t's low mantissa bits.
        let magic: Float = 12582912
        let t = x * 1.44269504088896341 + magic
        let n = t - magic
        var r = x - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * (r * r) + r + 1
        // 2^n from the integer in t's mantissa: ((bits(t) - bits(magic)) + 127) << 23.
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
        var out = y * scale
        out = out.replacing(with: 0, where: x .< -87.33654)
        out = out.replacing(with: .infinity, where: x .> 88.37626)
        return out
    }

    /// Scalar exp through the vector code, so tails match the vector body exactly.
    @inline(__always) static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }

    /// log(1 + u) for u in [0, 1] (NaN stays NaN), accurate for tiny u. w = 1 + u lies in
    /// [1, 2], so the exponent is 0 or 1 and no bit surgery is needed: the polynomial of `log`
    /// runs on w or w / 2, and log(w) * u / (w - 1) corrects the rounding of w (Goldberg's
    /// trick; u itself where w rounds to 1).
    @inline(__always) static func log1pUnit(_ u: V) -> V {
        let w = 1 + u
        let big = w .> 1.41421356237309505
        let e = V(repeating: 0).replacing(with: 1, where: big)
        let m = w.replacing(with: w * 0.5, where: big) - 1
        let z = m * m
        var y = V(repeating: 7.0376836292e-2)
        y = y * m - 1.1514610310e-1
        y = y * m + 1.1676998740e-1
        y = y * m - 1.2420140846e-1
        y = y * m + 1.4249322787e-1
        y = y * m - 1.6668057665e-1
        y = y * m + 2.0000714765e-1
        y = y * m - 2.4999993993e-1
        y = y * m + 3.3333331174e-1
        y = y * m * z
        y += e * -2.12194440e-4
        y -= 0.5 * z
        let logw = m + y + e * 0.693359375
        return (logw * u / (w - 1)).replacing(with: u, where: w .== 1)
    }

    /// softplus(-x) = log(1 + exp(-x)) from e = exp(-|x|): log1p(e) + max(-x, 0), which never
    /// overflows.
    @inline(__always) static func softplusNeg(_ x: V, expNegAbs e: V) -> V {
        let neg = -x
        return log1pUnit(e) + neg.replacing(with: 0, where: neg .< 0)
    }

    /// The logistic function from e = exp(-|x|).
    @inline(__always) static func sigmoid(_ x: V, expNegAbs e: V) -> V {
        let inv = 1 / (1 + e)
        return inv.replacing(with: e * inv, where: x .< 0)
    }

    /// The logistic function 1 / (1 + exp(-x)), within 3 ulp: exp(-x) overflowing to +inf below
    /// x = -88 gives the limit 0, so no select is needed. (Where 1 - sigmoid matters, as in
    /// binary cross-entropy's gradient, the two-sided form above keeps its precision.)
    @inline(__always) static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    @inline(__always) static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
    }

    // MARK: Row reductions

    /// Largest element of `p[0..<n]` (n >= 1); NaN elements are skipped (they propagate
    /// through the sums that follow).
    @inline(__always) static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m0 = V(repeating: -.infinity), m1 = m0
        var i = 0
        while i + 16 <= n {
            let a = load(p + i), b = load(p + i + 8)
            m0 = m0.replacing(with: a, where: a .> m0)
            m1 = m1.replacing(with: b, where: b .> m1)
            i += 16
        }
        if i + 8 <= n {
            let a = load(p + i)
            m1 = m1.replacing(with: a, where: a .> m1)
            i += 8
        }
        m0 = m0.replacing(with: m1, where: m1 .> m0)
        var m = m0.max()
        while i < n { if p[i] > m { m = p[i] }; i += 1 }
        return m
    }

    /// Sum of `p[0..<n]`, accumulated in Float lanes and flushed into a Double.
    @inline(__always) static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < n {
            let end = Swift.min(n, i + flushEvery)
            var a0 = V(), a1 = V()
            while i + 16 <= end {
                a0 += load(p + i)
                a1 += load(p + i + 8)
                i += 16
            }
            var s = Double((a0 + a1).sum())
            while i < end { s += Double(p[i]); i += 1 }
            total += s
        }
        return total
    }

    /// Dot product of `a[0..<n]` and `b[0..<n]`, flushed into a Double like `sum`.
    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < n {
            let end = Swift.min(n, i + flushEvery)
            var a0 = V(), a1 = V()
            while i + 16 <= end {
                a0 += load(a + i) * load(b + i)
                a1 += load(a + i + 8) * load(b + i + 8)
                i += 16
            }
            if i + 8 <= end {
                a0 += load(a + i) * load(b + i)
                i += 8
            }
            var s = Double((a0 + a1).sum())
            while i < end { s += Double(a[i]) * Double(b[i]); i += 1 }
            total += s
        }
        return total
    }

    /// Sum of (p[i] - mean)^2, the second pass of a two-pass variance.
    @inline(__always) static func sumSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> Double {
        var total = 0.0
        var i = 0
        let m = V(repeating: mean)
        while i < n {
            let end = Swift.min(n, i + flushEvery)
            var a0 = V(), a1 = V()
            while i + 16 <= end {
                let d0 = load(p + i) - m, d1 = load(p + i + 8) - m
                a0 += d0 * d0
                a1 += d1 * d1
                i += 16
            }
            var s = Double((a0 + a1).sum())
            while i < end { let d = Double(p[i] - mean); s += d * d; i += 1 }
            total += s
        }
        return total
    }

    /// Writes exp(src - m) into `dst` (may equal `src`) and returns the sum of what it wrote.
    @inline(__always) static func expSubStore(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                                              _ n: Int, minus m: Float) -> Double {
        var total = 0.0
        var i = 0
        let mv = V(repeating: m)
        while i < n {
            let end = Swift.min(n, i + flushEvery)
            var acc = V()
            while i + 8 <= end {
                let e = exp(load(src + i) - mv)
                store(e, dst + i)
                acc += e
                i += 8
            }
            if i < end {
                let k = end - i
                let e = exp(loadPartial(src + i, k) - mv)
                storePartial(e, dst + i, k)
                for j in 0..<k { acc[j] += e[j] }
                i = end
            }
            total += Double(acc.sum())
        }
        return total
    }

    /// Sum of exp(src - m) without storing it.
    @inline(__always) static func expSubSum(_ src: UnsafePointer<Float>, _ n: Int, minus m: Float) -> Double {
        var total = 0.0
        var i = 0
        let mv = V(repeating: m)
        while i < n {
            let end = Swift.min(n, i + flushEvery)
            var a0 = V(), a1 = V()
            while i + 16 <= end {
                a0 += exp(load(src + i) - mv)
                a1 += exp(load(src + i + 8) - mv)
                i += 16
            }
            while i + 8 <= end {
                a0 += exp(load(src + i) - mv)
                i += 8
            }
            if i < end {
                let k = end - i
                let e = exp(loadPartial(src + i, k) - mv)
                for j in 0..<k { a1[j] += e[j] }
                i = end
            }
            total += Double((a0 + a1).sum())
        }
        return total
    }

    /// dst[i] = src[i] * s (dst may equal src).
    @inline(__always) static func scale(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int, by s: Float) {
        let sv = V(repeating: s)
        var i = 0
        while i + 8 <= n { store(load(src + i) * sv, dst + i); i += 8 }
        while i < n { dst[i] = src[i] * s; i += 1 }
    }
}
