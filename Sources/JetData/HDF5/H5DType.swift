import CHDF5
import CHDF5Support

/// What an HDF5 dataset or attribute stores, as far as this project cares. Used to check files
/// and to word errors ("dataset 'csts' has dtype int64, expected a float type").
///
/// ```swift
/// let ds = try file.dataset("mask")
/// if ds.dtype == .bool { ... }        // h5py's bool: enum {FALSE = 0, TRUE = 1} over int8
/// ```
public enum H5DType: Equatable, CustomStringConvertible, Sendable {
    /// IEEE float of 16, 32 or 64 bits.
    case float(bits: Int)
    /// Two's complement (signed) or unsigned integer.
    case integer(bits: Int, signed: Bool)
    /// An enum with exactly the members FALSE = 0 and TRUE = 1: how h5py stores numpy bool.
    case bool
    /// Any other enum over an integer base type of `bits` bits.
    case enumeration(bits: Int)
    /// Fixed or variable length string.
    case string
    /// Anything else (compound, reference, array, opaque ...), by HDF5 class name.
    case other(String)

    public var description: String {
        switch self {
        case .float(let b): return "float\(b)"
        case .integer(let b, let s): return (s ? "int" : "uint") + "\(b)"
        case .bool: return "bool"
        case .enumeration(let b): return "enum over int\(b)"
        case .string: return "string"
        case .other(let name): return name
        }
    }

    /// Whether values are integers (plain, enum or bool): readable as Int64 and Bool.
    public var isIntegral: Bool {
        switch self {
        case .integer, .bool, .enumeration: return true
        default: return false
        }
    }

    /// Whether values are floats: readable as Float and Double.
    public var isFloat: Bool {
        if case .float = self { return true }
        return false
    }

    /// Classifies an HDF5 datatype identifier.
    static func classify(_ type: hid_t) -> H5DType {
        let size = Int(H5Tget_size(type))
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            return .float(bits: size * 8)
        case H5T_INTEGER:
            return .integer(bits: size * 8, signed: H5Tget_sign(type) == H5T_SGN_2)
        case H5T_ENUM:
            return isBoolEnum(type) ? .bool : .enumeration(bits: size * 8)
        case H5T_STRING:
            return .string
        case H5T_COMPOUND: return .other("compound")
        case H5T_REFERENCE: return .other("reference")
        case H5T_ARRAY: return .other("array")
        case H5T_VLEN: return .other("variable-length sequence")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_TIME: return .other("time")
        default: return .other("unknown type")
        }
    }

    /// h5py's bool: exactly two members, FALSE and TRUE.
    private static func isBoolEnum(_ type: hid_t) -> Bool {
        guard H5Tget_nmembers(type) == 2 else { return false }
        var names: [String] = []
        for i in 0..<2 {
            guard let p = H5Tget_member_name(type, UInt32(i)) else { return false }
            names.append(String(cString: p))
            H5free_memory(p)
        }
        return names.sorted() == ["FALSE", "TRUE"]
    }
}

/// The Swift element types datasets and attributes can be read into and written from.
public enum H5ElementKind: Sendable {
    case float32, float64, int64, int32, int8, uint8, bool
}

/// A Swift scalar type with an HDF5 counterpart: Float, Double, Int64, Int32, Int8, UInt8, Bool.
///
/// ```swift
/// let labels: [Int64] = try file.dataset("labels").read(Int64.self)
/// ```
public protocol H5Element {
    static var h5Kind: H5ElementKind { get }
}

extension Float: H5Element { public static var h5Kind: H5ElementKind { .float32 } }
extension Double: H5Element { public static var h5Kind: H5ElementKind { .float64 } }
extension Int64: H5Element { public static var h5Kind: H5ElementKind { .int64 } }
extension Int32: H5Element { public static var h5Kind: H5ElementKind { .int32 } }
extension Int8: H5Element { public static var h5Kind: H5ElementKind { .int8 } }
extension UInt8: H5Element { public static var h5Kind: H5ElementKind { .uint8 } }
extension Bool: H5Element { public static var h5Kind: H5ElementKind { .bool } }

extension H5ElementKind {
    /// Bytes per element in memory.
    var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .int8, .uint8, .bool: return 1
        }
    }

    var isFloat: Bool { self == .float32 || self == .float64 }

    /// How the element is named in messages.
    var name: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .int64: return "int64"
        case .int32: return "int32"
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .bool: return "bool"
        }
    }

    /// The native in-memory HDF5 type; bool uses h5py's enum over int8 (the caller closes it
    /// when `owned` is true).
    func memoryType() -> (id: hid_t, owned: Bool) {
        switch self {
        case .float32: return (mpm_h5t_native_float(), false)
        case .float64: return (mpm_h5t_native_double(), false)
        case .int64: return (mpm_h5t_native_int64(), false)
        case .int32: return (mpm_h5t_native_int32(), false)
        case .int8: return (mpm_h5t_native_int8(), false)
        case .uint8: return (mpm_h5t_native_uint8(), false)
        case .bool: return (makeBoolEnumType(), true)
        }
    }
}

/// h5py's representation of numpy bool: `enum {FALSE = 0, TRUE = 1}` over int8. Writing bools
/// with it makes the files read back as `dtype('bool')` in h5py.
func makeBoolEnumType() -> hid_t {
    let t = H5Tenum_create(mpm_h5t_native_int8())
    guard t >= 0 else { return t }
    var no: Int8 = 0, yes: Int8 = 1
    _ = H5Tenum_insert(t, "FALSE", &no)
    _ = H5Tenum_insert(t, "TRUE", &yes)
    return t
}
