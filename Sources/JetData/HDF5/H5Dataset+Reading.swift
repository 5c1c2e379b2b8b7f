import CHDF5
import CHDF5Support

/// Reading whole datasets or hyperslabs of rows (ranges along the first axis) into typed
/// memory. Conversions: any float width to Float/Double; any integer width, enum or h5py bool
/// to Int64/Int32/Int8/UInt8; integers, enums and bools to Bool (nonzero is true).
extension H5Dataset {
    /// Reads all elements (or the rows `rows`) into a new array, row-major.
    /// ```swift
    /// let mask = try file.dataset("mask").read(Bool.self, rows: 10..<20)   // 10 * 128 values
    /// ```
    public func read<T: H5Element>(_ type: T.Type, rows: Range<Int>? = nil) throws -> [T] {
        let n = try checkedRows(rows).count * rowElementCount
        return try [T](unsafeUninitializedCapacity: n) { buffer, count in
            // The count is set only after a successful read: a failure leaves an empty array.
            try read(rows: rows, into: buffer)
            count = n
        }
    }

    /// Reads all elements (or the rows `rows`) into `buffer`, which must hold at least
    /// rows x rowElementCount elements. The loader uses this to fill tensor storage directly.
    public func read<T: H5Element>(rows: Range<Int>? = nil, into buffer: UnsafeMutableBufferPointer<T>) throws {
        let r = try checkedRows(rows)
        let n = r.count * rowElementCount
        guard buffer.count >= n else {
            throw DataError("\(where_): a buffer of \(buffer.count) elements cannot hold \(n) elements")
        }
        guard n > 0, let base = buffer.baseAddress else { return }
        H5Library.prepare()
        try checkReadable(as: T.h5Kind)
        try readRaw(kind: T.h5Kind, rows: rows == nil ? nil : r, into: UnsafeMutableRawPointer(base), count: n)
    }

    /// The requested row range, checked against the shape (a whole read when nil).
    func checkedRows(_ rows: Range<Int>?) throws -> Range<Int> {
        guard let rows else { return 0..<rowCount }
        guard !shape.isEmpty else { throw DataError("\(where_): a scalar dataset has no rows to slice") }
        guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
            throw DataError("\(where_): rows \(rows.lowerBound)..<\(rows.upperBound) are out of range for \(rowCount) rows")
        }
        return rows
    }

    /// Whether this dataset's dtype converts to `kind`; the message names both.
    func checkReadable(as kind: H5ElementKind) throws {
        let ok: Bool
        switch kind {
        case .float32, .float64: ok = dtype.isFloat
        default: ok = dtype.isIntegral
        }
        guard ok else {
            throw DataError("\(filePath): dataset '\(displayPath)' has dtype \(dtype), expected \(kind.isFloat ? "a float type" : kind == .bool ? "bool or an integer type" : "an integer type")")
        }
    }

    /// One H5Dread of `rows` (whole dataset when nil) with HDF5 converting to `kind`. Enums are
    /// read in their own base type and widened here, since HDF5 has no enum-to-integer path.
    func readRaw(kind: H5ElementKind, rows: Range<Int>?, into out: UnsafeMutableRawPointer, count n: Int) throws {
        let fileSpace: H5Handle
        let memSpace: H5Handle
        if let rows {
            let sid = H5Dget_space(id)
            guard sid >= 0 else { throw DataError("\(where_): cannot read the shape\(H5Library.lastError())") }
            fileSpace = H5Handle(sid, close: H5Sclose)
            var start = [hsize_t](repeating: 0, count: shape.count)
            start[0] = hsize_t(rows.lowerBound)
            var counts = shape.map { hsize_t($0) }
            counts[0] = hsize_t(rows.count)
            guard H5Sselect_hyperslab(sid, H5S_SELECT_SET, start, nil, counts, nil) >= 0 else {
                throw DataError("\(where_): cannot select rows \(rows.lowerBound)..<\(rows.upperBound)\(H5Library.lastError())")
            }
            memSpace = try makeSimpleSpace(counts.map { Int($0) }) { where_ }
        } else {
            fileSpace = H5Handle(mpm_h5s_all(), close: { _ in 0 })
            memSpace = H5Handle(mpm_h5s_all(), close: { _ in 0 })
        }
        let what = rows.map { "rows \($0.lowerBound)..<\($0.upperBound) of dataset '\(displayPath)'" } ?? "dataset '\(displayPath)'"

        switch dtype {
        case .bool, .enumeration:
            // Read the enum's raw base integers, then widen or normalise them.
            let nativeType = H5Tget_native_type(fileType.id, H5T_DIR_ASCEND)
            guard nativeType >= 0 else { throw DataError("\(filePath): cannot read \(what)\(H5Library.lastError())") }
            defer { H5Tclose(nativeType) }
            let base = H5Tget_super(nativeType)
            defer { if base >= 0 { H5Tclose(base) } }
            let size = Int(H5Tget_size(nativeType))
            let signed = base >= 0 && H5Tget_sign(base) == H5T_SGN_2
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n * size, 1), alignment: 8)
            defer { raw.deallocate() }
            guard H5Dread(id, nativeType, memSpace.id, fileSpace.id, mpm_h5p_default(), raw) >= 0 else {
                throw readFailure(what)
            }
            widenIntegers(raw, size: size, signed: signed, count: n, into: out, kind: kind)
        default:
            if kind == .bool {
                // Integers to bool: read as int8 (HDF5 saturates, so nonzero stays nonzero), then
                // normalise every byte to 0 or 1, the only valid Bool representations.
                guard H5Dread(id, mpm_h5t_native_int8(), memSpace.id, fileSpace.id, mpm_h5p_default(), out) >= 0 else {
                    throw readFailure(what)
                }
                let bytes = out.assumingMemoryBound(to: UInt8.self)
                for i in 0..<n { bytes[i] = bytes[i] != 0 ? 1 : 0 }
            } else {
                let mem = kind.memoryType()
                defer { if mem.owned { H5Tclose(mem.id) } }
                guard H5Dread(id, mem.id, memSpace.id, fileSpace.id, mpm_h5p_default(), out) >= 0 else {
                    throw readFailure(what)
                }
            }
        }
    }
}

