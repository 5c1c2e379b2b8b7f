/// The command line of `mpmlua`, parsed as `lua` parses its own (options first, then the
/// script and its arguments).
struct Options {
    enum Action {
        case execute(String)          // -e CODE
        case require(String)          // -l NAME
    }

    var actions: [Action] = []
    var interactive = false           // -i
    var showVersion = false           // -v / --version
    var showHelp = false              // -h / --help
    var showTraceback = false         // --traceback
    var script: String?               // path, or "-" for standard input
    /// Index in the full argument list of the script (the `arg[0]` of Lua's `arg` table).
    var scriptIndex: Int?

    static let usage = """
        usage: mpmlua [options] [script [args]]
        Runs Lua 5.4 scripts with the mpm library (tensors, modules, jet data) loaded.
          -e CODE        execute the Lua string CODE
          -l NAME        require library NAME into global NAME
          -i             enter the interactive REPL after running the script
          -v, --version  print the version
          -h, --help     print this help
          --traceback    show the Lua traceback of every error (a user's mistake is one line)
          --             stop handling options
          -              stop handling options and run standard input
        With no script: the REPL on a terminal, or standard input as a script otherwise.
        Environment: MPMLUA_PATH  folder holding the Lua library (lua/, with mpm/init.lua)
                     MPMLUA_TRACEBACK=1  as --traceback
        """

    struct UsageError: Error, CustomStringConvertible { let description: String }

    /// Parses `arguments` (without the program name at index 0 of CommandLine.arguments).
    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { index += 1; break }
            if argument == "-" { options.script = "-"; options.scriptIndex = index; return options }
            guard argument.hasPrefix("-") else { break }
            switch argument {
            case "-i": options.interactive = true
            case "-v", "--version": options.showVersion = true
            case "-h", "--help": options.showHelp = true
            case "--traceback": options.showTraceback = true
            case "-e", "-l":
                guard index + 1 < arguments.count else {
                    throw UsageError(description: "'\(argument)' needs an argument")
                }
                index += 1
                options.actions.append(argument == "-e" ? .execute(arguments[index]) : .require(arguments[index]))
            default:
                if argument.hasPrefix("-e") {
                    options.actions.append(.execute(String(argument.dropFirst(2))))
                } else if argument.hasPrefix("-l") {
                    options.actions.append(.require(String(argument.dropFirst(2))))
                } else {
                    throw UsageError(description: "unrecognized option '\(argument)'")
                }
            }
            index += 1
        }
        if index < arguments.count {
            options.script = arguments[index]
            options.scriptIndex = index
        }
        return options
    }
}
