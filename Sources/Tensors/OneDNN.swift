import CDNNL
import Foundation

/// oneDNN's matrix product (Debian's `libdnnl-dev` 2.6), for the product layer (Products.swift):
/// C = alpha op(A) op(B) + beta C with fp32 or bf16 inputs and fp32 accumulation and output,
/// row-major, transposes and leading dims as in BLAS; or C = op(A) op(B) + bias, an fp32 row
/// added in the kernel as it writes C (a linear layer without its bias prefill pass).
///
/// Every size and leading dim is a run-time argument (DNNL_RUNTIME_DIM_VAL), so one primitive
/// per (input type, transposes, alpha, beta, bias or not) serves every shape: the rows of a
/// packed batch change every step, and a primitive per shape would JIT-compile 0.2-0.5 ms of
/// kernels for each new size. Run-time sizes select oneDNN's `gemm:jit` kernels, which ran as fast as its brgemm ones
/// on the training step's shapes (docs/architecture.md, "Matrix products").
///
/// Threads: this oneDNN runs on OpenMP. Each call here runs on the calling thread alone
/// (`omp_set_num_threads(1)`, a per-thread setting), and the product layer splits large products
/// across the kernels' own workers, so OpenMP never starts a team to spin against them.
///
/// ```swift
/// let ok = OneDNN.gemm(input: .bf16, transA: false, transB: true, m: 4, n: 3, k: 8, alpha: 1,
///                      a: a16, lda: 8, b: b16, ldb: 8, beta: 0, c: c, ldc: 3)   // false: use OpenBLAS
/// ```
package enum OneDNN {
    /// The element type of A and B.
    package enum Input: Hashable { case f32, bf16 }

    /// One primitive: what `gemm` needs besides the operands.
    private struct Key: Hashable {
        let input: Input, transA: Bool, transB: Bool
        let alpha: UInt32, beta: UInt32
        let bias: Bool
    }

    private final class Primitive {
        let handle: dnnl_primitive_t
        let scratchBytes: Int
        init(handle: dnnl_primitive_t, scratchBytes: Int) { self.handle = handle; self.scratchBytes = scratchBytes }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var primitives: [Key: Primitive] = [:]

    /// The CPU engine, nil when oneDNN cannot make one (then every call returns false).
    nonisolated(unsafe) private static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// "oneDNN 2.6.3".
    package static var version: String {
        guard let v = dnnl_version() else { return "oneDNN" }
        return "oneDNN \(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// The instruction set oneDNN dispatches to on this CPU ("avx512_core_bf16", "avx2", ...).
    package static var isaName: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic, dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "generic"
        }
    }

    /// Whether oneDNN runs bf16 products natively here: an engine, and an ISA that includes
    /// AVX512_BF16 (its ISA values are bit sets, each containing the ones below it).
    package static var hasBF16Kernels: Bool {
        let bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return engine != nil && dnnl_get_effective_cpu_isa().rawValue & bf16 == bf16
    }

    /// Whether oneDNN can run products here at all (it made a CPU engine).
    package static var isUsable: Bool { engine != nil }

    /// One line for `mpmlua --version`: "oneDNN 2.6.3, ISA avx512_core_bf16, 1 OpenMP thread per
    /// call, bf16 products native".
    package static var summary: String {
        guard engine != nil else { return "\(version): no CPU engine, unused" }
        return "\(version), ISA \(isaName), 1 OpenMP thread per call, bf16 products "
            + (Precision.bf16.isAvailable ? "native" : "fall back to fp32")
            + (Products.oneDNNF32Wide ? ", fp32 products too (OpenBLAS's \(BLASCore.coreName) kernels are narrower)" : "")
    }

    /// C[m, n] = alpha op(A) op(B) + beta C on the calling thread. `a` and `b` hold Float or
    /// bf16 bits (`input`); leading dims count elements. Returns false, touching nothing, when
    /// oneDNN refuses (no engine, no implementation); the caller then uses OpenBLAS. `bias`, n
    /// floats added to every row of C, needs alpha = 1 and beta = 0 (the order of the two is
    /// then moot).
    package static func gemm(input: Input, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                             bias: UnsafePointer<Float>? = nil) -> Bool {
        guard let engine else { return false }
        precondition(bias == nil || (alpha == 1 && beta == 0), "OneDNN.gemm: a bias needs alpha 1 and beta 0")
        omp_set_num_threads(1)
        guard let primitive = primitive(Key(input: input, transA: transA, transB: transB,
                                            alpha: alpha.bitPattern, beta: beta.bitPattern, bias: bias != nil), engine) else { return false }
        let type = input == .f32 ? dnnl_f32 : dnnl_bf16
        var da = matrix(rows: m, cols: k, transposed: transA, ld: lda, type)
        var db = matrix(rows: k, cols: n, transposed: transB, ld: ldb, type)
        var dc = matrix(rows: m, cols: n, transposed: false, ld: ldc, dnnl_f32)
        var ds = dnnl_memory_desc_t()
        dnnl_memory_desc_init_by_tag(&ds, 1, [dnnl_dim_t(Swift.max(primitive.scratchBytes, 1))], dnnl_u8, dnnl_a)
        let (scratch, scratchSize) = Allocator.allocate(Swift.max(primitive.scratchBytes, 1))
        defer { Allocator.deallocate(scratch, size: scratchSize) }
        var ma: dnnl_memory_t?, mb: dnnl_memory_t?, mc: dnnl_memory_t?, ms: dnnl_memory_t?, mbias: dnnl_memory_t?
        var stream: dnnl_stream_t?
        defer {
            for memory in [ma, mb, mc, ms, mbias] { if let memory { dnnl_memory_destroy(memory) } }
            if let stream { dnnl_stream_destroy(stream) }
        }
        guard dnnl_memory_create(&ma, &da, engine, UnsafeMutableRawPointer(mutating: a)) == dnnl_success,
              dnnl_memory_create(&mb, &db, engine, UnsafeMutableRawPointer(mutating: b)) == dnnl_success,
              dnnl_memory_create(&mc, &dc, engine, c) == dnnl_success,
              dnnl_memory_create(&ms, &ds, engine, scratch) == dnnl_success,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else { return false }
        var args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: ma), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: mb),
                    dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: mc), dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: ms)]
        if let bias {
            var dbias = matrix(rows: 1, cols: n, transposed: false, ld: n, dnnl_f32)
            guard dnnl_memory_create(&mbias, &dbias, engine, UnsafeMutableRawPointer(mutating: bias)) == dnnl_success else { return false }
            args.append(dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: mbias))
        }
        guard dnnl_primitive_execute(primitive.handle, stream, Int32(args.count), &args) == dnnl_success else { return false }
        return dnnl_stream_wait(stream) == dnnl_success
    }

    /// DNNL_RUNTIME_DIM_VAL (INT64_MIN: a size given at execution), a macro Swift does not import.
    private static let runtimeDim = Int(Int64.min)

    /// A [rows, cols] matrix stored row-major with `ld` between rows, or its transpose stored so
    /// (`ld` between columns). A primitive is built with DNNL_RUNTIME_DIM_VAL for all three.
    private static func matrix(rows: Int, cols: Int, transposed: Bool, ld: Int, _ type: dnnl_data_type_t) -> dnnl_memory_desc_t {
        var desc = dnnl_memory_desc_t()
        let strides: [dnnl_dim_t] = transposed ? [1, dnnl_dim_t(ld)] : [dnnl_dim_t(ld), 1]
        dnnl_memory_desc_init_by_strides(&desc, 2, [dnnl_dim_t(rows), dnnl_dim_t(cols)], type, strides)
        return desc
    }

    /// The cached primitive for `key`, made on first use (nil when oneDNN has none).
    private static func primitive(_ key: Key, _ engine: dnnl_engine_t) -> Primitive? {
        lock.lock()
        defer { lock.unlock() }
        if let p = primitives[key] { return p }
        let any = runtimeDim
        let type = key.input == .f32 ? dnnl_f32 : dnnl_bf16
        var da = matrix(rows: any, cols: any, transposed: key.transA, ld: any, type)
        var db = matrix(rows: any, cols: any, transposed: key.transB, ld: any, type)
        var dc = matrix(rows: any, cols: any, transposed: false, ld: any, dnnl_f32)
        var dbias = matrix(rows: 1, cols: any, transposed: false, ld: any, dnnl_f32)
        var desc = dnnl_matmul_desc_t()
        guard (key.bias ? dnnl_matmul_desc_init(&desc, &da, &db, &dbias, &dc)
                        : dnnl_matmul_desc_init(&desc, &da, &db, nil, &dc)) == dnnl_success else { return nil }
        var attr: dnnl_primitive_attr_t?, ops: dnnl_post_ops_t?, pd: dnnl_primitive_desc_t?
        defer {
            if let attr { dnnl_primitive_attr_destroy(attr) }
            if let ops { dnnl_post_ops_destroy(ops) }
            if let pd { dnnl_primitive_desc_destroy(pd) }
        }
        guard dnnl_primitive_attr_create(&attr) == dnnl_success,
              dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success else { return nil }
        var alpha = Float(bitPattern: key.alpha)
        if alpha != 1 && dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha) != dnnl_success { return nil }
        let beta = Float(bitPattern: key.beta)
        if beta != 0 {
            // beta C is oneDNN's "sum" post-op: dst = alpha A B + beta dst.
            guard dnnl_post_ops_create(&ops) == dnnl_success, dnnl_post_ops_append_sum(ops, beta) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success else { return nil }
        }
        guard withUnsafePointer(to: &desc, { dnnl_primitive_desc_create(&pd, UnsafeRawPointer($0), attr, engine, nil) }) == dnnl_success,
              let pd else { return nil }
        let scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0))
        var handle: dnnl_primitive_t?
        guard dnnl_primitive_create(&handle, pd) == dnnl_success, let handle else { return nil }
        let p = Primitive(handle: handle, scratchBytes: scratch)
        primitives[key] = p
        return p
    }
}
