import Foundation
import LuaBindings
import NN
import Tensors
import Testing

/// Lua's 1-based convention belongs to the binding layer: opening Lua states changes nothing
/// for Swift code in the same process, and two states do not disturb each other.
@Suite("Index bases with several Lua states", .serialized)
struct IndexBaseTests {
    /// A Swift narrow error, as Swift code sees it.
    static func swiftNarrowMessage() -> String {
        do {
            _ = try Tensor.zeros([2, 3]).narrow(5, start: 0, length: 1)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Runs `code` in `host`, recording its error report as a test issue.
    static func run(_ host: LuaHost, _ code: String) -> Bool {
        var report = ""
        host.reportSink = { report += $0 }
        let ok = host.runChunk(code: code, name: "=(index base test)")
        if !ok { Issue.record("Lua chunk failed: \(report)") }
        return ok
    }

    /// The same narrow and select errors inside Lua: dims and ranges 1-based.
    static let luaChecks = """
        local ok, e = pcall(function() return mpm.zeros(2, 3):narrow(6, 1, 1) end)
        assert(not ok, "narrow must fail")
        assert(tostring(e):find("dim 6 out of range for a 2-D tensor (valid 1..2 or -2..-1)", 1, true), tostring(e))
        ok, e = pcall(function() return mpm.zeros(2, 3):select(2, 4) end)
        assert(not ok, "select must fail")
        assert(tostring(e):find("select: index 4 out of range 1..3 for dim 2 of shape [2,3]", 1, true), tostring(e))
        local emb = mpm.nn.Embedding(3, 2)
        assert(emb(mpm.tensor({1, 3})):size(1) == 2, "ids 1..3 are valid in Lua")
        ok, e = pcall(function() return emb(mpm.tensor({0})) end)
        assert(not ok and tostring(e):find("index 0 out of range 1..3", 1, true), tostring(e))
        """

    @Test func twoStatesLeaveSwiftZeroBased() throws {
        let before = Self.swiftNarrowMessage()
        #expect(before.contains("narrow: dim 5 out of range for a 2-D tensor (valid 0..1 or -2..-1)"), "\(before)")

        var first: LuaHost? = LuaHost(libraryPath: TestPaths.lua)
        let second = LuaHost(libraryPath: TestPaths.lua)
        #expect(Self.swiftNarrowMessage() == before, "opening Lua states must not change Swift's messages")

        // Swift's select error, and the same error rendered for Lua.
        do {
            _ = try Tensor.zeros([2, 3]).select(1, 3)
            Issue.record("select must fail")
        } catch let e as TensorError {
            #expect(e.message == "select: index 3 out of range 0..2 for dim 1 of shape [2,3]")
            #expect(e.message(base: .one) == "select: index 3 out of range 0..2 for dim 2 of shape [2,3]")
        }

        #expect(Self.run(first!, Self.luaChecks))
        #expect(Self.run(second, Self.luaChecks))

        // An Embedding called from Swift takes 0-based ids while Lua states exist.
        let embedding = try Embedding(3, 2)
        #expect(try embedding.forward([try Tensor([0, 2] as [Int64])])[0].shape == [2, 2])
        #expect(throws: TensorError.self) { try embedding.forward([try Tensor([3] as [Int64])]) }
        #expect(try embedding.forward([try Tensor([1, 3] as [Int64])], base: .one)[0].shape == [2, 2])

        // Closing one state leaves the other working, and Swift unchanged.
        first = nil
        #expect(Self.run(second, Self.luaChecks))
        #expect(Self.run(second, """
            local seq = mpm.nn.Sequential(mpm.nn.Embedding(4, 3))
            assert(seq(mpm.tensor({4, 1})):size(1) == 2, "a container passes Lua's base on")
            """))
        #expect(Self.swiftNarrowMessage() == before)
        _ = first
    }
}
