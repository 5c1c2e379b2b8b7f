import CHDF5
import CHDF5Support
import Foundation

/// Owns one HDF5 identifier and closes it exactly once, when the Swift object goes away.
/// Every wrapper object holds one of these, so identifiers never leak on error paths.
final class H5Handle {
    let id: hid_t
    private let closer: (hid_t) -> herr_t

    init(_ id: hid_t, close: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.closer = close
    }

    deinit { _ = closer(id) }
}

/// Library-wide set-up and error text.
enum H5Library {
    private static let opened: Void = { _ = H5open() }()

    /// Initialises the library once and turns HDF5's own stderr reports off for the calling
    /// thread (the setting is per thread in a thread-safe build): this layer reports every
    /// failure itself. Cheap; called at every entry point that may fail.
    static func prepare() {
        opened
        mpm_h5_silence_errors()
    }

    /// The names of the HDF5 files open in this process. A file HDF5 could not close stays
    /// registered and crashes the library's clean-up at exit; tests check that none is left.
    static func openFileNames() -> [String] {
        // H5F_OBJ_ALL (every file) does not import into Swift; it is the union of these.
        let all = hid_t(H5F_OBJ_FILE | H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR)
        let count = H5Fget_obj_count(all, UInt32(H5F_OBJ_FILE))
        guard count > 0 else { return [] }
        var ids = [hid_t](repeating: 0, count: count)
        let n = H5Fget_obj_ids(all, UInt32(H5F_OBJ_FILE), count, &ids)
        return ids.prefix(max(0, n)).map { id in
            var name = [CChar](repeating: 0, count: 4096)
            return H5Fget_name(id, &name, name.count) >= 0 ? String(cString: name) : ""
        }
    }

    /// The most specific message on the HDF5 error stack, as " (HDF5: ...)" or "".
    /// Must be called right after the failing call: the next HDF5 call clears the stack.
    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        buffer.withUnsafeMutableBufferPointer { mpm_h5_last_error($0.baseAddress, $0.count) }
        // Some messages span lines (the file driver's report of a failed write); errors are one line.
        let text = String(cString: buffer).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return text.isEmpty ? "" : " (HDF5: \(text))"
    }
}

/// Builds an owned dataspace, throwing when HDF5 cannot.
func makeSimpleSpace(_ dims: [Int], context: () -> String) throws -> H5Handle {
    let d = dims.map { hsize_t($0) }
    let id = dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(d.count), d, nil)
    guard id >= 0 else { throw DataError("\(context()): cannot create a dataspace of shape \(dims)\(H5Library.lastError())") }
    return H5Handle(id, close: H5Sclose)
}

/// The number of elements of `shape`, or nil when it overflows or exceeds `limit` (2^40 by
/// default: a corrupt header must give an error, not an allocation that traps).
func checkedElementCount(_ shape: [Int], limit: Int = 1 << 40) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (m, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow, m <= limit else { return nil }
        n = m
    }
    return n
}
