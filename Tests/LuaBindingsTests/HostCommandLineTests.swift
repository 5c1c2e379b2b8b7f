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
