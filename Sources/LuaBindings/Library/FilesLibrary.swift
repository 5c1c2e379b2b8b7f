import CLua
import Foundation
import JetData

/// `mpm.files`: the file operations the Lua half needs for run directories (the trainer, the
/// protocols), written once: kinds without opening, atomic writes, directory locks and the
/// clean-up of temporaries left by dead processes.
enum FilesLibrary {
    nonisolated(unsafe) static var locks: [Int: RunLock] = [:]
    nonisolated(unsafe) static var nextLock = 1

    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let files = lua.top
        lua.register("kind", in: files, doc: """
            mpm.files.kind(path) -> "file", "directory", "fifo", "device", "socket", "other", or nil
            What is at path (links followed), found without opening it.
            """) { lua in
            if let kind = FileKind.of(try lua.string(1)) { lua.push(kind.rawValue) } else { lua.pushNil() }
            return 1
        }
        lua.register("exists", in: files, doc: """
            mpm.files.exists(path) -> boolean
            true for a regular file, false when nothing is there; anything else (a directory, a
            FIFO) is an error naming the path ("x.h5: not a regular file (a fifo)").
            """) { lua in
            lua.push(try FileKind.isFile(try lua.string(1)))
            return 1
        }
        lua.register("join", in: files, doc: "mpm.files.join(dir, name) -> \"dir/name\" (no doubled slash)") { lua in
            let dir = try lua.string(1), name = try lua.string(2)
            lua.push(dir.hasSuffix("/") ? dir + name : dir + "/" + name)
            return 1
        }
        lua.register("dirname", in: files, doc: """
            mpm.files.dirname(path) -> the directory part: "runs/cfm/backbone.h5" -> "runs/cfm",
            "backbone.h5" -> ".", "/backbone.h5" -> "/"
            """) { lua in
            let path = try lua.string(1)
            guard let slash = path.lastIndex(of: "/") else { lua.push("."); return 1 }
            lua.push(slash == path.startIndex ? "/" : String(path[..<slash]))
            return 1
        }
        lua.register("basename", in: files, doc: """
            mpm.files.basename(path) -> the name after the last slash: "runs/cfm/backbone.h5" -> "backbone.h5"
            """) { lua in
            let path = try lua.string(1)
            lua.push(path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path)
            return 1
        }
        lua.register("mkdir", in: files, doc: """
            mpm.files.mkdir(dir) -> dir
            Creates dir and its parents (nothing to do when it exists); an error names the path.
            """) { lua in
            let dir = try lua.string(1)
            if let kind = FileKind.of(dir), kind != .directory { throw FileError(dir, "exists and is not a directory (a \(kind.rawValue))") }
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw FileError(dir, "cannot create the directory (\((error as NSError).localizedDescription))")
            }
            lua.push(dir)
            return 1
        }
        lua.register("write", in: files, doc: """
            mpm.files.write(path, text)
            Replaces path by text atomically (a temporary beside it, flushed, then renamed): a
            reader or a killed run sees the old file or the new one, never a part. The text is
            written byte for byte, so binary contents (a figure read with io.open(p, "rb")) copy.
            """) { lua in
            try AtomicFile.write(try lua.string(1), bytes: try lua.bytes(2))
            return 0
        }
        lua.register("remove_stale_temporaries", in: files, doc: """
            mpm.files.remove_stale_temporaries(dir) -> {names}
            Removes the temporaries (.NAME.tmp-PID-N) in dir whose writing process is gone.
            """) { lua in
            lua.push(strings: AtomicFile.removeStaleTemporaries(in: try lua.string(1)))
            return 1
        }
        lua.register("lock", in: files, doc: """
            mpm.files.lock(dir) -> token
            Claims a run directory (DIR/.lock, held until mpm.files.unlock(token) or the process
            ends); fails naming the process and host that hold it. Nested claims of one
            directory by one process share the lock.
            """) { lua in
            let lock = try RunLock.acquire(try lua.string(1))
            let token = nextLock
            nextLock += 1
            locks[token] = lock
            lua.push(token)
            return 1
        }
        lua.register("unlock", in: files, doc: "mpm.files.unlock(token): gives up a claim made by mpm.files.lock") { lua in
            let token = try lua.integer(1)
            locks.removeValue(forKey: token)?.release()
            return 0
        }
        lua.register("isatty", in: files, doc: """
            mpm.files.isatty([fd=1]) -> boolean
            Whether file descriptor fd (1: standard output) is a terminal: progress lines and
            plots drawn in the terminal are for people, not for log files.
            """) { lua in
            lua.push(isatty(Int32(clamping: try lua.optionalInteger(1, default: 1))) != 0)
            return 1
        }
        lua.register("digest", in: files, doc: """
            mpm.files.digest(path) -> hex string
            The SHA-256 of a file's content (OpenSSL): what identifies a backbone or a data file
            when a result may be reused only for the identical experiment.
              mpm.files.digest("runs/cfm/backbone.h5")   -- "9f86d081884c7d65..."
            """) { lua in
            lua.push(try Digest.sha256(file: try lua.string(1)))
            return 1
        }
        lua.register("digest_text", in: files, doc: "mpm.files.digest_text(s) -> hex string: the SHA-256 of a string") { lua in
            lua.push(Digest.sha256(text: try lua.string(1)))
            return 1
        }
        lua.register("list", in: files, doc: """
            mpm.files.list(dir) -> {names}: the entries of a directory, sorted (hidden ones left out)
              for _, name in ipairs(mpm.files.list("runs")) do print(name) end
            """) { lua in
            let dir = try lua.string(1)
            guard FileKind.of(dir) == .directory else { throw FileError(dir, "not a directory") }
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }.sorted()
            lua.push(strings: names)
            return 1
        }
        lua.register("quote", in: files, doc: "mpm.files.quote(s) -> s quoted for a POSIX shell") { lua in
            lua.push("'" + (try lua.string(1)).replacingOccurrences(of: "'", with: "'\\''") + "'")
            return 1
        }
        lua.setRawField(mpm, "files")
    }
}
