import Foundation

/// A file operation that failed, worded as "path: cause" ("runs/a/metrics.csv: is a directory").
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ path: String, _ cause: String) { message = "\(path): \(cause)" }
    /// The error of the last system call (`errno`), lower-cased as a person would say it.
    public init(_ path: String, errno code: Int32) {
        let text = String(cString: strerror(code))
        self.init(path, text.prefix(1).lowercased() + text.dropFirst())
    }
    public var description: String { message }
}

/// What is at a path, without opening it (opening a FIFO would block).
public enum FileKind: String {
    case file, directory, fifo, device, socket, other

    /// The kind of `path` (symbolic links followed), or nil when nothing is there.
    /// ```swift
    /// if FileKind.of("run/checkpoint.h5") == .file { ... }
    /// ```
    public static func of(_ path: String) -> FileKind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFIFO: return .fifo
        case S_IFCHR, S_IFBLK: return .device
        case S_IFSOCK: return .socket
        default: return .other
        }
    }

    /// Whether a regular file is at `path`: false when nothing is there, an error naming the
    /// path when something else is (a directory, a FIFO), so a caller never opens it.
    public static func isFile(_ path: String) throws -> Bool {
        switch of(path) {
        case nil: return false
        case .file?: return true
        case let kind?: throw FileError(path, "not a regular file (a \(kind.rawValue))")
        }
    }
}
