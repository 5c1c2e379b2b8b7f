import CHDF5
import CHDF5Support

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

    /// The most specific message on the HDF5 error stack, as " (HDF5: ...)" or "".
    /// Must be called right after the failing call: the next HDF5 call clears the stack.
    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        buffer.withUnsafeMutableBufferPointer { mpm_h5_last_error($0.baseAddress, $0.count) }
        let text = String(cString: buffer)
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
