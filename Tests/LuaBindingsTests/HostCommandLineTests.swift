import Foundation
import Testing

/// The `mpmlua` command line, run as a child process like a user runs it.
@Suite("mpmlua command line")
struct HostCommandLineTests {
    @Test func executesCode() throws {
        let result = try runHost(["-e", "print(1+1)"])
        #expect(result.status == 0)
        #expect(result.output == "2\n")
    }

    /// Random arguments to every function and method (tools/fuzz_calls.lua): errors, never a
    /// crash. On a failure the verbose output's last line names the call that killed the host.
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func randomCallsNeverCrashTheHost(seed: Int) throws {
        let root = TestPaths.root.path
        let result = try runHost(["\(root)/tools/fuzz_calls.lua", "--seed", "\(seed)", "--calls", "3000",
                                  "--data", "\(root)/data", "--verbose"])
        let lastCall = result.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(result.status == 0, "host died at: \(lastCall)\n\(result.error.prefix(2000))")
        #expect(lastCall.hasPrefix("fuzz_calls: seed \(seed), 3000 calls"))
    }

    @Test func exampleScriptsRejectBadOptionsLikeCommandLineTools() throws {
        let script = TestPaths.root.appendingPathComponent("examples/pretrain.lua").path
        let bad = try runHost([script, "--steps", "abc"])
        #expect(bad.status == 1)
        #expect(bad.error == "mpmlua: pretrain: --steps expects an integer, got 'abc'\n")   // one line, no traceback
        let help = try runHost([script, "--help"])
        #expect(help.status == 0)
        #expect(help.output.hasPrefix("usage: mpmlua examples/pretrain.lua [options]"))
    }

    @Test func printsVersionAndHelp() throws {
        let version = try runHost(["--version"])
        #expect(version.status == 0)
        #expect(version.output.hasPrefix("mpmlua 0."))
        let help = try runHost(["--help"])
        #expect(help.output.contains("usage: mpmlua"))
        let bad = try runHost(["--frobnicate"])
        #expect(bad.status == 1)
        #expect(bad.error.contains("unrecognized option '--frobnicate'"))
    }

