// The measurement behind the product layer's rule (Sources/Tensors/Products.swift,
// docs/architecture.md "Matrix products"): GFLOP/s of OpenBLAS sgemm, oneDNN f32 and oneDNN bf16
// (bf16 inputs, f32 accumulation and output) on the training step's shapes, threaded the way
// mpmlua threads them: C split into row blocks (column blocks when C has few rows, depth blocks
// when the shared dimension is much longer than C), one block per thread, each library on one
// thread per call. oneDNN is also timed with its own OpenMP threads (the whole call), for the
// record. Rounds alternate the libraries, so a shared machine's load hits them alike.
//   make product-table    (cc -O2 tools/product_table.c -lopenblas -ldnnl -lgomp -lpthread)
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void omp_set_num_threads(int);
void openblas_set_num_threads(int);

#define CHECK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { fprintf(stderr, "%s: %d\n", #x, (int)s_); exit(1); } } while (0)

static dnnl_engine_t engine;

typedef struct { int m, n, k, ta, tb; } shape_t;

// One oneDNN matmul C[m,n] = op(A) op(B), row-major operands with the given leading dims.
typedef struct { dnnl_primitive_t prim; size_t scratch; char impl[64]; } prim_t;

// Every size and leading dimension is a run-time argument (DNNL_RUNTIME_DIM_VAL), as in
// mpmlua: one primitive per (input type, transposes) serves every shape. (A primitive per shape
// would run oneDNN's brgemm kernels at the same speed but JIT-compile 0.2-0.5 ms of code for each
// new batch size.)
static dnnl_status_t matmul_desc(int ta, int tb, dnnl_data_type_t in, dnnl_primitive_attr_t attr,
                                 dnnl_primitive_desc_t *pd) {
    const dnnl_dim_t R = DNNL_RUNTIME_DIM_VAL;
    dnnl_memory_desc_t a, b, c;
    dnnl_dims_t ad = {R, R}, as = {ta ? 1 : R, ta ? R : 1};
    dnnl_dims_t bd = {R, R}, bs = {tb ? 1 : R, tb ? R : 1};
    dnnl_dims_t cd = {R, R}, cs = {R, 1};
    CHECK(dnnl_memory_desc_init_by_strides(&a, 2, ad, in, as));
    CHECK(dnnl_memory_desc_init_by_strides(&b, 2, bd, in, bs));
    CHECK(dnnl_memory_desc_init_by_strides(&c, 2, cd, dnnl_f32, cs));
    dnnl_matmul_desc_t md;
    CHECK(dnnl_matmul_desc_init(&md, &a, &b, NULL, &c));
    return dnnl_primitive_desc_create(pd, &md, attr, engine, NULL);
}

static prim_t make_prim(int ta, int tb, dnnl_data_type_t in) {
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    dnnl_primitive_desc_t pd;
    CHECK(matmul_desc(ta, tb, in, attr, &pd));
    prim_t p;
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(p.impl, sizeof p.impl, "%s", impl ? impl : "?");
    p.scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
    CHECK(dnnl_primitive_create(&p.prim, pd));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return p;
}

// Whether oneDNN has a bf16 matmul on this CPU (none without AVX512_BF16 or AMX: then the table
// has the OpenBLAS and f32 columns, the rule's fp32 half).
static int bf16_available(void) {
    dnnl_primitive_desc_t pd;
    if (matmul_desc(0, 1, dnnl_bf16, NULL, &pd) != dnnl_success) return 0;
    dnnl_primitive_desc_destroy(pd);
    return 1;
}

static void run_prim(prim_t *p, const void *a, const void *b, float *c, dnnl_data_type_t in,
                     int m, int n, int k, int ta, int tb, int lda, int ldb, int ldc) {
    dnnl_memory_desc_t ad_, bd_, cd_, sd;
    dnnl_dims_t ad = {m, k}, as = {ta ? 1 : lda, ta ? lda : 1};
    dnnl_dims_t bd = {k, n}, bs = {tb ? 1 : ldb, tb ? ldb : 1};
    dnnl_dims_t cd = {m, n}, cs = {ldc, 1};
    dnnl_memory_desc_init_by_strides(&ad_, 2, ad, in, as);
    dnnl_memory_desc_init_by_strides(&bd_, 2, bd, in, bs);
    dnnl_memory_desc_init_by_strides(&cd_, 2, cd, dnnl_f32, cs);
    dnnl_dims_t sdims = {(dnnl_dim_t)(p->scratch ? p->scratch : 1)};
    dnnl_memory_desc_init_by_tag(&sd, 1, sdims, dnnl_u8, dnnl_a);
    void *scratch = malloc(p->scratch ? p->scratch : 1);
    dnnl_memory_t ma, mb, mc, ms;
    dnnl_memory_create(&ma, &ad_, engine, (void *)a);
    dnnl_memory_create(&mb, &bd_, engine, (void *)b);
    dnnl_memory_create(&mc, &cd_, engine, c);
    dnnl_memory_create(&ms, &sd, engine, scratch);
    dnnl_stream_t stream;
    dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}, {DNNL_ARG_SCRATCHPAD, ms}};
    CHECK(dnnl_primitive_execute(p->prim, stream, 4, args));
    dnnl_stream_wait(stream);
    dnnl_stream_destroy(stream);
    dnnl_memory_destroy(ma); dnnl_memory_destroy(mb); dnnl_memory_destroy(mc); dnnl_memory_destroy(ms);
    free(scratch);
}

enum { OPENBLAS, DNNL_F32, DNNL_BF16, DNNL_BF16_OMP, LIBS };
static const char *names[LIBS] = {"OpenBLAS sgemm", "oneDNN f32", "oneDNN bf16", "oneDNN bf16 (its 2 OpenMP threads)"};

typedef struct {
    int lib, m, n, k, ta, tb, lda, ldb, ldc;
    const void *a, *b; float *c; prim_t *p;
} job_t;

static void *work(void *arg) {
    job_t *j = arg;
    omp_set_num_threads(1);
    if (j->lib == OPENBLAS) {
        cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans,
                    j->m, j->n, j->k, 1, j->a, j->lda, j->b, j->ldb, 0, j->c, j->ldc);
    } else {
        run_prim(j->p, j->a, j->b, j->c, j->lib == DNNL_F32 ? dnnl_f32 : dnnl_bf16,
                 j->m, j->n, j->k, j->ta, j->tb, j->lda, j->ldb, j->ldc);
    }
    return NULL;
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

#define THREADS 2

