import CEdit
import CLua
import CSupport
import Foundation
import LuaBindings

/// libedit (through its readline interface): line editing, a history file, and tab completion
/// of globals, table fields and userdata methods computed by `mpm.repl.complete`.
enum LineEditor {
    /// The state completion reads; the REPL runs on one thread.
    nonisolated(unsafe) private static var lua: LuaState?
    nonisolated(unsafe) private static var candidates: [String] = []
    /// Ctrl-C at the prompt discards the line being typed instead of ending the session.
    nonisolated(unsafe) private static var promptInterrupted: sig_atomic_t = 0

    /// Word breaks without '.' and ':', so "mpm.nn.Li" completes as one word.
    private static let wordBreaks = strdup(" \t\n\"\\'><=;+-*/%^~#&|,(){}[]")

    static func start(lua: LuaState, historyPath: String) {
        Self.lua = lua
        rl_readline_name = UnsafePointer(strdup("mpmlua"))
        rl_basic_word_break_characters = UnsafePointer(wordBreaks)
        rl_completer_word_break_characters = wordBreaks
        rl_attempted_completion_function = { text, _, _ in
            rl_attempted_completion_over = 1
            rl_completion_append_character = 0
            return rl_completion_matches(text) { text, state in LineEditor.generate(text, state) }
        }
        stifle_history(2000)
        _ = read_history(historyPath)
    }

    static func readLine(prompt: String) -> String? {
        while true {
            promptInterrupted = 0
            signal(SIGINT) { _ in LineEditor.promptInterrupted = 1 }
            let line = readline(prompt)
            signal(SIGINT, SIG_DFL)
            if let line {
                defer { free(line) }
                return String(cString: line)
            }
            if promptInterrupted == 0 { return nil }  // Ctrl-D: end of input
            print("^C")
        }
    }

    static func remember(_ chunk: String, historyPath: String) {
        guard !chunk.isEmpty else { return }
        _ = add_history(chunk.hasPrefix("return ") ? String(chunk.dropFirst(7)) : chunk)
        save(historyPath: historyPath)
    }

    static func save(historyPath: String) {
        _ = write_history(historyPath)
    }

    // MARK: Completion

    /// readline's generator protocol: called with state 0 first, then 1, 2, ... until nil.
    private static func generate(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
        if state == 0 { candidates = computeCandidates(text.map { String(cString: $0) } ?? "") }
        let index = Int(state)
        guard index < candidates.count else { return nil }
        return strdup(candidates[index])
    }

    /// Calls `mpm.repl.complete(text)` in protected mode; any failure completes nothing.
    private static func computeCandidates(_ text: String) -> [String] {
        guard let lua else { return [] }
        let top = lua.top
        defer { lua.setTop(top) }
        guard lua.rawGlobal("_MPMLUA_REPL") == LUA_TTABLE, lua.rawField(-1, "complete") == LUA_TFUNCTION else { return [] }
        lua.push(text)
        guard mpm_pcall(lua.state, 1, 1, 0) == LUA_OK, lua.type(-1) == LUA_TTABLE else { return [] }
        return (0..<lua.rawLength(-1)).compactMap { index in
            defer { lua.pop() }
            lua.rawIndex(-1, index + 1)
            return lua.plainString(-1)
        }
    }
}
