import Foundation
import Testing

/// The fault-injection scripts of tools/faults/ (docs/reliability.md), each run in its short
/// form as a child process under a watchdog, so a crash (a signal, exit 139) or a hang is seen
/// as what it is. A script prints "<name>: ok" when every check passed, or "<name>: skipped
/// (why)" when the machine cannot inject its fault (the disk-full case needs root to mount a
/// small tmpfs).
@Suite("tools/faults scripts", .serialized)
struct FaultScriptTests {
    @Test("tools/faults script", arguments: TestPaths.luaScripts(in: "tools/faults"))
    func faultScript(_ name: String) throws {
        let path = TestPaths.root.appendingPathComponent("tools/faults/\(name)").path
        let result = try runHost([path, "--short"], timeoutSeconds: 240)
        let stem = String(name.dropLast(4))
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(result.status == 0, "\(name) exited with \(result.status):\n\(result.output.suffix(2000))\n\(result.error.suffix(3000))")
        #expect(last == "\(stem): ok" || last.hasPrefix("\(stem): skipped"), "\(name) printed: \(last)")
        if last.hasPrefix("\(stem): skipped") { print(last) }
    }

    @Test func faultScriptsExist() {
        #expect(TestPaths.luaScripts(in: "tools/faults").count >= 6)
    }
}
