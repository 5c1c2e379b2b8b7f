import CHDF5
import Foundation
import CHDF5Support

/// An attribute value: the scalar and array kinds h5py round-trips.
public enum H5AttributeValue: Equatable, Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case strings([String])
    case ints([Int64])
    case doubles([Double])

    /// The value as an integer when it is one (a one-element array counts).
    public var intValue: Int64? {
        switch self {
        case .int(let v): return v
        case .ints(let v) where v.count == 1: return v[0]
        case .double(let v) where v.rounded() == v && abs(v) < 9e18: return Int64(v)
        default: return nil
        }
    }
    /// The value as a double when it is numeric and single.
    public var doubleValue: Double? {
        switch self {
        case .double(let v): return v
        case .int(let v): return Double(v)
        case .doubles(let v) where v.count == 1: return v[0]
        case .ints(let v) where v.count == 1: return Double(v[0])
        default: return nil
        }
    }
    /// The value as a string when it is one.
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .strings(let s) where s.count == 1: return s[0]
        default: return nil
        }
    }
}

/// Attributes on files, groups and datasets. Strings are written as variable-length UTF-8
/// (h5py reads them as `str`); fixed-length strings are read too.
///
/// ```swift
/// try f.setAttribute("n_quantiles", .int(500))
/// let kind = try f.attribute("kind")?.stringValue
/// ```
extension H5Object {
    /// Names of this object's attributes, in name order.
    public func attributeNames() throws -> [String] {
        // Indices are tried until HDF5 reports there is no such index: this avoids the info
        // structs whose layout changes between HDF5 1.10 and 1.12.
        H5Library.prepare()
        var names: [String] = []
        var i: hsize_t = 0
        while true {
            let size = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, mpm_h5p_default())
            guard size >= 0 else { break }
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            _ = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, mpm_h5p_default())
            names.append(String(cString: buffer))
            i += 1
        }
        return names
    }

    /// The attribute `name`, or nil when there is none.
    public func attribute(_ name: String) throws -> H5AttributeValue? {
        H5Library.prepare()
        guard H5Aexists(id, name) > 0 else { return nil }
        let aid = H5Aopen(id, name, mpm_h5p_default())
        guard aid >= 0 else { throw DataError("\(where_): cannot open attribute '\(name)'\(H5Library.lastError())") }
        defer { H5Aclose(aid) }
        let tid = H5Aget_type(aid)
        guard tid >= 0 else { throw DataError("\(where_): cannot read attribute '\(name)'\(H5Library.lastError())") }
        defer { H5Tclose(tid) }
        let sid = H5Aget_space(aid)
        guard sid >= 0 else { throw DataError("\(where_): cannot read attribute '\(name)'\(H5Library.lastError())") }
        defer { H5Sclose(sid) }
        let isScalar = H5Sget_simple_extent_type(sid) == H5S_SCALAR
        let count = Int(H5Sget_simple_extent_npoints(sid))
        guard count >= 0 && count <= 1 << 24 else {
            throw DataError("\(where_): attribute '\(name)' has \(count) elements, the file may be corrupt")
        }
        let fail = { DataError("\(self.where_): cannot read attribute '\(name)'\(H5Library.lastError())") }

        switch H5DType.classify(tid) {
        case .string:
            var strings: [String] = []
            if H5Tis_variable_str(tid) > 0 {
                let mem = H5Tcopy(mpm_h5t_c_s1())
                defer { H5Tclose(mem) }
                _ = H5Tset_size(mem, mpm_h5t_variable())
                _ = H5Tset_cset(mem, H5Tget_cset(tid))
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(count, 1))
                guard H5Aread(aid, mem, &pointers) >= 0 else { throw fail() }
                for p in pointers.prefix(count) {
                    strings.append(p.map { String(cString: $0) } ?? "")
                    if let p { H5free_memory(p) }
                }
            } else {
                let size = Int(H5Tget_size(tid))
                guard size >= 0 && size <= 1 << 24 && size * count <= 1 << 28 else {
                    throw DataError("\(where_): attribute '\(name)' holds implausibly long strings, the file may be corrupt")
                }
                var bytes = [CChar](repeating: 0, count: max(size * count, 1) + 1)
                guard H5Aread(aid, tid, &bytes) >= 0 else { throw fail() }
                for i in 0..<count {
                    // Fixed-length strings may be NUL- or space-padded and need not end in NUL.
                    let slice = bytes[(i * size)..<((i + 1) * size)].map { UInt8(bitPattern: $0) }
                    let end = slice.firstIndex(of: 0) ?? slice.count
                    strings.append(String(decoding: slice[..<end], as: UTF8.self))
                }
            }
            return isScalar ? .string(strings.first ?? "") : .strings(strings)
        case .float:
            var values = [Double](repeating: 0, count: max(count, 1))
            guard H5Aread(aid, mpm_h5t_native_double(), &values) >= 0 else { throw fail() }
            return isScalar ? .double(values[0]) : .doubles(Array(values.prefix(count)))
        case .integer:
            var values = [Int64](repeating: 0, count: max(count, 1))
            guard H5Aread(aid, mpm_h5t_native_int64(), &values) >= 0 else { throw fail() }
            return isScalar ? .int(values[0]) : .ints(Array(values.prefix(count)))
        case .bool, .enumeration:
            let native = H5Tget_native_type(tid, H5T_DIR_ASCEND)
            defer { if native >= 0 { H5Tclose(native) } }
            guard native >= 0, H5Tget_size(native) == 1 else {
                throw DataError("\(where_): attribute '\(name)' is an enum wider than one byte, which is not supported")
            }
            var values = [Int8](repeating: 0, count: max(count, 1))
            guard H5Aread(aid, native, &values) >= 0 else { throw fail() }
            let ints = values.prefix(count).map { Int64($0) }
            return isScalar ? .int(ints[0]) : .ints(Array(ints))
        case .other(let kind):
            throw DataError("\(where_): attribute '\(name)' has unsupported type \(kind)")
        }
    }

    /// Sets (creating or replacing) the attribute `name`.
    public func setAttribute(_ name: String, _ value: H5AttributeValue) throws {
        H5Library.prepare()
        if H5Aexists(id, name) > 0 { _ = H5Adelete(id, name) }
        let dims: [Int]?
        switch value {
        case .string, .int, .double: dims = nil
        case .strings(let v): dims = [v.count]
        case .ints(let v): dims = [v.count]
        case .doubles(let v): dims = [v.count]
        }
        let space = try makeSimpleSpace(dims ?? []) { where_ }
        let fail = { DataError("\(self.where_): cannot write attribute '\(name)'\(H5Library.lastError())") }

        func create(_ type: hid_t) throws -> hid_t {
            let aid = H5Acreate2(id, name, type, space.id, mpm_h5p_default(), mpm_h5p_default())
            guard aid >= 0 else { throw fail() }
            return aid
        }
        switch value {
        case .string(let s):
            try writeStrings([s], create: create, fail: fail)
        case .strings(let v):
            try writeStrings(v, create: create, fail: fail)
        case .int(let v):
            var x = v
            let aid = try create(mpm_h5t_native_int64()); defer { H5Aclose(aid) }
            guard H5Awrite(aid, mpm_h5t_native_int64(), &x) >= 0 else { throw fail() }
        case .ints(let v):
            let aid = try create(mpm_h5t_native_int64()); defer { H5Aclose(aid) }
            guard v.withUnsafeBufferPointer({ H5Awrite(aid, mpm_h5t_native_int64(), $0.baseAddress) }) >= 0 || v.isEmpty else { throw fail() }
        case .double(let v):
            var x = v
            let aid = try create(mpm_h5t_native_double()); defer { H5Aclose(aid) }
            guard H5Awrite(aid, mpm_h5t_native_double(), &x) >= 0 else { throw fail() }
        case .doubles(let v):
            let aid = try create(mpm_h5t_native_double()); defer { H5Aclose(aid) }
            guard v.withUnsafeBufferPointer({ H5Awrite(aid, mpm_h5t_native_double(), $0.baseAddress) }) >= 0 || v.isEmpty else { throw fail() }
        }
    }

    /// Writes strings as variable-length UTF-8.
    private func writeStrings(_ strings: [String], create: (hid_t) throws -> hid_t, fail: () -> DataError) throws {
        let type = H5Tcopy(mpm_h5t_c_s1())
        defer { H5Tclose(type) }
        _ = H5Tset_size(type, mpm_h5t_variable())
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
        let aid = try create(type)
        defer { H5Aclose(aid) }
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        if pointers.isEmpty { return }
        guard H5Awrite(aid, type, &pointers) >= 0 else { throw fail() }
    }
}
