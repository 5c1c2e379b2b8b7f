import CBLAS
import CCPU
import Foundation

/// The CPU's vendor and vector extensions, as cpuid reports them (Sources/CCPU).
public struct CPUFlags: Equatable, Sendable {
    public var vendor: String
    public var avx2: Bool
    public var avx512f: Bool
    public var avx512bw: Bool
    public var avx512vl: Bool
    public var avx512dq: Bool
    /// AVX512_BF16: bf16 products run natively (Precision.swift).
    public var avx512bf16: Bool
    /// FMA3: with AVX2, the elementwise kernels' AVX2 build runs (VectorISA.swift).
    public var fma: Bool

    public init(vendor: String, avx2: Bool = false, avx512f: Bool = false, avx512bw: Bool = false,
                avx512vl: Bool = false, avx512dq: Bool = false, avx512bf16: Bool = false, fma: Bool = false) {
        self.vendor = vendor
        self.avx2 = avx2
        self.avx512f = avx512f
        self.avx512bw = avx512bw
        self.avx512vl = avx512vl
        self.avx512dq = avx512dq
        self.avx512bf16 = avx512bf16
        self.fma = fma
    }

    /// The subset OpenBLAS's SkylakeX kernels need (F, BW, VL, DQ).
    public var avx512: Bool { avx512f && avx512bw && avx512vl && avx512dq }
    public var isIntel: Bool { vendor == "GenuineIntel" }
    public var isAMD: Bool { vendor == "AuthenticAMD" || vendor == "HygonGenuine" }

    /// This machine's flags (all false off x86).
    public static func current() -> CPUFlags {
        var raw = mpm_cpu_flags()
        mpm_cpu_read_flags(&raw)
        let vendor = withUnsafeBytes(of: raw.vendor) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return CPUFlags(vendor: vendor, avx2: raw.avx2 != 0, avx512f: raw.avx512f != 0,
                        avx512bw: raw.avx512bw != 0, avx512vl: raw.avx512vl != 0,
                        avx512dq: raw.avx512dq != 0, avx512bf16: raw.avx512bf16 != 0, fma: raw.fma != 0)
    }
}

/// Which OpenBLAS kernels run, and which should. OpenBLAS (DYNAMIC_ARCH builds, as Debian's)
/// picks its kernels once, when the library loads, from cpuid - or from the OPENBLAS_CORETYPE
/// variable. An OpenBLAS older than the CPU does not know the model and falls back to generic
/// SSE3 kernels ("Prescott"), 3-4x slower for sgemm. An already-loaded OpenBLAS cannot switch
/// cores, so the fix is to set the variable before the library loads: the mpmlua host re-executes
/// itself with it (docs/architecture.md, "BLAS kernels").
public enum BLASCore {
    /// The variable OpenBLAS reads at load time.
    public static let variable = "OPENBLAS_CORETYPE"
    /// Set (to the forced core) by whoever set `variable` on the user's behalf; its presence also
    /// stops a second re-exec.
    public static let marker = "MPMLUA_FORCED_CORETYPE"

    /// Core names (lowercased) OpenBLAS uses for x86 cores without AVX2: when one of these runs
    /// on a CPU with AVX2 the library has fallen back.
    public static let genericCores: Set<String> = [
        "prescott", "katmai", "coppermine", "northwood", "core2", "penryn", "dunnington",
        "nehalem", "atom", "sandybridge", "barcelona", "opteron", "opteron_sse3", "athlon",
        "bobcat", "bulldozer", "piledriver", "steamroller", "unknown", "",
    ]

    /// Core names (lowercased) of OpenBLAS's AVX-512 kernels.
    public static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// Whether OpenBLAS runs narrower kernels than this CPU has: an AVX-512 CPU on AVX2 or
    /// generic kernels, as when OPENBLAS_CORETYPE=Haswell is set for the sake of an older
    /// OpenBLAS elsewhere (some machines set it). The product layer then gives its fp32 products
    /// to oneDNN (Products.swift); the variable itself is never overridden.
    public static let runsNarrowerKernels = runsNarrower(core: coreName, flags: .current())

    /// The decision behind `runsNarrowerKernels`, for a given core and CPU.
    public static func runsNarrower(core: String, flags: CPUFlags) -> Bool {
        flags.avx512 && !avx512Cores.contains(core.lowercased())
    }

    /// The core to force, or nil to leave OpenBLAS alone: nil when the user set `variable`
    /// (never overridden), when `marker` is set (already re-executed once), when `current` is
    /// not a generic core, or when the CPU has nothing better.
    public static func recommendation(current: String, flags: CPUFlags,
                                      environment: [String: String]) -> String? {
        if environment[variable] != nil || environment[marker] != nil { return nil }
        guard genericCores.contains(current.lowercased()) else { return nil }
        if flags.isIntel {
            if flags.avx512 { return "SkylakeX" }
            if flags.avx2 { return "Haswell" }
        } else if flags.isAMD, flags.avx2 {
            return "Zen"
        }
        return nil
    }

    /// The variables a launcher should set before starting a program that loads OpenBLAS, so
    /// its kernels fit this CPU; empty when nothing needs setting. It does not change the
    /// running process: an OpenBLAS already loaded keeps its core.
    public static func recommendedEnvironment(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String: String] {
        guard let core = recommendation(current: coreName, flags: .current(), environment: environment)
        else { return [:] }
        return [variable: core, marker: core]
    }

    /// The core OpenBLAS chose when it loaded (openblas_get_corename()).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "" }
        return String(cString: name)
    }

    /// OpenBLAS's build description (openblas_get_config()), with its version.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "" }
        return String(cString: text)
    }

    /// OpenBLAS's threads per call: 1 once the project has set it up (BLASThreads).
    public static var threads: Int {
        BLASThreads.configure()
        return Int(openblas_get_num_threads())
    }

    /// The core the host forced, or nil when OPENBLAS_CORETYPE is the user's or unset.
    public static func forcedCore(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        guard let forced = environment[marker], environment[variable] == forced else { return nil }
        return forced
    }

    /// Re-executes this program once with `recommendedEnvironment()` set when OpenBLAS fell back
    /// to generic kernels; returns (doing nothing) otherwise, or when exec fails. Call it first
    /// thing in `main`, before any thread exists: the mpmlua host does, and so can any Swift
    /// program embedding the library.
    ///
    /// ```swift
    /// BLASCore.ensureFastKernels()   // may restart this program once with OPENBLAS_CORETYPE set
    /// ```
    public static func ensureFastKernels() {
        let environment = recommendedEnvironment()
        if environment.isEmpty { return }
        for (name, value) in environment { setenv(name, value, 1) }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        for name in environment.keys { unsetenv(name) }  // exec failed: carry on, slow kernels
    }

    /// One line for `mpmlua --version`: "OpenBLAS 0.3.21 ... core Zen, 1 thread per call, 2 kernel threads".
    public static var summary: String {
        var line = "\(configuration), core \(coreName), \(threads) thread per call, \(BLASThreads.kernelThreadCount) kernel threads"
        if let forced = forcedCore() { line += " (\(variable)=\(forced) set by mpmlua)" }
        return line
    }
}
