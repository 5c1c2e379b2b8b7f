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

extension DType {
    /// Rank used for type promotion: bool < i64 < f32 (an op mixing dtypes computes in the higher one).
    var promotionRank: Int {
        switch self {
        case .bool: return 0
        case .i64: return 1
        case .f32: return 2
        }
    }

    /// The dtype two operands are promoted to: `promoted(.i64, .f32) == .f32`.
    public static func promoted(_ a: DType, _ b: DType) -> DType {
        a.promotionRank >= b.promotionRank ? a : b
    }

    /// PyTorch's spelling, used when printing (`dtype=int64`).
    public var name: String { rawValue }
}

/// Swift scalar types that can be stored in a tensor.
public protocol TensorElement {
    static var dtype: DType { get }
}

extension Float: TensorElement { public static var dtype: DType { .f32 } }
extension Int64: TensorElement { public static var dtype: DType { .i64 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }
