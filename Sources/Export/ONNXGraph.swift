import Tensors

/// Why an export was refused, in one line for the user; printed as "onnx export: MESSAGE"
/// (mpm.onnx.export puts its own name in front of the message instead).
///
/// ```swift
/// do { try ONNXExport.write(.backbone(bb), to: "bb.onnx") } catch let e as ExportError { print(e) }
/// ```
public struct ExportError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "onnx export: " + message }
}

/// An ONNX graph being built in Swift: nodes in execution order, the weights and constants as
/// initializers, the graph's inputs and outputs and the model's metadata. `ONNXGraph+Layers`
/// adds the network's layers to it; `serialized()` hands it to protobuf-c.
///
/// ```swift
/// let g = ONNXGraph()
/// g.input("x", .float, [.named("batch"), .fixed(7)])
/// let y = try g.linear("x", layer, path: "embed")
/// g.output(y, as: "y", .float, [.named("batch"), .fixed(128)])
/// let bytes = try g.serialized()
/// ```
public final class ONNXGraph {
    /// The element types the graphs use (ONNX TensorProto codes).
    public enum DataType: Int32 {
        case float = 1, int64 = 7, bool = 9
    }

    /// A dimension of a graph input or output: a number, or a named dynamic axis.
    public enum Dim: Equatable {
        case fixed(Int)
        case named(String)
    }

    enum Attribute {
        case int(Int64)
        case float(Float)
        case ints([Int64])
    }

    struct Node {
        let op: String
        let name: String
        let inputs: [String]
        let outputs: [String]
        let attributes: [(String, Attribute)]
    }

    struct Initializer {
        let name: String
        let type: DataType
        let dims: [Int]
        let bytes: [UInt8]
    }

    struct Value {
        let name: String
        let type: DataType
        let dims: [Dim]
    }

    private(set) var nodes: [Node] = []
    private(set) var initializers: [Initializer] = []
    private(set) var inputs: [Value] = []
    private(set) var outputs: [Value] = []
    /// Key-value pairs stored in the model (class names, input conventions).
    public var metadata: [(String, String)] = []
    private var used: Set<String> = []

    public init() {}

    /// A value name not used before, from `base` ("encoder.layers.1.attn", "encoder.layers.1.attn_1", ...).
    func fresh(_ base: String) -> String {
        var name = base, k = 0
        while used.contains(name) { k += 1; name = "\(base)_\(k)" }
        used.insert(name)
        return name
    }

    /// Appends a node of `op` and returns its outputs' names (fresh names from `name`).
    @discardableResult
    func node(_ op: String, _ inputs: [String], name: String, outputs: Int = 1,
              attributes: [(String, Attribute)] = []) -> [String] {
        let nodeName = fresh(name + "/" + op)
        let outs = (0..<outputs).map { fresh(name + "/" + op + (outputs > 1 ? ":\($0)" : "")) }
        nodes.append(Node(op: op, name: nodeName, inputs: inputs, outputs: outs, attributes: attributes))
        return outs
    }

    /// A one-output node.
    func op(_ op: String, _ inputs: [String], name: String, _ attributes: [(String, Attribute)] = []) -> String {
        node(op, inputs, name: name, attributes: attributes)[0]
    }

    /// A float initializer named `name` holding `tensor`, transposed first for a 2-D weight used
    /// as MatMul's right operand. Refuses NaN or infinite values, naming the weight.
    func weight(_ name: String, _ tensor: Tensor, transposed: Bool = false) throws -> String {
        let t = transposed ? try tensor.detach().transpose(0, 1) : tensor.detach()
        let values = t.withElements(as: Float.self) { Array($0) }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw ExportError("the model has a non-finite weight (\(values[bad].isNaN ? "NaN" : "\(values[bad])")) in \(name); nothing was written")
        }
        let stored = fresh(name)
        initializers.append(Initializer(name: stored, type: .float, dims: t.shape, bytes: Self.bytes(values)))
        return stored
    }

    /// A float constant of `shape` (a scalar when empty).
    func constant(_ values: [Float], shape: [Int], name: String) -> String {
        let stored = fresh(name)
        initializers.append(Initializer(name: stored, type: .float, dims: shape, bytes: Self.bytes(values)))
        return stored
    }

    /// A 1-D int64 constant (shapes, axes, split sizes).
    func constant(_ values: [Int], name: String) -> String {
        let stored = fresh(name)
        initializers.append(Initializer(name: stored, type: .int64, dims: [values.count], bytes: Self.bytes(values.map(Int64.init))))
        return stored
    }

    /// Declares a graph input.
    public func input(_ name: String, _ type: DataType, _ dims: [Dim]) {
        used.insert(name)
        inputs.append(Value(name: name, type: type, dims: dims))
    }

    /// Declares `value` a graph output called `name` (an Identity node gives it that name).
    public func output(_ value: String, as name: String, _ type: DataType, _ dims: [Dim]) {
        used.insert(name)
        nodes.append(Node(op: "Identity", name: fresh(name + "/Identity"), inputs: [value], outputs: [name], attributes: []))
        outputs.append(Value(name: name, type: type, dims: dims))
    }

    /// Little-endian raw bytes of an array of numbers, as ONNX's raw_data holds them.
    static func bytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }
}
