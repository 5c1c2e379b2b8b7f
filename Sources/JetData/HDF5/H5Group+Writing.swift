import Tensors
import CHDF5
import CHDF5Support

/// How a dataset is stored: chunked along rows, gzip-compressed and checksummed by default, as
/// h5py's `create_dataset(..., chunks=True, compression="gzip", fletcher32=True)` would.
///
/// ```swift
/// try f.write("csts", values, shape: [n, 128, 7], options: H5WriteOptions(chunkRows: 512, gzipLevel: 4))
/// ```
public struct H5WriteOptions: Sendable {
    /// Rows per chunk; nil picks about 1 MiB per chunk.
    public var chunkRows: Int?
    /// gzip level 1...9, or nil for no compression.
    public var gzipLevel: Int?
    /// Byte shuffle before compression (helps floats compress).
    public var shuffle: Bool
    /// A fletcher32 checksum per chunk, checked on every read (chunked datasets only: scalar
    /// and empty datasets are stored contiguously, without one).
    public var checksum: Bool

    public init(chunkRows: Int? = nil, gzipLevel: Int? = 4, shuffle: Bool = true, checksum: Bool = true) {
        self.chunkRows = chunkRows
        self.gzipLevel = gzipLevel
        self.shuffle = shuffle
        self.checksum = checksum
    }
}

extension H5Group {
    /// Writes `values` (row-major) as a new dataset `name` of `shape`, replacing any existing
    /// dataset of that name. Bool is stored as h5py's bool (enum over int8).
    /// ```swift
    /// try f.write("mask", [true, false, true, true], shape: [2, 2])
    /// ```
    public func write<T: H5Element>(_ name: String, _ values: [T], shape: [Int],
                                    options: H5WriteOptions = H5WriteOptions()) throws {
        try values.withUnsafeBufferPointer { try write(name, $0, shape: shape, options: options) }
    }

    /// Writes from a buffer (used to write tensor storage without a copy).
    public func write<T: H5Element>(_ name: String, _ values: UnsafeBufferPointer<T>, shape: [Int],
                                    options: H5WriteOptions = H5WriteOptions()) throws {
        H5Library.prepare()
        let shown = displayName(name)
        guard !shape.contains(where: { $0 < 0 }) else {
            throw DataError("\(filePath): cannot write dataset '\(shown)' with negative shape \(formatShape(shape, .tuple))")
        }
        guard let n = checkedElementCount(shape) else {
            throw DataError("\(filePath): cannot write dataset '\(shown)' of shape \(formatShape(shape, .tuple)) (too many elements)")
        }
        guard values.count == n else {
            throw DataError("\(filePath): dataset '\(shown)' has shape \(formatShape(shape, .tuple)) (\(n) elements) but \(values.count) values were given")
        }
        if contains(name) { try remove(name) }

        let space = try makeSimpleSpace(shape) { "\(filePath): dataset '\(shown)'" }
        let mem = T.h5Kind.memoryType()
        defer { if mem.owned { H5Tclose(mem.id) } }
        guard mem.id >= 0 else { throw DataError("\(filePath): cannot make the type of dataset '\(shown)'\(H5Library.lastError())") }

        let dcpl = H5Pcreate(mpm_h5p_dataset_create())
        defer { if dcpl >= 0 { H5Pclose(dcpl) } }
        // Chunking needs every dimension positive; empty or scalar datasets stay contiguous.
        if !shape.isEmpty, n > 0 {
            let rowBytes = max(1, shape.dropFirst().reduce(1, *) * T.h5Kind.byteSize)
            let rows = min(shape[0], max(1, options.chunkRows ?? ((1 << 20) / rowBytes)))
            var chunk = shape.map { hsize_t($0) }
            chunk[0] = hsize_t(rows)
            _ = H5Pset_chunk(dcpl, Int32(shape.count), chunk)
            if let level = options.gzipLevel {
                if options.shuffle { _ = H5Pset_shuffle(dcpl) }
                _ = H5Pset_deflate(dcpl, UInt32(max(1, min(9, level))))
            }
            // A checksum per chunk (last, over the stored bytes, as h5py's fletcher32=True):
            // damaged data is an error on read instead of wrong numbers.
            if options.checksum { _ = H5Pset_fletcher32(dcpl) }
        }
        let lcpl = H5Pcreate(mpm_h5p_link_create())
        defer { if lcpl >= 0 { H5Pclose(lcpl) } }
        _ = H5Pset_create_intermediate_group(lcpl, 1)
        let did = H5Dcreate2(id, name, mem.id, space.id, lcpl, dcpl, mpm_h5p_default())
        guard did >= 0 else { throw DataError("\(filePath): cannot create dataset '\(shown)'\(H5Library.lastError())") }
        defer { H5Dclose(did) }
        if n > 0, let base = values.baseAddress {
            guard H5Dwrite(did, mem.id, mpm_h5s_all(), mpm_h5s_all(), mpm_h5p_default(), base) >= 0 else {
                throw DataError("\(filePath): cannot write dataset '\(shown)'\(H5Library.lastError())")
            }
        }
    }
}
