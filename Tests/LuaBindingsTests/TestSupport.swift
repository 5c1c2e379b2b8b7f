import Foundation
import LuaBindings

/// Paths of the source tree and the built host, for tests.
enum TestPaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let lua = root.appendingPathComponent("lua").path

    /// The mpmlua binary: $MPMLUA_BIN (set by `make test`), else the release or debug build.
    static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["MPMLUA_BIN"], !explicit.isEmpty { return explicit }
        let release = root.appendingPathComponent(".build/release/mpmlua").path
        if FileManager.default.fileExists(atPath: release) { return release }
        return root.appendingPathComponent(".build/debug/mpmlua").path
    }

    static func luaScripts(in folder: String) -> [String] {
        let directory = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".lua") }.sorted()
    }
}

/// The result of running the host as a child process.
struct RunResult {
    var status: Int32
    var output: String
    var error: String
}

/// Runs the mpmlua binary (or `executable`) with `arguments`, feeding `input` on standard input; killed after
/// `timeoutSeconds`.
/// `executable` replaces the host (DistributedTests run `mpirun ... mpmlua`).
func runHost(_ arguments: [String], input: String = "", environment: [String: String] = [:],
             timeoutSeconds: Double = 300, executable: String = TestPaths.binary) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: NSTemporaryDirectory())
    var env = ProcessInfo.processInfo.environment
    env["HOME"] = NSTemporaryDirectory()
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    // A hung child fails its test instead of stalling the whole run.
    let watchdog = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: watchdog)
    defer { watchdog.cancel() }
    stdin.fileHandleForWriting.write(input.data(using: .utf8)!)
    try stdin.fileHandleForWriting.close()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus,
                     output: String(decoding: out, as: UTF8.self),
                     error: String(decoding: err, as: UTF8.self))
}
