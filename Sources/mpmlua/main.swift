// mpmlua: runs Lua scripts with the mpm library, or an interactive REPL.
import Foundation
import LuaBindings
import Tensors

// OpenBLAS chose its kernels when it loaded, before this line. If it fell back to generic SSE3
// kernels on a CPU with AVX2/AVX-512, start again with OPENBLAS_CORETYPE set (docs/architecture.md,
// "BLAS kernels").
BLASCore.ensureFastKernels()

setvbuf(stdout, nil, _IOLBF, 0)

let arguments = CommandLine.arguments
let options: Options
do {
    options = try Options.parse(arguments)
} catch {
    FileHandle.standardError.write("mpmlua: \(error)\n\(Options.usage)\n".data(using: .utf8)!)
    exit(1)
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
// end the whole job (Distributed.abort) instead of leaving the other ranks waiting.
do {
    try Distributed.startIfLaunched()
} catch {
    FileHandle.standardError.write("mpmlua: \(error)\n".data(using: .utf8)!)
    exit(1)
}

/// Exits after a reported error: inside an MPI job of several ranks, every rank ends.
func fail() -> Never { Distributed.abort(code: 1) }

let host = LuaHost()
host.setArgTable(arguments, scriptIndex: options.scriptIndex)

for action in options.actions {
    let ok: Bool
    switch action {
    case .execute(let code): ok = host.runChunk(code: code, name: "=(command line)")
    case .require(let name): ok = host.requireGlobal(name)
    }
    if !ok { fail() }
}

if let script = options.script, let index = options.scriptIndex {
    if !host.runScript(script, arguments: Array(arguments[(index + 1)...])) { fail() }
}

let ranSomething = options.script != nil || !options.actions.isEmpty || options.showVersion
if options.interactive {
    REPL(host: host).run()
} else if !ranSomething {
    if isatty(STDIN_FILENO) != 0 {
        REPL(host: host).run()
    } else if !host.runScript("-", arguments: []) {
        fail()
    }
}
exit(0)
