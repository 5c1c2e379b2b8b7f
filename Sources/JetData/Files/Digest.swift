import CCrypto
import Foundation

/// SHA-256 content digests (OpenSSL's libcrypto), as lowercase hex: what identifies a file's
/// content (a backbone, a data file) when a result may be reused only for the identical
/// experiment. The file is read in blocks, so a large data file costs its read time only.
///
/// ```swift
/// let id = try Digest.sha256(file: "runs/cfm/backbone.h5")   // "9f86d0..."
/// let key = Digest.sha256(text: "{\"steps\":100}")
/// ```
public enum Digest {
    /// The digest of a file's bytes.
    public static func sha256(file path: String) throws -> String {
        if let kind = FileKind.of(path), kind != .file { throw FileError(path, "not a regular file (a \(kind.rawValue))") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path, errno: errno) }
        defer { try? handle.close() }
        return try hashing { update in
            while true {
                guard let block = try handle.read(upToCount: 1 << 20), !block.isEmpty else { break }
                block.withUnsafeBytes { update($0) }
            }
        }
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
