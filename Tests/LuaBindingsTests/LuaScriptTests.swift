import Foundation
import LuaBindings
import Testing

/// Every lua/tests/*.lua runs in a fresh embedded interpreter and is reported as its own test.
@Suite("Lua test scripts", .serialized)
struct LuaScriptTests {
    @Test("lua/tests script", arguments: TestPaths.luaScripts(in: "lua/tests"))
    func script(_ name: String) {
        let host = LuaHost(libraryPath: TestPaths.lua)
        var report = ""
        host.reportSink = { report += $0 }
        let path = TestPaths.root.appendingPathComponent("lua/tests/\(name)").path
        let ok = host.runScript(path, arguments: [])
        #expect(ok, "\(name) failed:\n\(report)")
    }

    @Test func scriptsExist() {
        #expect(TestPaths.luaScripts(in: "lua/tests").count >= 2)
    }
}
