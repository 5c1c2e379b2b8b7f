import Foundation
import Testing

/// The REPL driven through a pipe (`mpmlua -i`), and through tmux for what needs a terminal.
@Suite("REPL")
struct REPLTests {
    @Test func printsExpressionsAndSilencesWithSemicolon() throws {
        let result = try runHost(["-i"], input: "1+1\nx = 5\nx\nx;\n'text'\n{1, 2, a = 3}\n")
        #expect(result.output == "2\n5\n\"text\"\n{1, 2, a = 3}\n")
    }

    @Test func continuesIncompleteChunks() throws {
        let result = try runHost(["-i"], input: "function f(a)\n  return a * 2\nend\nf(21)\nfor i = 1, 2 do\nprint(i)\nend\n")
        #expect(result.output == "42\n1\n2\n")
    }

    /// `statements; expression` on one line runs and prints the expression, instead of waiting
    /// at `>>` for more and swallowing the next line.
    @Test func statementThenExpressionOnOneLine() throws {
        let result = try runHost(["-i"], input: "x = mpm.tensor{1, 2}; t = x:tolist(); t\nlocal s = 'a;b'; s\nt[2];\n'next line runs'\n")
        #expect(result.output == "{1, 2}\n\"a;b\"\n\"next line runs\"\n", "\(result.output)\(result.error)")
        #expect(result.error == "")
    }

    /// A user's mistake reported by the library is one line in the REPL too; the chunk's own
    /// bug keeps its traceback.
    @Test func userMistakesAreOneLine() throws {
        let result = try runHost(["-i"], input: "mpm.explore.embed('nosuch.h5', 'data.h5')\nlocal t = nil; t.x = 1\n'still here'\n")
        let lines = result.error.split(separator: "\n").map(String.init)
        #expect(lines.first == "explore.embed: no such backbone file nosuch.h5", "\(result.error)")
        #expect(lines.count > 1 && lines[1].hasPrefix("stdin:1: attempt to index a nil value"), "\(result.error)")
        #expect(lines.count > 2 && lines[2] == "stack traceback:", "\(result.error)")
        #expect(result.output == "\"still here\"\n")
    }

    @Test func underscoreHoldsLastResult() throws {
        let result = try runHost(["-i"], input: "6 * 7\n_ + 1\n")
        #expect(result.output == "42\n43\n")
    }

    @Test func errorsDoNotEndTheSession() throws {
        let result = try runHost(["-i"], input: "error('first')\nmpm.timeit('x')\n'still here'\n")
        #expect(result.output == "\"still here\"\n")
        #expect(result.error.contains("stdin:1: first"))
        #expect(result.error.contains("bad argument #1 to 'timeit' (function expected, got string)"))
    }

