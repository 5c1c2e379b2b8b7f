// CCPU: the CPU's vendor and vector-extension flags from cpuid, for choosing OpenBLAS kernels
// (Tensors/BLASCore.swift) and whether bf16 products can run (Tensors/Precision.swift), how
// many cores the process may run on (Tensors/Parallel.swift), and the kernels that need
// instructions the build does not assume (the bf16 conversion, Tensors/BF16.swift; the SwiGLU
// gate, Tensors/Functional/SwiGLU.swift).
// No Lua, no BLAS. Every flag is 0 off x86.
#ifndef MPM_CCPU_H
#define MPM_CCPU_H

typedef struct {
    int is_x86;
    int avx2;      // AVX2 in cpuid and YMM state enabled by the OS (xgetbv)
    int fma;       // FMA3, with YMM state enabled
    int avx512f;   // AVX-512 flags in cpuid and ZMM/opmask state enabled by the OS
    int avx512bw;
    int avx512vl;
    int avx512dq;
    int avx512bf16;  // AVX512_BF16 (cpuid leaf 7.1 EAX bit 5): oneDNN's bf16 products run natively
    char vendor[16];  // "GenuineIntel", "AuthenticAMD", ...; "" when unknown
} mpm_cpu_flags;

/// Fills *out from cpuid leaves 0, 1, 7 and 7.1.
void mpm_cpu_read_flags(mpm_cpu_flags *out);

/// Rounds `rows` rows of `cols` floats, `ld` apart, to bf16 bits (nearest even) into `out`, rows
/// `cols` apart, with the AVX512_BF16 conversion (VCVTNE2PS2BF16), which also reads subnormal
/// inputs as zero. Call only when `avx512bf16` is set (Tensors/BF16.swift does); a no-op off x86.
void mpm_cpu_round_bf16(const float *source, long rows, long cols, long ld, unsigned short *out);

/// Instruction sets the elementwise kernels below are compiled for, each beside the build's own
/// baseline; pass one only where cpuid reports it (Tensors/VectorISA.swift chooses).
enum { MPM_ISA_AVX2_FMA = 1, MPM_ISA_AVX512 = 2 };

/// silu(a) * b for `rows` rows of x = [a | b] (2h floats each) into y (h floats a row), compiled
/// for `isa`: the SwiGLU gate's forward (Tensors/Functional/SwiGLU.swift). A no-op off x86.
void mpm_cpu_swiglu_forward(int isa, const float *x, float *y, long rows, long h);

/// The SwiGLU gate's gradient for the same rows: ga = g b s (1 + a (1 - s)), gb = g a s with
/// s = sigmoid(a), into gx laid out as x. A no-op off x86.
void mpm_cpu_swiglu_backward(int isa, const float *x, const float *g, float *gx, long rows, long h);

/// The number of CPUs in this process's affinity mask (taskset, a batch system's cpuset, mpirun's
/// binding), as OpenBLAS and libdispatch count them; 0 when the mask cannot be read.
int mpm_cpu_usable_count(void);

#endif
