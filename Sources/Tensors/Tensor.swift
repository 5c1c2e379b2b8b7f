import Foundation

/// An n-dimensional array with reverse-mode autograd. Reference semantics: every holder sees an
/// in-place update. A tensor is a strided view (`shape`, `strides` in elements, `offset`) of a
/// `Storage`; views (transpose, narrow, expand, ...) share storage and copy nothing.
///
/// ```swift
/// let x = try Tensor([1, 2, 3, 4], shape: [2, 2])
/// let y = try x.matmul(x.transpose(0, 1)).sum()
/// ```
public final class Tensor {
    public let storage: Storage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int
    public let dtype: DType

    /// Whether operations on this tensor are recorded for backward.
    public internal(set) var requiresGrad: Bool = false
    /// Gradient accumulated by `backward` (leaves only).
    public var grad: Tensor?
    /// The autograd node that produced this tensor (nil for leaves).
    public internal(set) var gradFn: Node?


    init(storage: Storage, shape: [Int], strides: [Int], offset: Int, dtype: DType) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
    }

    /// A fresh contiguous tensor with uninitialised contents (internal: sizes already checked).
    init(uninitialized shape: [Int], dtype: DType) {
        let n = shape.reduce(1, *)
        self.storage = Storage(byteCount: Swift.max(n, 1) * dtype.byteSize)
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.offset = 0
        self.dtype = dtype
    }

    /// Builds a tensor from a flat row-major array.
    /// ```swift
    /// let t = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
    /// ```
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        try Tensor.checkShape(shape, op: "tensor")
        let n = shape.reduce(1, *)
        guard n == values.count else {
            throw TensorError("tensor: \(values.count) values do not fill shape \(formatShape(shape)) (\(n) elements)")
        }
        self.init(uninitialized: shape, dtype: T.dtype)
        let p = storage.data.assumingMemoryBound(to: T.self)
        values.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { p.update(from: base, count: n) }
        }
    }

    /// A 0-dimensional tensor holding one value.
    /// ```swift
    /// let s = Tensor(scalar: Float(2.5))
    /// ```
    public convenience init<T: TensorElement>(scalar value: T) {
        self.init(uninitialized: [], dtype: T.dtype)
        storage.data.assumingMemoryBound(to: T.self).pointee = value
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= Swift.max(shape[i], 1)
        }
        return s
    }

    static func checkShape(_ shape: [Int], dtype: DType = .f32, op: String) throws {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw TensorError("\(op): negative size \(bad) in shape \(formatShape(shape))")
        }
        try checkFitsInMemory(shape, dtype: dtype, op: op)
    }

    /// This machine's physical memory in bytes: no single tensor can be larger.
    static let physicalMemory: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && pageSize > 0 ? pages * pageSize : Int.max
    }()

    /// Throws when a tensor of `shape` could not be allocated at all (its element count
    /// overflows, or it is larger than physical memory), so an impossible request is an error
    /// in the user's terms rather than an allocator failure, which would end the process.
    static func checkFitsInMemory(_ shape: [Int], dtype: DType, op: String) throws {
        // Sizes multiply in order elsewhere (numel), so even with a zero size the others' product
        // must not overflow.
        var elements = 1
        for size in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: Swift.max(size, 1))
            if overflow { throw TensorError("\(op): the sizes of shape \(formatShape(shape)) are too large") }
            elements = product
        }
        if shape.contains(0) { return }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        if overflow || bytes > physicalMemory {
            throw TensorError("\(op): a tensor of shape \(formatShape(shape)) would not fit in this machine's \(physicalMemory >> 30) GiB of memory")
        }
    }

    // MARK: Accessors

    /// Number of elements.
    public var numel: Int { shape.reduce(1, *) }
    /// Number of dimensions.
    public var dim: Int { shape.count }
    /// Whether elements are laid out row-major without gaps (size-1 dims ignored).
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }
    /// Whether this tensor is a leaf of the autograd graph (not produced by a recorded op).
    public var isLeaf: Bool { gradFn == nil }

    /// Typed pointer to this view's first element.
    @inline(__always) func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.data.assumingMemoryBound(to: T.self) + offset
    }

    /// Normalises a possibly negative dim, throwing a message in the user's base.
    /// Throws for a 0-D tensor, which ops that cut or index along a dim cannot take.
    func requireDims(_ op: String) throws {
        guard dim > 0 else { throw TensorError("\(op): needs a tensor with at least one dim (got a 0-D tensor)") }
    }

    func normalizeDim(_ d: Int, op: String, rank: Int? = nil) throws -> Int {
        let r = rank ?? dim
        let n = Swift.max(r, 1)
        let v = d < 0 ? d + n : d
        guard v >= 0 && v < n else {
            throw TensorError("\(op): dim \(dim: d) out of range for a \(r)-D tensor (valid \(index: 0)..\(index: n - 1) or -\(n)..-1)")
        }
        return v
    }

    /// The single value of a one-element tensor, as a Double (exact for f32, bool and i64 below 2^53).
    /// ```swift
    /// let loss = try x.sum().item()
    /// ```
    public func item() throws -> Double {
        guard numel == 1 else {
            throw TensorError("item: tensor has \(numel) elements of shape \(formatShape(shape)); item() needs exactly one")
        }
        switch dtype {
        case .f32: return Double(pointer(Float.self).pointee)
        case .i64: return Double(pointer(Int64.self).pointee)
        case .bool: return pointer(Bool.self).pointee ? 1 : 0
        }
    }

    /// The single value of a one-element tensor as an integer (f32 values are truncated).
    public func itemInt() throws -> Int64 {
        guard numel == 1 else {
            throw TensorError("item: tensor has \(numel) elements of shape \(formatShape(shape)); item() needs exactly one")
        }
        switch dtype {
        case .f32:
            let v = pointer(Float.self).pointee
            guard v.isFinite, Swift.abs(v) < 9.2e18 else { throw TensorError("item: \(v) is not representable as an integer") }
            return Int64(v)
        case .i64: return pointer(Int64.self).pointee
        case .bool: return pointer(Bool.self).pointee ? 1 : 0
        }
    }

    /// All elements in row-major order, converted to Float.
    public func toFloatArray() -> [Float] { flatArray(to(.f32, copyAlways: false)) as [Float] }
    /// All elements in row-major order, converted to Int64 (f32 truncated toward zero).
    public func toInt64Array() -> [Int64] { flatArray(to(.i64, copyAlways: false)) as [Int64] }
    /// All elements in row-major order, converted to Bool (nonzero is true).
    public func toBoolArray() -> [Bool] { flatArray(to(.bool, copyAlways: false)) as [Bool] }

    private func flatArray<T>(_ t: Tensor) -> [T] {
        let c = t.contiguous()
        let n = c.numel
        return [T](unsafeUninitializedCapacity: n) { buf, count in
            if n > 0 { buf.baseAddress!.initialize(from: c.pointer(T.self), count: n) }
            count = n
        }
    }
}
