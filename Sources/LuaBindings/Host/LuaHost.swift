import CLua
import CSupport
import Foundation

/// One Lua state with the standard libraries and mpm loaded, and the ways the command line
/// runs code in it. Errors are reported as `mpmlua: message`: one line for a user's mistake
/// reported by the library, with one traceback for anything else (docs/architecture.md, "Errors").
///
/// ```swift
/// let host = LuaHost()
/// host.runChunk(code: "print(mpm.version)", name: "=(example)")
/// ```
public final class LuaHost {
    public let lua: LuaState
    public let libraryPath: String?
    /// Where error reports go (standard error by default; tests capture them).
    public var reportSink: (String) -> Void = { FileHandle.standardError.write($0.data(using: .utf8)!) }
    /// The message of the last error a chunk or script ended with.
    public private(set) var lastError: String?

    /// Whether every error shows its traceback (`mpmlua --traceback`, MPMLUA_TRACEBACK=1); by
    /// default a user's mistake reported by the library is one line.
    nonisolated(unsafe) public static var showsTracebacks = false {
        didSet { mpm_errors_show_tracebacks(showsTracebacks ? 1 : 0) }
    }

    /// Creates the state. `libraryPath` overrides the search for the Lua library folder.
    public init(libraryPath: String? = LibraryPath.find()) {
        guard let state = luaL_newstate() else {
            FileHandle.standardError.write("mpmlua: cannot create the Lua state (out of memory)\n".data(using: .utf8)!)
            exit(1)
        }
        lua = LuaState(state)
        luaL_openlibs(state)
        mpm_errors_setup(state, libraryPath)
        MPMLibrary.open(lua)
        self.libraryPath = libraryPath
        if let libraryPath { prependPackagePath(libraryPath) }
        // `mpm` is the one global; require "mpm" returns the same table.
        if !runChunk(code: "mpm = require 'mpm'", name: "=(mpmlua)", reportErrors: false) {
            // Without the Lua half, the Swift core still works.
            runChunk(code: "mpm = require 'mpm.core'", name: "=(mpmlua)")
            reportWarning("the Lua library (lua/mpm/init.lua) was not found; set MPMLUA_PATH")
        }
    }

    private func prependPackagePath(_ folder: String) {
        runChunk(code: "local dir = ...; package.path = dir .. '/?.lua;' .. dir .. '/?/init.lua;' .. package.path",
                 name: "=(mpmlua)", arguments: [folder])
    }

    // MARK: Running

    /// Calls the function on top of the stack (below its `arguments`) with the traceback
    /// handler, Ctrl-C armed. Leaves the results (or the error message) on the stack.
    public func callChunk(arguments: Int32, results: Int32) -> Bool {
        let base = lua.top - arguments
        lua_pushcclosure(lua.state, mpm_traceback_handler, 0)
        mpm_insert(lua.state, base)
        mpm_interrupt_clear()
        mpm_interrupt_arm(lua.state)
        let status = mpm_pcall(lua.state, arguments, results, base)
        mpm_interrupt_disarm()
        lua_sethook(lua.state, nil, 0, 0)  // a Ctrl-C hook that fired after the chunk ended
        mpm_remove(lua.state, base)
        return status == LUA_OK
    }

    /// Runs a string of code with `arguments` as `...`; on error reports it (by default).
    @discardableResult
    public func runChunk(code: String, name: String, arguments: [String] = [], reportErrors: Bool = true) -> Bool {
        run(loaded: mpm_loadbuffer(lua.state, code, code.utf8.count, name), arguments: arguments, reportErrors: reportErrors)
    }

    /// Runs a script file (or standard input for "-") with `arguments` as `...`; on error
    /// reports it (by default).
    public func runScript(_ path: String, arguments: [String], reportErrors: Bool = true) -> Bool {
        run(loaded: mpm_loadfile(lua.state, path == "-" ? nil : path), arguments: arguments, reportErrors: reportErrors)
    }

    /// Calls the chunk a load just pushed (its status `loaded`) with `arguments` as `...`; a load
    /// or run error is reported (or only taken off the stack).
    private func run(loaded: Int32, arguments: [String], reportErrors: Bool) -> Bool {
        let top = lua.top - 1  // the load pushed one value: the chunk, or its error
        defer { lua.setTop(top) }
        guard loaded == LUA_OK else {
            if reportErrors { reportError() } else { takeError() }
            return false
        }
        for argument in arguments { lua.push(argument) }
        guard callChunk(arguments: Int32(arguments.count), results: 0) else {
            if reportErrors { reportError() } else { takeError() }
            return false
        }
        return true
    }

    /// `require(name)` into the global named by its last component, as `lua -l`.
    public func requireGlobal(_ name: String, reportErrors: Bool = true) -> Bool {
        runChunk(code: "local name = ...; _G[name:match('[^.]+$')] = require(name)",
                 name: "=(command line)", arguments: [name], reportErrors: reportErrors)
    }

    /// Builds Lua's global `arg`: arg[0] is the script, negative indices the interpreter and
    /// options, positive indices the script's arguments (as in lua.c).
    public func setArgTable(_ all: [String], scriptIndex: Int?) {
        let zero = scriptIndex ?? 0
        lua.newTable(array: Int32(max(0, all.count - zero - 1)), hash: Int32(zero + 1))
        for (index, value) in all.enumerated() {
            lua.push(value)
            lua_rawseti(lua.state, -2, lua_Integer(index - zero))
        }
        lua.setRawGlobal("arg")
    }

    // MARK: Reporting

    /// Reports the error on top of the stack (`mpmlua: message`) and pops it.
    public func reportError() {
        takeError()
        reportSink("mpmlua: \(lastError!)\n")
    }

    /// Pops the error on top of the stack into `lastError`.
    private func takeError() {
        lastError = lua.plainString(-1) ?? "(error object is a \(lua.typeName(-1)) value)"
        lua.pop()
    }

    public func reportWarning(_ message: String) {
        reportSink("mpmlua: warning: \(message)\n")
    }

    deinit { lua_close(lua.state) }
}
