import Foundation

/// bfloat16, the input format of bf16 products: the top 16 bits of an fp32 (sign, the same
/// 8-bit exponent, 7 stored mantissa bits + the implicit one = 8 bits of precision), so a value
/// is rounded by rounding away the low 16 bits. Round to nearest, ties to even, as PyTorch's
/// `tensor.to(torch.bfloat16)` and the AVX512_BF16 conversion (VCVTNE2PS2BF16) do; NaN stays a
/// (quiet) NaN and infinities stay infinite. Written in plain Swift so it is the same on every
/// CPU and tested without the hardware.
///
/// ```swift
/// BF16.round(1.00390625)     // 0x3F80: 1 + 2^-8 is a tie, rounded to the even 1.0
/// BF16.float(0x3F81)         // 1.0078125
/// ```
package enum BF16 {
    /// The bf16 bits nearest to `x` (ties to even).
    @inline(__always)
    package static func round(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        // Adding 0x7FFF rounds up past the halfway point; the low bit of the kept part makes a
        // tie round up only when that part is odd. Overflow into the exponent is correct (the
        // largest finite values round to infinity, as IEEE rounding does).
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// The fp32 value of bf16 bits (exact).
    @inline(__always)
    package static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `x` rounded to the nearest bf16, as an fp32 (what a bf16 product sees of it).
    @inline(__always)
    package static func rounded(_ x: Float) -> Float { float(round(x)) }

    /// Rounds `rows` rows of `cols` floats, `ld` floats apart, into `out` (rows packed densely,
    /// `cols` apart), 16 lanes at a time, split across the kernel threads when large.
    package static func round(_ source: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                              into out: UnsafeMutablePointer<UInt16>) {
        typealias Bits = SIMD16<UInt32>
        let lanes = Bits.scalarCount
        parallelFor(rows, work: rows * cols) { lo, hi in
            for r in lo..<hi {
                let src = UnsafeRawPointer(source + r * ld), dst = out + r * cols
                var j = 0
                while j + lanes <= cols {
                    let bits = src.loadUnaligned(fromByteOffset: j * 4, as: Bits.self)
                    var kept = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
                    kept.replace(with: (bits &>> 16) | 0x40, where: (bits & 0x7FFF_FFFF) .> 0x7F80_0000)
                    UnsafeMutableRawPointer(dst + j).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: kept), as: SIMD16<UInt16>.self)
                    j += lanes
                }
                while j < cols {
                    dst[j] = round(source[r * ld + j])
                    j += 1
                }
            }
        }
    }
}
