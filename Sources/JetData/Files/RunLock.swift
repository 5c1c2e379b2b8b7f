import Foundation

/// An exclusive claim on a run directory, so two runs never write the same files. The lock is
/// `DIR/.lock`, held with flock(2), so the kernel lets it go when its process dies however it
/// dies: a lock file left by a dead run is stale and simply taken over. The file records the
/// holder's PID, host and start time for the message a second run gets. Locks are counted per
/// process, so nested claims of one directory (a job, then its trainer) share one lock.
///
/// ```swift
/// let lock = try RunLock.acquire("runs/cfm")
/// defer { lock.release() }
/// ```
public final class RunLock {
    public let directory: String
    private let descriptor: Int32
    private var count = 1

    nonisolated(unsafe) private static var held: [String: RunLock] = [:]

    private init(directory: String, descriptor: Int32) {
        self.directory = directory
        self.descriptor = descriptor
    }

    /// The path of the lock file of `directory`.
    public static func lockPath(_ directory: String) -> String { directory + "/.lock" }

    /// Claims `directory` (which must exist), or fails naming the process that holds it.
    public static func acquire(_ directory: String) throws -> RunLock {
        let key = URL(fileURLWithPath: directory).standardizedFileURL.path
        if let lock = held[key] {
            lock.count += 1
            return lock
        }
        let path = lockPath(key)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(lockPath(directory), errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw FileError(directory, "another run is writing here (\(holder.isEmpty ? "lock held" : holder)); wait for it or choose another directory")
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "process \(getpid()) on \(String(cString: host)), since \(stamp)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        let lock = RunLock(directory: key, descriptor: fd)
        held[key] = lock
        return lock
    }

    /// Gives up this claim; the last release of a directory unlocks it.
    public func release() {
        guard count > 0 else { return }
        count -= 1
        if count == 0 {
            RunLock.held[directory] = nil
            close(descriptor)
        }
    }
}
