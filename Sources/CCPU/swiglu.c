// The SwiGLU gate as plain loops compiled for AVX2 with FMA and for AVX-512: the Swift build
// assumes only SSE2, so its SIMD code runs 4 lanes without FMA where these CPUs have 8 or 16.
// One body per direction, inlined into a function per instruction set; the compiler vectorizes
// each. The arithmetic is FusedMath's (Tensors/Functional/VectorMath.swift): the same exp.
#include "CCPU.h"

#if defined(__x86_64__)
#include <math.h>
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

// exp(x) within 2 ulp: FusedMath.exp's Cephes polynomial after a Cody-Waite reduction, and its
// patching of out-of-range lanes (0 below -87.3, +inf above 88.37).
INLINE float exp_cephes(float x) {
    const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    float t = x * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * (r * r) + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;  // 2^n from the integer in t's mantissa
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float out = y * scale;
    out = x < -87.33654f ? 0.0f : out;
    return x > 88.37626f ? INFINITY : out;
}

INLINE void forward_rows(const float *x, float *y, long rows, long h) {
    for (long r = 0; r < rows; r++) {
        const float *a = x + r * 2 * h, *b = a + h;
        float *o = y + r * h;
        for (long i = 0; i < h; i++) o[i] = a[i] * b[i] / (1.0f + exp_cephes(-a[i]));
    }
}

INLINE void backward_rows(const float *x, const float *g, float *gx, long rows, long h) {
    for (long r = 0; r < rows; r++) {
        const float *a = x + r * 2 * h, *b = a + h, *gr = g + r * h;
        float *ga = gx + r * 2 * h, *gb = ga + h;
        for (long i = 0; i < h; i++) {
            float s = 1.0f / (1.0f + exp_cephes(-a[i]));
            ga[i] = gr[i] * b[i] * s * (1.0f + a[i] * (1.0f - s));
            gb[i] = gr[i] * a[i] * s;
        }
    }
}

__attribute__((target("avx2,fma")))
static void forward_avx2(const float *x, float *y, long rows, long h) { forward_rows(x, y, rows, h); }
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma")))
static void forward_avx512(const float *x, float *y, long rows, long h) { forward_rows(x, y, rows, h); }
__attribute__((target("avx2,fma")))
static void backward_avx2(const float *x, const float *g, float *gx, long rows, long h) { backward_rows(x, g, gx, rows, h); }
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma")))
static void backward_avx512(const float *x, const float *g, float *gx, long rows, long h) { backward_rows(x, g, gx, rows, h); }

void mpm_cpu_swiglu_forward(int isa, const float *x, float *y, long rows, long h) {
    if (isa == MPM_ISA_AVX512) forward_avx512(x, y, rows, h);
    else if (isa == MPM_ISA_AVX2_FMA) forward_avx2(x, y, rows, h);
}

void mpm_cpu_swiglu_backward(int isa, const float *x, const float *g, float *gx, long rows, long h) {
    if (isa == MPM_ISA_AVX512) backward_avx512(x, g, gx, rows, h);
    else if (isa == MPM_ISA_AVX2_FMA) backward_avx2(x, g, gx, rows, h);
}
#else
void mpm_cpu_swiglu_forward(int isa, const float *x, float *y, long rows, long h) {
    (void)isa; (void)x; (void)y; (void)rows; (void)h;
}
void mpm_cpu_swiglu_backward(int isa, const float *x, const float *g, float *gx, long rows, long h) {
    (void)isa; (void)x; (void)g; (void)gx; (void)rows; (void)h;
}
#endif
