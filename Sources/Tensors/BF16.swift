import CCPU
import Foundation

/// bfloat16, the input format of bf16 products: the top 16 bits of an fp32 (sign, the same
/// 8-bit exponent, 7 stored mantissa bits + the implicit one = 8 bits of precision), so a value
/// is rounded by rounding away the low 16 bits. Round to nearest, ties to even, as PyTorch's
/// `tensor.to(torch.bfloat16)` and the AVX512_BF16 conversion (VCVTNE2PS2BF16) do; NaN stays a
/// (quiet) NaN and infinities stay infinite. Written in plain Swift so it is the same on every
/// CPU and tested without the hardware; products round whole operands with the CPU's own
/// conversion where it has one (`round(_:rows:cols:ld:into:)`), the same but for subnormals.
///
/// ```swift
/// BF16.round(1.00390625)     // 0x3F80: 1 + 2^-8 is a tie, rounded to the even 1.0
/// BF16.float(0x3F81)         // 1.0078125
/// ```
package enum BF16 {
    /// The bf16 bits nearest to `x` (ties to even). Branch-free, so loops over it vectorise.
    @inline(__always)
    package static func round(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        // Adding 0x7FFF rounds up past the halfway point; the low bit of the kept part makes a
        // tie round up only when that part is odd. Overflow into the exponent is correct (the
        // largest finite values round to infinity, as IEEE rounding does). A NaN keeps its top
        // bits with the quiet bit set, so no payload rounds it to infinity.
        let nearest = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
        let quiet = (bits >> 16) | 0x40
        return UInt16(truncatingIfNeeded: bits & 0x7FFF_FFFF > 0x7F80_0000 ? quiet : nearest)
    }

    /// The fp32 value of bf16 bits (exact).
    @inline(__always)
    package static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `x` rounded to the nearest bf16, as an fp32 (what a bf16 product sees of it).
    @inline(__always)
    package static func rounded(_ x: Float) -> Float { float(round(x)) }

    /// Whether this CPU converts with AVX512_BF16 (VCVTNE2PS2BF16, 32 floats per instruction;
    /// the portable loop runs on 4-lane SSE2, the build's baseline).
    package static let hasInstructions = CPUFlags.current().avx512bf16

    /// Rounds `rows` rows of `cols` floats, `ld` floats apart, into `out` (rows packed densely,
    /// `cols` apart), split across the kernel threads when large. With `instructions` (the
    /// default where the CPU has them) subnormal inputs (below 2^-126, ~1.2e-38) become zero, as
    /// the instruction reads them; otherwise every value is rounded as `round(_:)` does.
    package static func round(_ source: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                              into out: UnsafeMutablePointer<UInt16>, instructions: Bool = hasInstructions) {
        parallelFor(rows, work: rows * cols) { lo, hi in
            if instructions {
                mpm_cpu_round_bf16(source + lo * ld, hi - lo, cols, ld, out + lo * cols)
                return
            }
            for r in lo..<hi {
                let src = source + r * ld, dst = out + r * cols
                for j in 0..<cols { dst[j] = round(src[j]) }
            }
        }
    }
}
