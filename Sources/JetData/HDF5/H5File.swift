import CHDF5
import CHDF5Support
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open HDF5 file; it is also the root group. Opening checks the usual ways a path goes
/// wrong (missing, a directory, empty, not HDF5, truncated) and says which one it is.
/// New files are only ever written atomically: to a temporary file in the same folder, renamed
/// over the destination when complete, so a reader never sees half a file.
///
/// ```swift
/// try H5File.createAtomically("out.h5") { f in
///     try f.write("labels", [Int64(0), 2, 1], shape: [3])
///     try f.setAttribute("kind", .string("jetclass"))
/// }
/// let f = try H5File.open("out.h5")
/// let labels = try f.dataset("labels").read(Int64.self)
/// ```
public final class H5File: H5Group {
    /// How to open an existing file.
    public enum Mode: Sendable { case readOnly, readWrite }

    /// Opens an existing file.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> H5File {
        H5Library.prepare()
        try checkReadable(path)
        let flags = mode == .readOnly ? mpm_h5f_acc_rdonly() : mpm_h5f_acc_rdwr()
        let fid = H5Fopen(path, flags, mpm_h5p_default())
        guard fid >= 0 else {
            let detail = H5Library.lastError()
            if detail.contains("truncated") {
                throw DataError("\(path): file is truncated\(detail)")
            }
            if mode == .readWrite && access(path, W_OK) != 0 {
                throw DataError("\(path): cannot open for writing (permission denied)")
            }
            throw DataError("\(path): cannot open HDF5 file, it is corrupt or locked\(detail)")
        }
        return H5File(handle: H5Handle(fid, close: H5Fclose), filePath: path, path: "/")
    }

    /// Creates `path` by running `body` on a new file, then writing it to a temporary name in the
    /// same folder and renaming it into place. If anything fails (`body` throws, the disk is
    /// full), nothing is left behind, an existing file at `path` is untouched, and no HDF5 object
    /// stays open. Objects opened inside `body` must not be kept.
    ///
    /// The file is built in memory (HDF5's core driver, no backing store) and its image written
    /// with plain `write` calls: a disk error then reaches us as an errno, and HDF5 never has to
    /// close a file it cannot flush (a failed H5Fclose leaves the file registered with the
    /// library, which crashed the process at exit). The cost is one in-memory copy of the file.
    public static func createAtomically(_ path: String, _ body: (H5File) throws -> Void) throws {
        H5Library.prepare()
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw DataError("cannot write \(path): folder \(folder) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw DataError("cannot write \(path): it is a directory")
        }
        let image = try buildImage(path, body)
        let temp = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try writeFile(temp, image, shownAs: path)
        } catch {
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw DataError("cannot write \(path): rename failed (\(reason))")
        }
    }

    /// Runs `body` on a new in-memory file and returns the file's bytes. The file is closed on
    /// every path; in memory, closing cannot fail for want of disk space.
    private static func buildImage(_ path: String, _ body: (H5File) throws -> Void) throws -> [UInt8] {
        // A strong close degree makes H5Fclose close every object of the file, so nothing of it
        // stays registered with the library even if a handle is still referenced somewhere.
        let fapl = H5Pcreate(mpm_h5p_file_access())
        guard fapl >= 0 else { throw DataError("cannot write \(path): cannot set up HDF5\(H5Library.lastError())") }
        defer { H5Pclose(fapl) }
        _ = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
        guard H5Pset_fapl_core(fapl, 16 << 20, false) >= 0 else {
            throw DataError("cannot write \(path): cannot set up HDF5's in-memory file\(H5Library.lastError())")
        }
        let fid = H5Fcreate(path, mpm_h5f_acc_trunc(), mpm_h5p_default(), fapl)
        guard fid >= 0 else {
            throw DataError("cannot write \(path): cannot create an HDF5 file\(H5Library.lastError())")
        }
        var closed = false
        let file = H5File(handle: H5Handle(fid, close: { id in
            // Closing twice would be an error; the explicit close below already happened.
            closed ? 0 : H5Fclose(id)
        }), filePath: path, path: "/")
        defer { if !closed { _ = H5Fclose(fid); closed = true } }
        try body(file)
        guard H5Fflush(fid, H5F_SCOPE_GLOBAL) >= 0 else {
            throw DataError("cannot write \(path): finishing the file failed\(H5Library.lastError())")
        }
        let size = H5Fget_file_image(fid, nil, 0)
        guard size >= 0 else { throw DataError("cannot write \(path): finishing the file failed\(H5Library.lastError())") }
        var image = [UInt8](repeating: 0, count: size)
        let copied = image.withUnsafeMutableBytes { H5Fget_file_image(fid, $0.baseAddress, size) }
        guard copied == size else { throw DataError("cannot write \(path): finishing the file failed\(H5Library.lastError())") }
        closed = true
        guard H5Fclose(fid) >= 0 else {
            throw DataError("cannot write \(path): closing the file failed\(H5Library.lastError())")
        }
        return image
    }

    /// Writes `bytes` to a new file `temp` and flushes it to disk; errors name `shownAs` and the
    /// system's reason in one line (`x.h5: no space left on device`).
    private static func writeFile(_ temp: String, _ bytes: [UInt8], shownAs path: String) throws {
        func failure(_ code: Int32) -> DataError {
            var reason = String(cString: strerror(code))
            if let first = reason.first { reason = first.lowercased() + reason.dropFirst() }
            return DataError("\(path): \(reason)")
        }
        let fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(errno) }
        var open = true
        defer { if open { Glibc.close(fd) } }
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure(errno)
                }
                done += n
            }
        }
        // The contents reach the disk before the rename makes them visible under the final name;
        // a delayed write error (ENOSPC, EIO) shows up here or at close.
        guard fsync(fd) == 0 else { throw failure(errno) }
        open = false
        guard Glibc.close(fd) == 0 else { throw failure(errno) }
    }

    /// Checks that `path` names a readable, non-empty HDF5 file, with a specific message for
    /// each way it is not.
    static func checkReadable(_ path: String) throws {
        guard !path.isEmpty else { throw DataError("empty file name") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataError("\(path): no such file")
        }
        if isDir.boolValue { throw DataError("\(path) is a directory, not an HDF5 file") }
        guard access(path, R_OK) == 0 else { throw DataError("\(path): cannot read file (permission denied)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
        if size == 0 { throw DataError("\(path) is empty (0 bytes), not an HDF5 file") }
        let isHDF5 = H5Fis_hdf5(path)
        if isHDF5 == 0 { throw DataError("\(path) is not an HDF5 file") }
        if isHDF5 < 0 { throw DataError("\(path): cannot read file\(H5Library.lastError())") }
    }
}