int main(void) {
    openblas_set_num_threads(1);
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN %d.%d.%d, ISA 0x%x; %d threads, best of alternating rounds\n", v->major, v->minor, v->patch,
           (unsigned)dnnl_get_effective_cpu_isa(), THREADS);
    int bf16 = bf16_available();
    if (!bf16) printf("no bf16 matmul in oneDNN on this CPU: its columns are -\n");
    shape_t shapes[] = {
        {26, 26, 32, 0, 1},          // attention scores of one (set, head), small preset
        {64, 64, 64, 0, 1},          // the crossover: how small a product oneDNN's per-call cost allows
        {128, 128, 128, 0, 1},
        {256, 128, 128, 0, 1},
        {512, 256, 128, 0, 1},
        {1024, 256, 256, 0, 1},
        {1024, 1024, 1024, 0, 0},
        {6675, 384, 128, 0, 1},      // small preset: qkv projection
        {6675, 1024, 128, 0, 1},     // small: SwiGLU in
        {6675, 128, 512, 0, 1},      // small: SwiGLU out
        {6675, 128, 384, 0, 0},      // small: qkv backward, dx = g W
        {384, 128, 6675, 1, 0},      // small: qkv weight gradient g^T x
        {12000, 128, 512, 0, 1},
        {11624, 1536, 512, 0, 1},    // paper: qkv
        {11624, 2048, 512, 0, 1},    // paper: SwiGLU in
        {11624, 512, 2048, 0, 1},    // paper: SwiGLU out
        {11624, 512, 2048, 0, 0},    // paper: SwiGLU in backward dx = g W
        {2048, 512, 11624, 1, 0},    // paper: SwiGLU in weight gradient g^T x
    };
    int nshapes = sizeof shapes / sizeof shapes[0];
    printf("| M x N x K (op) |");
    for (int l = 0; l < LIBS; l++) printf(" %s |", names[l]);
    printf(" oneDNN impl (%s block) |\n", bf16 ? "bf16" : "f32");
    for (int s = 0; s < nshapes; s++) {
        shape_t sh = shapes[s];
        int m = sh.m, n = sh.n, k = sh.k, ta = sh.ta, tb = sh.tb;
        int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
        size_t na = (size_t)m * k, nb = (size_t)k * n;
        float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc((size_t)m * n * 4);
        uint16_t *a16 = malloc(na * 2), *b16 = malloc(nb * 2);
        for (size_t i = 0; i < na; i++) { a[i] = (float)((i * 2654435761u) % 1000) / 1000 - 0.5f; a16[i] = 0x3f00; }
        for (size_t i = 0; i < nb; i++) { b[i] = (float)((i * 40503u) % 1000) / 1000 - 0.5f; b16[i] = 0x3f00; }
        // Split as Products.swift does: by depth when k >= 2 max(m, n), else rows (columns when m is small).
        int bydepth = k >= 2 * (m > n ? m : n), byrows = m >= n || m >= 32 * THREADS;
        int extent = bydepth ? k : byrows ? m : n;
        int step = ((extent + THREADS - 1) / THREADS + 15) / 16 * 16;
        if ((double)m * n * k < (1 << 19)) step = extent;
        int parts = (extent + step - 1) / step;
        float *partial = malloc((size_t)m * n * 4 * THREADS);
        prim_t prims[LIBS][THREADS];
        job_t jobs[LIBS][THREADS];
        int libs = bf16 ? LIBS : DNNL_BF16;
        for (int l = 0; l < libs; l++) {
            for (int p = 0; p < parts; p++) {
                int lo = p * step, len = (lo + step < extent ? lo + step : extent) - lo;
                int esz = l == DNNL_F32 || l == OPENBLAS ? 4 : 2;
                const char *pa = l == DNNL_F32 || l == OPENBLAS ? (const char *)a : (const char *)a16;
                const char *pb = l == DNNL_F32 || l == OPENBLAS ? (const char *)b : (const char *)b16;
                job_t j = {l, m, n, k, ta, tb, lda, ldb, ldc, pa, pb, c, NULL};
                if (l == DNNL_BF16_OMP) { j.m = m; if (p > 0) { j.m = 0; } }
                else if (bydepth) { j.k = len; j.a = pa + (size_t)esz * (ta ? (size_t)lo * lda : lo); j.b = pb + (size_t)esz * (tb ? lo : (size_t)lo * ldb); j.c = p == 0 ? c : partial + (size_t)p * m * n; }
                else if (byrows) { j.m = len; j.a = pa + (size_t)esz * (ta ? lo : (size_t)lo * lda); j.c = c + (size_t)lo * ldc; }
                else { j.n = len; j.b = pb + (size_t)esz * (tb ? (size_t)lo * ldb : lo); j.c = c + lo; }
                if (l != OPENBLAS && j.m > 0) {
                    prims[l][p] = make_prim(ta, tb, l == DNNL_F32 ? dnnl_f32 : dnnl_bf16);
                    j.p = &prims[l][p];
                }
                jobs[l][p] = j;
            }
        }
        double best[LIBS];
        for (int l = 0; l < LIBS; l++) best[l] = 1e30;
        double flops = 2.0 * m * n * k;
        int reps = flops > 1e9 ? 3 : flops > 1e7 ? 30 : 3000;
        for (int round = 0; round < 4; round++) {
            for (int l = 0; l < libs; l++) {
                double t0 = now();
                for (int r = 0; r < reps; r++) {
                    if (l == DNNL_BF16_OMP) {
                        omp_set_num_threads(THREADS);
                        run_prim(jobs[l][0].p, jobs[l][0].a, jobs[l][0].b, c, dnnl_bf16, m, n, k, ta, tb, lda, ldb, ldc);
                    } else if (parts == 1) {
                        work(&jobs[l][0]);
                    } else {
                        pthread_t th[THREADS];
                        for (int p = 1; p < parts; p++) pthread_create(&th[p], NULL, work, &jobs[l][p]);
                        work(&jobs[l][0]);
                        for (int p = 1; p < parts; p++) pthread_join(th[p], NULL);
                    }
                }
                double t = (now() - t0) / reps;
                if (t < best[l]) best[l] = t;
            }
        }
        printf("| %d x %d x %d (%s%s) |", m, n, k, ta ? "A^T " : "", tb ? "B^T" : "B");
        for (int l = 0; l < LIBS; l++) printf(l < libs ? " %.0f |" : " - |", flops / best[l] / 1e9);
        printf(" %s |\n", bf16 ? prims[DNNL_BF16][0].impl : prims[DNNL_F32][0].impl);
        fflush(stdout);
        free(a); free(b); free(c); free(a16); free(b16); free(partial);
    }
    return 0;
}
