#define _GNU_SOURCE
#include "CCPU.h"
#include <sched.h>
#include <string.h>

int mpm_cpu_usable_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    return 0;
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

void mpm_cpu_read_flags(mpm_cpu_flags *out) {
    memset(out, 0, sizeof *out);
    out->is_x86 = 1;
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
    unsigned int maxLeaf = eax;
    memcpy(out->vendor + 0, &ebx, 4);
    memcpy(out->vendor + 4, &edx, 4);
    memcpy(out->vendor + 8, &ecx, 4);
    out->vendor[12] = 0;
    if (maxLeaf < 7 || !__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return;
    int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave || !avx) return;
    unsigned long long xcr0 = read_xcr0();
    int ymm = (xcr0 & 0x6) == 0x6;       // SSE + AVX state
    int zmm = ymm && (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM_Hi256 + Hi16_ZMM
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    // eax now holds the highest sub-leaf of leaf 7.
    out->avx2 = ymm && ((ebx >> 5) & 1);
    out->fma = ymm && fma;
    out->avx512f = zmm && ((ebx >> 16) & 1);
    out->avx512dq = zmm && ((ebx >> 17) & 1);
    out->avx512bw = zmm && ((ebx >> 30) & 1);
    out->avx512vl = zmm && ((ebx >> 31) & 1);
    // Leaf 7 sub-leaf 1, EAX bit 5: the bf16 dot products and conversions (VDPBF16PS, VCVTNE2PS2BF16).
    if (eax >= 1) {
        __cpuid_count(7, 1, eax, ebx, ecx, edx);
        out->avx512bf16 = zmm && ((eax >> 5) & 1);
    }
}

#include <immintrin.h>

// Compiled for AVX512_BF16 whatever the build's target, and called only where cpuid reports it.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
void mpm_cpu_round_bf16(const float *source, long rows, long cols, long ld, unsigned short *out) {
    for (long r = 0; r < rows; r++) {
        const float *s = source + r * ld;
        unsigned short *d = out + r * cols;
        long j = 0;
        for (; j + 32 <= cols; j += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + j + 16), _mm512_loadu_ps(s + j));
            _mm512_storeu_si512((void *)(d + j), (__m512i)v);
        }
        if (j < cols) {
            // The tail through a masked load and store: no reads or writes past the row.
            long left = cols - j;
            __mmask16 lo = (__mmask16)(left >= 16 ? 0xFFFF : (1u << left) - 1);
            __mmask16 hi = (__mmask16)(left <= 16 ? 0 : (1u << (left - 16)) - 1);
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, s + j + 16), _mm512_maskz_loadu_ps(lo, s + j));
            __mmask32 all = (__mmask32)(left >= 32 ? 0xFFFFFFFFu : (1u << left) - 1);
            _mm512_mask_storeu_epi16((void *)(d + j), all, (__m512i)v);
        }
    }
}
#else
void mpm_cpu_read_flags(mpm_cpu_flags *out) { memset(out, 0, sizeof *out); }
void mpm_cpu_round_bf16(const float *source, long rows, long cols, long ld, unsigned short *out) {
    (void)source; (void)rows; (void)cols; (void)ld; (void)out;
}
#endif