    @Test func timingToggle() throws {
        let result = try runHost(["-i"], input: ":time\n1\n:time\n2\n")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == "timing on")
        #expect(lines[1] == "1")
        #expect(lines[2].hasPrefix("(") && lines[2].hasSuffix(" s)"))
        #expect(lines[3] == "timing off")
        #expect(lines[4] == "2")
    }

    @Test func helpPrintsDocstrings() throws {
        let result = try runHost(["-i"], input: "help(mpm.clock)\n")
        #expect(result.output.contains("mpm.clock() -> seconds"))
    }

    @Test func scriptThenREPL() throws {
        let script = NSTemporaryDirectory() + "mpmlua-repl-\(UUID().uuidString).lua"
        try "answer = 41".write(toFile: script, atomically: true, encoding: .utf8)
        let result = try runHost(["-i", script], input: "answer + 1\n")
        #expect(result.output == "42\n")
    }

    /// The exploration walkthrough through a pipe: embed, print, PCA, probe, completion of E:
    /// methods, help, a text plot, a backbone called on a batch, and a large tensor printed.
    @Test func exploresEmbeddings() throws {
        let data = TestPaths.root.appendingPathComponent("data/jetclass_test.h5").path
        let input = """
            bb = mpm.MPM{preset = "tiny"}:backbone()
            E = mpm.explore.embed(bb, "\(data)", {jets = 120})
            E
            P, explained = E:pca(2);
            P:shape()[2]
            E:probe{steps = 30}.accuracy >= 0
            table.concat(_MPMLUA_REPL.complete("E:p"), " ")
            table.concat(_MPMLUA_REPL.complete("E.v"), " ")
            help(E.neighbours)
            E:plot{terminal = "dumb"}
            batch = mpm.data.open("\(data)"):read(1, 4)
            table.concat(_MPMLUA_REPL.complete("batch.num"), " ")
            bb(batch):size(1) == batch.num_particles
            t0 = mpm.clock(); x = mpm.randn(50000, 128)
            x
            mpm.clock() - t0 < 2
            """
        let result = try runHost(["-i"], input: input + "\n")
        let out = result.output
        #expect(result.error == "", "\(result.error)")
        #expect(out.contains("Embeddings: 120 jets x 32 dims, pool mean"))
        #expect(out.contains("\n2\ntrue\n"))
        #expect(out.contains("E:pca E:plot E:probe"))
        #expect(out.contains("\"E.vectors\""))
        #expect(out.contains("E:neighbours(i_or_vector, k"))
        #expect(out.contains("PC1 ("))     // the text plot's axis label
        #expect(out.contains("\"dumb\""))
        #expect(out.contains("batch.num_particles"))
        #expect(out.contains("tensor([["))
        #expect(out.hasSuffix("]])\ntrue\n"), "\(out.suffix(300))")
    }

    // MARK: Through a terminal (tmux): completion, Ctrl-C, history

    @Test func completionAndInterruptInATerminal() throws {
        let tmux = Tmux()
        guard tmux.available else {
            Issue.record("tmux is not installed (make test installs it)")
            return
        }
        let home = NSTemporaryDirectory() + "mpmlua-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try tmux.start(command: "env HOME=\(home) \(TestPaths.binary)")
        defer { tmux.stop() }
        try tmux.waitFor("Ctrl-D quits.")

        // Tab completes table fields.
        tmux.send(keys: ["mpm.cloc", "Tab"])  // unique prefix: mpm.clo would list clock and clone
        try tmux.waitFor("mpm.clock")
        tmux.send(keys: ["C-u"])

        // Ctrl-C interrupts a running chunk and the session goes on.
        tmux.send(keys: ["while true do end", "Enter"])
        Thread.sleep(forTimeInterval: 0.5)
        tmux.send(keys: ["C-c"])
        try tmux.waitFor("interrupted")
        tmux.send(keys: ["print('alive' .. 1)", "Enter"])
        try tmux.waitFor("alive1")
        #expect(!tmux.screen().contains("stack traceback"), "an interruption is one line: \(tmux.screen())")
        #expect(!tmux.screen().contains("interrupted!"), "\(tmux.screen())")

        // Ctrl-C during an embedding pass is an interruption, not the backbone's failure.
        tmux.send(keys: ["Slow = mpm.nn.Module:extend('Slow'); function Slow:forward() while true do end end; E = mpm.explore.embed(Slow(), mpm.data.open('\(TestPaths.root.path)/data/jetclass_test.h5'), {jets = 64})", "Enter"])
        Thread.sleep(forTimeInterval: 1.5)
        tmux.send(keys: ["C-c"])
        let deadline = Date().addingTimeInterval(10)
        while tmux.screen().components(separatedBy: "interrupted").count < 3 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        tmux.send(keys: ["print('alive' .. 3)", "Enter"])
        try tmux.waitFor("alive3")
        #expect(!tmux.screen().contains("failed"), "\(tmux.screen())")
        #expect(!tmux.screen().contains("stack traceback"), "\(tmux.screen())")

        // Ctrl-C at the prompt discards the line being typed.
        tmux.send(keys: ["discarded", "C-c"])
        tmux.send(keys: ["40 + 2", "Enter"])
        try tmux.waitFor("42")

        // Tab lists an embeddings object's methods (no private names), and a large tensor
        // prints at once.
        // Keys sent while a chunk still runs reach the terminal's own echo, not the line editor:
        // wait for the chunk's output before typing the next line.
        tmux.send(keys: ["E = mpm.explore.new{vectors = mpm.randn(40, 4), labels = mpm.ones(40, {dtype = 'int64'})}; print('ready' .. 2)", "Enter"])
        try tmux.waitFor("ready2")
        tmux.send(keys: ["E:ne", "Tab"])
        try tmux.waitFor("E:neighbours")
        tmux.send(keys: ["C-u"])
        tmux.send(keys: ["E:pr", "Tab"])
        try tmux.waitFor("E:probe")
        tmux.send(keys: ["C-u"])
        tmux.send(keys: ["y = mpm.randn(50000, 128); y:size(1)", "Enter"])
        try tmux.waitFor("50000")
        tmux.send(keys: ["y", "Enter"])
        try tmux.waitFor("...,", seconds: 3)

        // Ctrl-D ends the session and the history file keeps the commands.
        tmux.send(keys: ["C-d"])
        Thread.sleep(forTimeInterval: 0.5)
        let history = (try? String(contentsOfFile: home + "/.mpmlua_history", encoding: .utf8)) ?? ""
        #expect(history.contains("alive"))
    }
}

