import CLua
import CSupport
import Foundation
import Tensors

/// Builds the `mpm` core table in a Lua state. The Lua half (`lua/mpm/init.lua`) requires it as
/// `mpm.core` and adds what is written in Lua.
public enum MPMLibrary {
    public static let version = "0.1.0"

    /// Prepares `state` for Swift functions and installs `package.loaded["mpm.core"]`.
    /// Call before running any script.
    ///
    /// ```swift
    /// let L = luaL_newstate()!; luaL_openlibs(L); MPMLibrary.open(LuaState(L))
    /// ```
    public static func open(_ lua: LuaState) {
        mpm_prepare_state(lua.state)
        LuaStateContext.install(lua)
        lua.newTable()
        let mpm = lua.top
        lua.push(version)
        lua.setRawField(mpm, "version")
        registerHostFunctions(lua, in: mpm)
        TensorLibrary.register(lua, in: mpm)
        AutogradLibrary.register(lua, in: mpm)
        NNLibrary.register(lua, in: mpm)
        ValueFileLibrary.register(lua, in: mpm)
        RecordsLibrary.register(lua, in: mpm)
        ONNXLibrary.register(lua, in: mpm)
        FunctionalLibrary.register(lua, in: mpm)
        DataLibrary.register(lua, in: mpm)
        FilesLibrary.register(lua, in: mpm)
        JSONLibrary.register(lua, in: mpm)
        DistributedLibrary.register(lua, in: mpm)
        MPMBindings.register(lua, in: mpm)
        // package.loaded["mpm.core"] = mpm
        lua_getfield(lua.state, mpm_registryindex(), LUA_LOADED_TABLE)
        lua.pushValue(mpm)
        lua.setRawField(-2, "mpm.core")
        lua.pop(2)
    }

    static func registerHostFunctions(_ lua: LuaState, in mpm: Int32) {
        lua.register("doc", in: mpm, doc: """
            mpm.doc(value) -> string or nil
            The docstring attached to a function or type, as shown by help(value).
            """) { lua in
            LuaDocs.pushDoc(lua, of: 1)
            return 1
        }
        lua.register("clock", in: mpm, doc: """
            mpm.clock() -> seconds
            Monotonic wall-clock time in seconds, for timing code: local t0 = mpm.clock().
            """) { lua in
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            lua.push(Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9)
            return 1
        }
        lua.register("memory", in: mpm, doc: """
            mpm.memory() -> {rss = bytes, peak_rss = bytes, tensor_bytes = bytes, collections = n}
            Resident memory of the process (now and peak), bytes held by live tensors, and the
            number of collections that tensor memory has triggered.
            """) { lua in
            let usage = ProcessMemory.read()
            lua.newTable(hash: 4)
            lua.push(usage.resident)
            lua.setRawField(-2, "rss")
            lua.push(usage.peakResident)
            lua.setRawField(-2, "peak_rss")
            lua.push(Int(mpm_bytes_live()))
            lua.setRawField(-2, "tensor_bytes")
            lua.push(Int(mpm_collections_triggered()))
            lua.setRawField(-2, "collections")
            return 1
        }
        lua.register("config", in: mpm, doc: """
            mpm.config() -> {blas, blas_version, blas_core, blas_threads, kernel_threads, onednn, onednn_isa, bf16, cpu = {vendor, avx2, avx512, avx512_bf16}, forced_core}
            The linear-algebra build: blas = "OpenBLAS", blas_version = its build line
            (openblas_get_config), blas_core = the kernels it chose at load (e.g. "Haswell",
            "SkylakeX", "Zen"; "Prescott" means generic SSE3 kernels), blas_threads (1: each call
            runs on its caller's thread) and kernel_threads (the one pool that runs the kernels and
            splits large products, one thread per core the process may run on: its CPU affinity,
            as taskset, a cpuset or mpirun set it; docs/architecture.md, "BLAS threads"), onednn =
            the oneDNN behind bf16 (and some fp32) products ("oneDNN 2.6.3"), onednn_isa = the
            instruction set it picked ("avx512_core_bf16"), bf16 = whether mpm.autocast("bf16")
            products run in bf16 here (false: they fall back to fp32), the CPU's vendor and
            AVX2/AVX-512/AVX512_BF16 support, and forced_core = the OPENBLAS_CORETYPE the mpmlua
            host set because OpenBLAS did not recognise the CPU (nil otherwise).
            """) { lua in
            let flags = CPUFlags.current()
            lua.newTable(hash: 6)
            lua.push("OpenBLAS")
            lua.setRawField(-2, "blas")
            lua.push(BLASCore.configuration)
            lua.setRawField(-2, "blas_version")
            lua.push(BLASCore.coreName)
            lua.setRawField(-2, "blas_core")
            lua.push(BLASCore.threads)
            lua.setRawField(-2, "blas_threads")
            lua.push(BLASThreads.kernelThreadCount)
            lua.setRawField(-2, "kernel_threads")
            lua.push(OneDNN.version)
            lua.setRawField(-2, "onednn")
            lua.push(OneDNN.isaName)
            lua.setRawField(-2, "onednn_isa")
            lua.push(Precision.bf16.isAvailable)
            lua.setRawField(-2, "bf16")
            lua.newTable(hash: 4)
            lua.push(flags.vendor)
            lua.setRawField(-2, "vendor")
            lua.push(flags.avx2)
            lua.setRawField(-2, "avx2")
            lua.push(flags.avx512)
            lua.setRawField(-2, "avx512")
            lua.push(flags.avx512bf16)
            lua.setRawField(-2, "avx512_bf16")
            lua.setRawField(-2, "cpu")
            if let forced = BLASCore.forcedCore() {
                lua.push(forced)
                lua.setRawField(-2, "forced_core")
            }
            return 1
        }
        lua.register("timeit", in: mpm, doc: """
            mpm.timeit(f [, repeats]) -> seconds
            Calls f() `repeats` times (default 10) and returns the fastest call's time in seconds.
            An error inside f stops the timing and propagates unchanged.
            """) { lua in
            try lua.checkFunction(1)
            let repeats = try lua.optionalInteger(2, default: 10)
            guard repeats >= 1 else { throw LuaError.argument(2, "repeats must be at least 1, got \(repeats)") }
            var best = Double.infinity
            for _ in 0..<repeats {
                lua.pushValue(1)
                let start = DispatchTime.now().uptimeNanoseconds
                try lua.protectedCall(arguments: 0, results: 0)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            lua.push(best)
            return 1
        }
    }
}

/// Resident memory from /proc/self/status (Linux), in bytes.
struct ProcessMemory {
    var resident = 0
    var peakResident = 0

    static func read() -> ProcessMemory {
        var usage = ProcessMemory()
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return usage }
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })  // "VmHWM:\t  1960 kB"
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { usage.resident = kilobytes * 1024 }
            if fields[0] == "VmHWM:" { usage.peakResident = kilobytes * 1024 }
        }
        return usage
    }
}