extension H5Dataset {
    /// The error for a failed H5Dread, right after it: a checksum mismatch (fletcher32, written
    /// on every chunked dataset) says the data is corrupt; anything else names HDF5's reason.
    func readFailure(_ what: String) -> DataError {
        let detail = H5Library.lastError()
        if detail.contains("checksum") {
            return DataError("\(filePath): cannot read \(what), the data is corrupt (its checksum does not match)")
        }
        return DataError("\(filePath): cannot read \(what), the file may be truncated or corrupt\(detail)")
    }

    /// Reads the whole dataset as floats and refuses NaN or infinite values, naming the tensor
    /// (`x.h5: tensor 'model.encoder.0.weight' holds NaN`): weights that went bad must not load
    /// silently and fail much later as a NaN loss.
    public func readFiniteFloats(tensorName: String) throws -> [Float] {
        let values = try read(Float.self)
        if let bad = values.first(where: { !$0.isFinite }) {
            let what = bad.isNaN ? "NaN" : bad > 0 ? "inf" : "-inf"
            throw DataError("\(filePath): tensor '\(tensorName)' holds \(what)")
        }
        return values
    }
}

/// Converts `count` raw integers of `size` bytes into elements of `kind` at `out`.
private func widenIntegers(_ raw: UnsafeMutableRawPointer, size: Int, signed: Bool, count n: Int,
                           into out: UnsafeMutableRawPointer, kind: H5ElementKind) {
    @inline(__always) func value(_ i: Int) -> Int64 {
        switch (size, signed) {
        case (1, true): return Int64(raw.load(fromByteOffset: i, as: Int8.self))
        case (1, false): return Int64(raw.load(fromByteOffset: i, as: UInt8.self))
        case (2, true): return Int64(raw.load(fromByteOffset: 2 * i, as: Int16.self))
        case (2, false): return Int64(raw.load(fromByteOffset: 2 * i, as: UInt16.self))
        case (4, true): return Int64(raw.load(fromByteOffset: 4 * i, as: Int32.self))
        case (4, false): return Int64(raw.load(fromByteOffset: 4 * i, as: UInt32.self))
        case (8, true): return raw.load(fromByteOffset: 8 * i, as: Int64.self)
        default: return Int64(truncatingIfNeeded: raw.load(fromByteOffset: 8 * i, as: UInt64.self))
        }
    }
    switch kind {
    case .bool:
        let p = out.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n { p[i] = value(i) != 0 ? 1 : 0 }
    case .int64:
        let p = out.assumingMemoryBound(to: Int64.self)
        for i in 0..<n { p[i] = value(i) }
    case .int32:
        let p = out.assumingMemoryBound(to: Int32.self)
        for i in 0..<n { p[i] = Int32(clamping: value(i)) }
    case .int8:
        let p = out.assumingMemoryBound(to: Int8.self)
        for i in 0..<n { p[i] = Int8(clamping: value(i)) }
    case .uint8:
        let p = out.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n { p[i] = UInt8(clamping: value(i)) }
    case .float32, .float64:
        break  // rejected by checkReadable before any read
    }
}
