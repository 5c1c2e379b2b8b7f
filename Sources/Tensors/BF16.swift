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

/// Rounded bf16 bits in the caching allocator's memory, freed with the object: an operand rounded
/// once for several products (Functional.linear keeps its input's for the weight gradient and its
/// gradient's for both backward products) or a weight's copy kept on its storage
/// (`BF16Copy.of(_:)`).
///
/// ```swift
/// let x16 = BF16Copy(rows: rows, cols: k) { BF16.round(x, rows: rows, cols: k, ld: k, into: $0) }
/// ```
package final class BF16Copy {
    package let bits: UnsafeMutablePointer<UInt16>
    private let raw: UnsafeMutableRawPointer, size: Int
    /// What it was rounded from, for `of(_:)`: the storage version and the range of elements.
    fileprivate var version = 0, offset = 0, count = 0

    /// `rows * cols` bf16 values, filled by `fill`.
    package init(rows: Int, cols: Int, fill: (UnsafeMutablePointer<UInt16>) -> Void) {
        (raw, size) = Allocator.allocate(Swift.max(rows * cols, 1) * 2)
        bits = raw.bindMemory(to: UInt16.self, capacity: Swift.max(rows * cols, 1))
        fill(bits)
    }

    deinit { Allocator.deallocate(raw, size: size) }

    private static let lock = NSLock()

    /// The bf16 copy of the contiguous fp32 `t` (rounded as a product rounds it, rows packed), kept
    /// on its storage and made again only after the storage's version moves (every in-place
    /// write bumps it: an optimiser step, `copy_`, `markModified`) or for another range of it. A
    /// weight is then rounded once per optimiser step in training, not once per product, and once
    /// in all for inference, not once per call and block of sets. The lock makes the blocks'
    /// workers share one rounding; the copy costs half the weight's fp32 bytes while it lives.
    package static func of(_ t: Tensor) -> BF16Copy {
        precondition(t.dtype == .f32 && t.isContiguous, "BF16Copy.of: needs a contiguous f32 tensor")
        let storage = t.storage, n = t.numel
        lock.lock()
        defer { lock.unlock() }
        if let copy = storage.bf16, copy.version == storage.version, copy.offset == t.offset, copy.count == n {
            return copy
        }
        let cols = Swift.max(t.shape.last ?? 1, 1), rows = n / cols
        let copy = BF16Copy(rows: rows, cols: cols) { BF16.round(t.pointer(Float.self), rows: rows, cols: cols, ld: cols, into: $0) }
        (copy.version, copy.offset, copy.count) = (storage.version, t.offset, n)
        storage.bf16 = copy
        return copy
    }
}
