/// Element types of a tensor: `f32` for compute, `i64` for indices and labels, `bool` for masks.
///
/// ```swift
/// let mask = Tensor.zeros([3], dtype: .bool)
/// ```
public enum DType: String, Sendable, CaseIterable {
    case f32 = "float32"
    case i64 = "int64"
    case bool = "bool"

    /// Bytes per element in storage.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .i64: return 8
        case .bool: return 1
        }
    }
}
