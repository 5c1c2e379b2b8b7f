// mpmlua: runs Lua scripts with the mpm library, or an interactive REPL.
import DistributedJob
import Foundation
import LuaBindings
import Tensors

// OpenBLAS chose its kernels when it loaded, before this line. If it fell back to generic SSE3
// kernels on a CPU with AVX2/AVX-512, start again with OPENBLAS_CORETYPE set (docs/architecture.md,
// "BLAS kernels").
BLASCore.ensureFastKernels()

setvbuf(stdout, nil, _IOLBF, 0)

/// Writes an error report: `label` is "rank N: " when one rank of a job reports its own.
func writeReport(_ label: String, _ message: String) {
    FileHandle.standardError.write("mpmlua: \(label)\(message)\n".data(using: .utf8)!)
}

let arguments = CommandLine.arguments
let options: Options
do {
    options = try Options.parse(arguments)
} catch {
    // Under mpirun every rank would print it: with MPI started, one rank reports for all.
    try? Distributed.startIfLaunched()
    Distributed.fail(message: "\(error)\n\(Options.usage)", code: 1, write: writeReport)
}
if options.showHelp {
    print(Options.usage)
    exit(0)
}
if options.showVersion {
    print("mpmlua \(MPMLibrary.version) (Lua 5.4)")
    print(BLASCore.summary)
    print(OneDNN.summary)
    if options.actions.isEmpty && options.script == nil && !options.interactive { exit(0) }
}

// Under mpirun or srun, MPI starts before any script runs, so that a failure on any rank can
// end the whole job (Distributed.fail) instead of leaving the other ranks waiting.
do {
    try Distributed.startIfLaunched()
} catch {
    FileHandle.standardError.write("mpmlua: \(error)\n".data(using: .utf8)!)
    exit(1)
}

let environmentTraceback = ProcessInfo.processInfo.environment["MPMLUA_TRACEBACK"] ?? ""
LuaHost.showsTracebacks = options.showTraceback || !["", "0"].contains(environmentTraceback)

let host = LuaHost()
host.setArgTable(arguments, scriptIndex: options.scriptIndex)

/// Reports the error the host ran into and exits: inside an MPI job one rank reports for all,
/// and every rank ends.
func fail() -> Never {
    Distributed.fail(message: host.lastError ?? "failed", code: 1, write: writeReport)
}

for action in options.actions {
    let ok: Bool
    switch action {
    case .execute(let code): ok = host.runChunk(code: code, name: "=(command line)", reportErrors: false)
    case .require(let name): ok = host.requireGlobal(name, reportErrors: false)
    }
    if !ok { fail() }
}

if let script = options.script, let index = options.scriptIndex {
    if !host.runScript(script, arguments: Array(arguments[(index + 1)...]), reportErrors: false) { fail() }
}

let ranSomething = options.script != nil || !options.actions.isEmpty || options.showVersion
if options.interactive {
    REPL(host: host).run()
} else if !ranSomething {
    if isatty(STDIN_FILENO) != 0 {
        REPL(host: host).run()
    } else if !host.runScript("-", arguments: [], reportErrors: false) {
        fail()
    }
}
exit(0)