    @Test func reportsBLASConfiguration() throws {
        let version = try runHost(["--version"])
        #expect(version.status == 0)
        #expect(version.output.contains("OpenBLAS"))
        let config = try runHost(["-e", "local c = mpm.config(); print(type(c.blas_core), #c.blas_core > 0, c.blas, type(c.cpu.avx2))"])
        #expect(config.status == 0)
        #expect(config.output == "string\ttrue\tOpenBLAS\tboolean\n")
        // One thread pool: OpenBLAS runs each call on its caller's thread, products are split on
        // the kernels' workers; mpm.memory() reads /proc/self/status (tab-separated fields).
        let threads = try runHost(["-e", "local c = mpm.config(); mpm.randn(300, 300):matmul(mpm.randn(300, 300)); print(c.blas_threads, c.kernel_threads >= 1, mpm.memory().peak_rss > 0, mpm.memory().rss > 0)"])
        #expect(threads.output == "1\ttrue\ttrue\ttrue\n", "\(threads.output)\(threads.error)")
        #expect(version.output.contains("1 thread per call"))
        // A user's OPENBLAS_CORETYPE is kept and not reported as forced.
        let user = try runHost(["-e", "print(mpm.config().forced_core)"], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(user.output == "nil\n")
    }

    /// A process bound to one core (taskset here; a batch system's cpuset or mpirun's binding
    /// alike) runs one kernel thread, not one per core of the machine.
    @Test func kernelThreadsFollowTheCPUAffinity() throws {
        let taskset = "/usr/bin/taskset"   // util-linux, essential in Debian
        try #require(FileManager.default.isExecutableFile(atPath: taskset))
        // The first CPU this test may run on (it need not be CPU 0 inside a cpuset).
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let allowed = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        let first = try #require(allowed?.split(separator: "\t").last?.split(whereSeparator: { $0 == "-" || $0 == "," }).first)
        let one = try runHost(["-c", String(first), TestPaths.binary, "-e", "print(mpm.config().kernel_threads)"], executable: taskset)
        #expect(one.output == "1\n", "\(one.output)\(one.error)")
    }

    @Test func scriptReceivesArguments() throws {
        let script = try temporaryScript("print(select('#', ...), ..., arg[0] ~= nil, arg[1], arg[2])")
        let result = try runHost([script, "a", "b c"])
        #expect(result.status == 0)
        // `...` in the middle of an argument list contributes its first value only.
        #expect(result.output == "2\ta\ttrue\ta\tb c\n")
    }

    @Test func syntaxErrorReportsFileAndLine() throws {
        let script = try temporaryScript("local x = 1\nprint(x +)\n")
        let result = try runHost([script])
        #expect(result.status == 1)
        #expect(result.error.contains("\(script):2:"))
        #expect(result.error.hasPrefix("mpmlua: "))
    }

    @Test func runtimeErrorPrintsOneTraceback() throws {
        let script = try temporaryScript("local function f()\n  error('broken here')\nend\nf()\n")
        let result = try runHost([script])
        #expect(result.status == 1)
        #expect(result.error.contains("\(script):2: broken here"))
        #expect(result.error.components(separatedBy: "stack traceback:").count == 2)
    }

    /// A user's mistake reported by the library is one line without the library's file:line;
    /// a bug keeps its position and traceback (docs/architecture.md, "Errors"). The library here
    /// is a stand-in folder, so the rule is tested apart from what lua/mpm says today.
    @Test func userMistakesAreOneLineAndBugsKeepTheirTraceback() throws {
        let library = NSTemporaryDirectory() + "mpmlib-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: library + "/mpm", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: library) }
        try """
            local core = require "mpm.core"
            function core.refuse() error("--backbone: no such file nosuch.h5") end
            function core.refuse_plainly() error("--out: runs/x is a file", 0) end
            function core.check(path) return core.files.exists(path) end   -- Swift refuses a directory
            function core.pass_on()
              local ok, message = pcall(core.refuse)
              error("loading the backbone: " .. message, 0)
            end
            function core.rethrow() local ok, message = pcall(core.refuse); error(message, 0) end
            function core.bug() local t = nil; return t.field end
            function core.call(f) return f() end
            function core.check_jets(n) assert(n > 0, "--jets must be at least 1") end
            function core.broken_invariant() assert(false) end
            function core.load(path) error("load: " .. path .. ": file is truncated", 2) end
            return core
            """.write(toFile: library + "/mpm/init.lua", atomically: true, encoding: .utf8)
        let environment = ["MPMLUA_PATH": library]
        func run(_ code: String, _ extra: [String: String] = [:], arguments: [String] = []) throws -> RunResult {
            try runHost(arguments + ["-e", code], environment: environment.merging(extra) { $1 })
        }
        for (code, line) in [("mpm.refuse()", "mpmlua: --backbone: no such file nosuch.h5\n"),
                             ("mpm.refuse_plainly()", "mpmlua: --out: runs/x is a file\n"),
                             ("mpm.check('/')", "mpmlua: /: not a regular file (a directory)\n"),
                             ("mpm.pass_on()", "mpmlua: loading the backbone: --backbone: no such file nosuch.h5\n"),
                             ("mpm.rethrow()", "mpmlua: --backbone: no such file nosuch.h5\n"),
                             ("mpm.check_jets(0)", "mpmlua: --jets must be at least 1\n"),
                             // The library blames the script's call: its position stays, to say which call.
                             ("mpm.load('x.h5')", "mpmlua: (command line):1: load: x.h5: file is truncated\n"),
                             ("error('bad input', 0)", "mpmlua: bad input\n")] {
            let result = try run(code)
            #expect(result.status == 1)
            #expect(result.error == line, "\(code)")
        }
        // --traceback and MPMLUA_TRACEBACK=1 show where the library raised it.
        for result in [try run("mpm.refuse()", arguments: ["--traceback"]), try run("mpm.refuse()", ["MPMLUA_TRACEBACK": "1"])] {
            #expect(result.error.hasPrefix("mpmlua: \(library)/mpm/init.lua:2: --backbone: no such file"), "\(result.error)")
            #expect(result.error.contains("stack traceback:"))
        }
        // Bugs: a runtime error in the library, and the script's own errors, even through the library.
        for (code, position) in [("mpm.bug()", "\(library)/mpm/init.lua:10: attempt to index a nil value"),
                                 ("mpm.broken_invariant()", "\(library)/mpm/init.lua:13: assertion failed!"),
                                 ("local t = nil; print(t.x)", "(command line):1: attempt to index a nil value"),
                                 ("error('broken')", "(command line):1: broken"),
                                 ("assert(false, 'broken')", "(command line):1: broken"),
                                 ("mpm.call(function() error('broken') end)", "(command line):1: broken"),
                                 ("mpm.tensor{1, 2}:narrow(1, 5, 3)", "(command line):1: narrow:"),
                                 ("mpm.files.exists('/')", "(command line):1: /: not a regular file")] {
            let result = try run(code)
            #expect(result.status == 1)
            #expect(result.error.hasPrefix("mpmlua: " + position), "\(code): \(result.error)")
            #expect(result.error.components(separatedBy: "stack traceback:").count == 2, "\(code): \(result.error)")
        }
    }

    /// The library's own refusals through an example script: one line, no lua/mpm position.
    @Test func exampleRefusalsAreOneLine() throws {
        let script = TestPaths.root.appendingPathComponent("examples/train_cfm.lua").path
        let result = try runHost([script, "--data", "nosuch.h5"])
        #expect(result.status == 1)
        #expect(result.error.hasPrefix("mpmlua: "), "\(result.error)")
        #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
        #expect(result.error.contains("nosuch.h5") && !result.error.contains("lua/mpm"), "\(result.error)")
    }

    @Test func tableErrorValueIsNamed() throws {
        let result = try runHost(["-e", "error({})"])
        #expect(result.status == 1)
        #expect(result.error.contains("error object is a table value"))
    }

    @Test func runsStandardInput() throws {
        let result = try runHost(["-"], input: "print(mpm.version ~= nil)\n")
        #expect(result.output == "true\n")
        let piped = try runHost([], input: "print('piped')\n")
        #expect(piped.output == "piped\n")
    }

    @Test func requireWorksFromAnyDirectory() throws {
        // The host runs in the temporary directory: lua/ is found next to the build.
        let result = try runHost(["-e", "print(require('mpm') == mpm, package.loaded['mpm.core'] ~= nil)"])
        #expect(result.output == "true\ttrue\n")
        let explicit = try runHost(["-e", "print(package.path:find('/nowhere', 1, true) ~= nil)"],
                                   environment: ["MPMLUA_PATH": "/nowhere"])
        #expect(explicit.output == "true\n")
    }

    @Test func requireLibraryOption() throws {
        let result = try runHost(["-l", "mpm.testing", "-e", "print(type(testing.close))"])
        #expect(result.output == "function\n")
    }

    private func temporaryScript(_ source: String) throws -> String {
        let path = NSTemporaryDirectory() + "mpmlua-test-\(UUID().uuidString).lua"
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
