import Tensors
import CHDF5
import CHDF5Support

/// An n-dimensional HDF5 dataset. Shapes are row-major like h5py's; the first axis is the
/// "row" axis that hyperslab reads slice (jets, in the jet files).
///
/// ```swift
/// let csts = try file.dataset("csts")        // shape [N, 128, 7], dtype float32
/// let first = try csts.read(Float.self, rows: 0..<512)
/// ```
public final class H5Dataset: H5Object {
    /// Dimensions, outermost first (h5py's `shape`).
    public let shape: [Int]
    /// What the file stores.
    public let dtype: H5DType
    /// Chunk dimensions, or nil for contiguous storage.
    public let chunkShape: [Int]?
    let fileType: H5Handle

    /// Bytes of chunk cache per open dataset. HDF5's default (1 MiB) is smaller than one chunk of
    /// a JetClass file (512 jets x 128 x 7 floats = 1.8 MB), which would make every partial read
    /// decompress its chunk again.
    static let chunkCacheBytes = 64 << 20

    init(handle: H5Handle, filePath: String, path: String, shape: [Int], dtype: H5DType,
         chunkShape: [Int]?, fileType: H5Handle) {
        self.shape = shape
        self.dtype = dtype
        self.chunkShape = chunkShape
        self.fileType = fileType
        super.init(handle: handle, filePath: filePath, path: path)
    }

    static func open(in group: H5Group, name: String) throws -> H5Dataset {
        H5Library.prepare()
        let shown = group.displayName(name)
        let dapl = H5Pcreate(mpm_h5p_dataset_access())
        defer { if dapl >= 0 { H5Pclose(dapl) } }
        _ = H5Pset_chunk_cache(dapl, 12421, chunkCacheBytes, 1.0)
        let did = H5Dopen2(group.id, name, dapl)
        guard did >= 0 else {
            throw DataError("\(group.filePath): cannot open dataset '\(shown)', the file may be corrupt\(H5Library.lastError())")
        }
        let handle = H5Handle(did, close: H5Dclose)
        let space = H5Dget_space(did)
        guard space >= 0 else { throw DataError("\(group.filePath): cannot read the shape of dataset '\(shown)'\(H5Library.lastError())") }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw DataError("\(group.filePath): dataset '\(shown)' has an unreadable shape\(H5Library.lastError())") }
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { _ = H5Sget_simple_extent_dims(space, &dims, nil) }
        guard checkedElementCount(dims.map { Int(clamping: $0) }) != nil else {
            throw DataError("\(group.filePath): dataset '\(shown)' has an implausible shape \(formatShape(dims.map { Int(clamping: $0) }, .tuple)), the file may be corrupt")
        }
        let tid = H5Dget_type(did)
        guard tid >= 0 else { throw DataError("\(group.filePath): cannot read the dtype of dataset '\(shown)'\(H5Library.lastError())") }
        let type = H5Handle(tid, close: H5Tclose)
        var chunk: [Int]? = nil
        let dcpl = H5Dget_create_plist(did)
        if dcpl >= 0 {
            if H5Pget_layout(dcpl) == H5D_CHUNKED, rank > 0 {
                var c = [hsize_t](repeating: 0, count: rank)
                if H5Pget_chunk(dcpl, Int32(rank), &c) == Int32(rank) { chunk = c.map { Int($0) } }
            }
            H5Pclose(dcpl)
        }
        return H5Dataset(handle: handle, filePath: group.filePath, path: group.childPath(name),
                         shape: dims.map { Int(clamping: $0) }, dtype: H5DType.classify(tid), chunkShape: chunk, fileType: type)
    }

    /// Number of rows (the first dimension; 1 for a scalar dataset).
    public var rowCount: Int { shape.first ?? 1 }
    /// Elements per row (product of the dimensions after the first).
    public var rowElementCount: Int { shape.dropFirst().reduce(1, *) }
    /// Total number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// The shape as h5py prints it, `(100,128,7)`, for messages.
    public var shapeDescription: String { formatShape(shape, .tuple) }
}
