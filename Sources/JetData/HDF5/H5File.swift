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

    /// Creates `path` by running `body` on a new file written to a temporary name in the same
    /// folder, then renaming it into place. If `body` throws, nothing is left behind and an
    /// existing file at `path` is untouched. Objects opened inside `body` must not be kept.
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
        let temp = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // A strong close degree makes H5Fclose close every object of the file, so the file is
        // complete on disk before the rename even if a handle is still referenced somewhere.
        let fapl = H5Pcreate(mpm_h5p_file_access())
        defer { if fapl >= 0 { H5Pclose(fapl) } }
        _ = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
        let fid = H5Fcreate(temp, mpm_h5f_acc_excl(), mpm_h5p_default(), fapl)
        guard fid >= 0 else {
            let detail = H5Library.lastError()
            throw DataError("cannot write \(path): cannot create a file in \(folder)\(detail)")
        }
        var closed = false
        let file = H5File(handle: H5Handle(fid, close: { id in
            // Closing twice would be an error; the explicit close below already happened.
            closed ? 0 : H5Fclose(id)
        }), filePath: path, path: "/")
        do {
            try body(file)
        } catch {
            _ = H5Fclose(fid)
            closed = true
            unlink(temp)
            throw error
        }
        let status = H5Fclose(fid)
        closed = true
        guard status >= 0 else {
            let detail = H5Library.lastError()
            unlink(temp)
            throw DataError("cannot write \(path): closing the file failed\(detail)")
        }
        // Flush file contents to disk before the rename makes them visible under the final name.
        let fd = Glibc.open(temp, O_RDONLY)
        if fd >= 0 { fsync(fd); Glibc.close(fd) }
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw DataError("cannot write \(path): rename failed (\(reason))")
        }
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
