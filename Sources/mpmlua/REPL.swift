import CEdit
import CLua
import CSupport
import Foundation
import LuaBindings

/// The interactive loop: libedit line editing and history on a terminal, plain lines from a
/// pipe (so tests can drive it). Expressions print their values (a trailing `;` silences),
/// incomplete chunks continue on the next line, `:time` toggles per-command timing.
final class REPL {
    private let host: LuaHost
    private let interactive: Bool
    private var timing = false
    private let historyPath: String

    init(host: LuaHost) {
        self.host = host
        interactive = isatty(STDIN_FILENO) != 0
        historyPath = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.mpmlua_history"
    }

    var lua: LuaState { host.lua }

    func run() {
        installHelpers()
        if interactive {
            print("mpmlua \(MPMLibrary.version) (Lua 5.4). help() for help, :time toggles timing, Ctrl-D quits.")
            LineEditor.start(lua: lua, historyPath: historyPath)
        }
        while let chunk = readChunk() {
            if interactive { LineEditor.remember(chunk, historyPath: historyPath) }
            if chunk.hasPrefix(":") {
                command(chunk)
                continue
            }
            let start = DispatchTime.now().uptimeNanoseconds
            execute(chunk)
            if timing {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                print(String(format: "(%.4f s)", seconds))
            }
        }
        if interactive { print() }
    }

    /// REPL-only globals: `help` (scripts use mpm.help) and the result printer.
    private func installHelpers() {
        host.runChunk(code: """
            help = mpm.help
            local ok, repl = pcall(require, "mpm.repl")
            if ok then _MPMLUA_REPL = repl end
            """, name: "=(repl)")
    }

    private func command(_ line: String) {
        switch line.trimmingCharacters(in: .whitespaces) {
        case ":time":
            timing.toggle()
            print("timing \(timing ? "on" : "off")")
        case ":quit", ":q":
            if interactive { LineEditor.save(historyPath: historyPath) }
            exit(0)
        default:
            print("REPL commands: :time (toggle timing), :quit")
        }
    }

    // MARK: Reading

    private func readLine(prompt: String) -> String? {
        if interactive { return LineEditor.readLine(prompt: prompt) }
        return Swift.readLine(strippingNewline: true)
    }

    /// Reads lines until they form a chunk that compiles (or fails for another reason than
    /// ending early). Returns the source, with `return ` prepended when it is an expression.
    private func readChunk() -> String? {
        guard let first = readLine(prompt: "> ") else { return nil }
        if first.hasPrefix(":") { return first }
        if compiles("return " + first) { return "return " + first }
        var source = first
        while isIncomplete(source) {
            // `t = x:totable(); t`: statements, then an expression to print. Lua alone reads the
            // bare `t` as a statement cut short.
            if let printing = returningLastExpression(source) { return printing }
            guard let more = readLine(prompt: ">> ") else { return source }
            source += "\n" + more
        }
        return source
    }

    /// `statements; expression` as `statements; return expression`, when that compiles (the
    /// last `;` that gives a chunk that compiles; none inside a string can).
    private func returningLastExpression(_ source: String) -> String? {
        var end = source.endIndex
        while let semicolon = source[..<end].lastIndex(of: ";") {
            let expression = source[source.index(after: semicolon)...]
            if !expression.trimmingCharacters(in: .whitespaces).isEmpty {
                let candidate = String(source[...semicolon]) + " return " + expression
                if compiles(candidate) { return candidate }
            }
            end = semicolon
        }
        return nil
    }

    private func compiles(_ source: String) -> Bool {
        let status = mpm_loadbuffer(lua.state, source, source.utf8.count, "=stdin")
        lua.pop()
        return status == LUA_OK
    }

    /// Lua reports a chunk that ends too early with a message ending in "<eof>".
    private func isIncomplete(_ source: String) -> Bool {
        let status = mpm_loadbuffer(lua.state, source, source.utf8.count, "=stdin")
        defer { lua.pop() }
        return status == LUA_ERRSYNTAX && (lua.plainString(-1)?.hasSuffix("<eof>") ?? false)
    }

    // MARK: Running

    private func execute(_ source: String) {
        let top = lua.top
        defer { lua.setTop(top) }
        guard mpm_loadbuffer(lua.state, source, source.utf8.count, "=stdin") == LUA_OK,
              host.callChunk(arguments: 0, results: LUA_MULTRET) else {
            reportError()
            return
        }
        let count = lua.top - top
        guard count > 0 else { return }
        // `_` holds only the last result: keeping every result would leak memory.
        lua.pushValue(top + 1)
        lua.setRawGlobal("_")
        if source.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(";") { return }
        show(count: count, base: top)
    }

    /// Prints results with `mpm.repl`'s formatter (plain `print` if it did not load).
    private func show(count: Int32, base: Int32) {
        if lua.rawGlobal("_MPMLUA_REPL") == LUA_TTABLE, lua.rawField(-1, "show") == LUA_TFUNCTION {
            mpm_remove(lua.state, -2)
        } else {
            lua.setTop(base + count)
            lua.rawGlobal("print")
        }
        for index in 1...count { lua.pushValue(base + index) }
        if !host.callChunk(arguments: count, results: 0) { reportError() }
    }

    private func reportError() {
        let message = lua.plainString(-1) ?? "(error object is a \(lua.typeName(-1)) value)"
        FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
        lua.pop()
    }
}
