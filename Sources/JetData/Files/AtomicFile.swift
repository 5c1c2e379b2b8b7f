import Foundation

/// Files replaced whole or not at all. New contents go to a temporary `.NAME.tmp-PID-RANDOM`
/// beside NAME, are flushed to disk, and are renamed over NAME, so a reader (or a run killed
/// half-way) sees the old file or the new one, never a part. The PID in the name lets a later
/// run tell the temporaries of dead processes from those still being written.
///
/// ```swift
/// try AtomicFile.write("run/metrics.csv", contents: "step,loss\n1,0.5\n")
/// ```
public enum AtomicFile {
    /// The temporary name a write of `path` uses.
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        return folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Replaces `path` by `contents`, atomically.
    public static func write(_ path: String, contents: String) throws {
        try write(path, bytes: Array(contents.utf8))
    }

    /// Replaces `path` by `bytes`, atomically (binary files: an exported ONNX model).
    ///
    /// ```swift
    /// try AtomicFile.write("model.onnx", bytes: packed)
    /// ```
    public static func write(_ path: String, bytes: [UInt8]) throws {
        if let kind = FileKind.of(path), kind != .file { throw FileError(path, "not a regular file (a \(kind.rawValue))") }
        let temp = temporaryPath(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path, errno: errno) }
        var failure: Int32 = 0
        var written = 0
        while written < bytes.count && failure == 0 {
            let n = bytes.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 { if errno != EINTR { failure = errno } } else { written += n }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temp, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temp)
            throw FileError(path, errno: failure)
        }
    }

    /// Removes the temporaries in `folder` left by processes of this machine that no longer
    /// run, and returns their names.
    @discardableResult
    public static func removeStaleTemporaries(in folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var removed: [String] = []
        for name in names.sorted() where name.hasPrefix(".") {
            guard let marker = name.range(of: ".tmp-", options: .backwards) else { continue }
            let fields = name[marker.upperBound...].split(separator: "-")
            guard fields.count == 2, let pid = Int32(fields[0]), UInt32(fields[1]) != nil, !processIsAlive(pid) else { continue }
            if unlink(folder + "/" + name) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Whether process `pid` runs on this machine (signal 0 checks without sending). A zombie,
    /// dead but not yet reaped by its parent, holds no file and counts as gone.
    public static func processIsAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.range(of: ") ", options: .backwards) else { return true }
        return stat[end.upperBound...].first != "Z"
    }
}
