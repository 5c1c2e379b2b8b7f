import CCrypto
import Foundation

/// SHA-256 content digests (OpenSSL's libcrypto), as lowercase hex: what identifies a file's
/// content (a backbone, a data file) when a result may be reused only for the identical
/// experiment. The file is read in blocks, and a file read before is not read again while it is
/// the same file (device, inode, size and modification time unchanged): a sweep keys each of
/// its runs by the same data files, which may be hundreds of megabytes.
///
/// ```swift
/// let id = try Digest.sha256(file: "runs/cfm/backbone.h5")   // "9f86d0..."
/// let key = Digest.sha256(text: "{\"steps\":100}")
/// ```
public enum Digest {
    /// What tells one version of a file from another without reading it.
    private struct Identity: Equatable {
        let device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
    }
    private static var known: [String: (identity: Identity, digest: String)] = [:]
    private static let knownLock = NSLock()

    /// The digest of a file's bytes.
    public static func sha256(file path: String) throws -> String {
        if let kind = FileKind.of(path), kind != .file { throw FileError(path, "not a regular file (a \(kind.rawValue))") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path, errno: errno) }
        defer { try? handle.close() }
        var info = stat()
        guard fstat(handle.fileDescriptor, &info) == 0 else { throw FileError(path, errno: errno) }
        let identity = Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                                seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec)
        if let cached = knownLock.withLock({ known[path] }), cached.identity == identity { return cached.digest }
        let digest = try hashing { update in
            while true {
                guard let block = try handle.read(upToCount: 1 << 20), !block.isEmpty else { break }
                block.withUnsafeBytes { update($0) }
            }
        }
        knownLock.withLock { known[path] = (identity, digest) }
        return digest
    }

    /// The digest of a string's UTF-8 bytes.
    public static func sha256(text: String) -> String {
        // Hashing memory cannot fail short of OpenSSL running out of memory.
        (try? hashing { update in Array(text.utf8).withUnsafeBytes { update($0) } }) ?? ""
    }

    private static func hashing(_ feed: ((UnsafeRawBufferPointer) -> Void) throws -> Void) throws -> String {
        guard let context = EVP_MD_CTX_new() else { throw FileError("sha256", "OpenSSL could not allocate a digest") }
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        try feed { bytes in _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