/// A tmux session driven with send-keys and read with capture-pane, on a private server
/// (`tmux -L`) so that it neither meets nor disturbs the user's own tmux.
struct Tmux {
    /// The session's name, and the name of its private server's socket.
    let name = "mpmlua-test-\(UUID().uuidString.prefix(8))"

    var available: Bool { (try? run(["-V"])) != nil }

    /// Runs tmux and returns what it printed. Not Foundation's Process: that hands the child one
    /// end of a socket pair and waits for every holder to close it, and the tmux server forked by
    /// `new-session` keeps it open, so the wait would never end. posix_spawn with every descriptor
    /// above stderr closed gives the server nothing of ours to hold.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        var output: [Int32] = [-1, -1]
        guard pipe(&output) == 0 else { throw TmuxError(message: "pipe failed") }
        _ = fcntl(output[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(output[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        guard let addCloseFrom = Tmux.addCloseFrom, addCloseFrom(&actions, 3) == 0 else {
            throw TmuxError(message: "posix_spawn_file_actions_addclosefrom_np needs glibc 2.34 or later")
        }

        let argv = (["tmux", "-L", name] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, "tmux", &actions, nil, argv, environ)
        close(output[1])
        defer { close(output[0]) }
        guard spawned == 0 else { throw TmuxError(message: "cannot run tmux: \(String(cString: strerror(spawned)))") }

        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(output[0], &buffer, buffer.count)
            if count > 0 { data.append(contentsOf: buffer[0..<count]); continue }
            if count < 0 && errno == EINTR { continue }
            break
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else { throw TmuxError(message: "tmux \(arguments.joined(separator: " ")) failed") }
        return String(decoding: data, as: UTF8.self)
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), which Swift's Glibc
    /// module leaves out because it is declared only under _GNU_SOURCE.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    func start(command: String) throws {
        try run(["new-session", "-d", "-s", name, "-x", "120", "-y", "30", command])
    }

    func send(keys: [String]) { _ = try? run(["send-keys", "-t", name] + keys) }

    func screen() -> String { (try? run(["capture-pane", "-p", "-t", name])) ?? "" }

    func waitFor(_ text: String, seconds: Double = 10) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if screen().contains(text) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TmuxError(message: "timed out waiting for '\(text)'; screen:\n\(screen())")
    }

    func stop() { _ = try? run(["kill-server"]) }
}

struct TmuxError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
