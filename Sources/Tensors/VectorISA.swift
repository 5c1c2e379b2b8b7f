import CCPU

/// The instruction sets CCPU's elementwise kernels are compiled for beside the build's SSE2
/// baseline (Sources/CCPU/swiglu.c). Swift SIMD code here runs 4 lanes without FMA, since the
/// binary must start on any x86-64; a kernel in CCPU runs 8 (AVX2 with FMA) or 16 (AVX-512).
/// `best` is chosen once from cpuid; nil means the Swift loops.
///
/// ```swift
/// if let isa = VectorISA.best { mpm_cpu_swiglu_forward(isa.rawValue, x, y, rows, h) }
/// ```
package enum VectorISA: Int32, CaseIterable, Sendable {
    case avx2FMA = 1    // MPM_ISA_AVX2_FMA
    case avx512 = 2     // MPM_ISA_AVX512: F, BW, VL and DQ

    /// The widest set this CPU runs, or nil (no AVX2 with FMA, or not x86).
    package static let best: VectorISA? = available.last

    /// Every set this CPU runs, narrowest first: tests compare each with the Swift loops.
    package static var available: [VectorISA] {
        let flags = CPUFlags.current()
        return allCases.filter { $0 == .avx512 ? flags.avx512 && flags.fma : flags.avx2 && flags.fma }
    }
}
