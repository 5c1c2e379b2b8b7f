import Tensors

/// An elementwise activation as a module (for MLPs and Sequential): relu, silu, gelu, tanh,
/// sigmoid, softplus.
///
/// ```swift
/// let net = Sequential([try Linear(4, 16), Activation(.silu), try Linear(16, 1)])
/// ```
public final class Activation: Module {
    public enum Kind: String, CaseIterable {
        case relu, silu, gelu, tanh, sigmoid, softplus
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
        super.init()
    }

    /// The activation named `name` ("silu"), or an error listing the known names.
    public convenience init(named name: String) throws {
        guard let k = Kind(rawValue: name.lowercased()) else {
            throw TensorError("activation: unknown name '\(name)' (expected one of: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.init(k)
    }

    public override var typeName: String {
        switch kind {
        case .relu: return "ReLU"
        case .silu: return "SiLU"
        case .gelu: return "GELU"
        case .tanh: return "Tanh"
        case .sigmoid: return "Sigmoid"
        case .softplus: return "Softplus"
        }
    }
    public override var isRowWise: Bool { true }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: return x.relu()
        case .silu: return x.silu()
        case .gelu: return x.gelu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .softplus: return x.softplus()
        }
    }

    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] { [self(try arguments(inputs)[0]!)] }
}
