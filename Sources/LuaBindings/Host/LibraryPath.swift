import Foundation

/// Finds the folder holding the Lua library (`mpm/init.lua`): MPMLUA_PATH, then next to the
/// executable, then the installed share directory, then the source tree above a build folder.
public enum LibraryPath {
    public static func find() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["MPMLUA_PATH"], !explicit.isEmpty {
            return explicit  // trusted as given: a wrong path shows in require's error message
        }
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                             ?? CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [
            executable.appendingPathComponent("lua"),
            executable.appendingPathComponent("../share/mpmlua/lua"),
        ]
        // A development build lives in <repo>/.build/<triple>/<config>/: walk up to the repo.
        var folder = executable
        for _ in 0..<5 {
            folder = folder.deletingLastPathComponent()
            candidates.append(folder.appendingPathComponent("lua"))
        }
        for candidate in candidates {
            let initFile = candidate.appendingPathComponent("mpm/init.lua").standardizedFileURL.path
            if FileManager.default.fileExists(atPath: initFile) {
                return candidate.standardizedFileURL.path
            }
        }
        return nil
    }
}
