import CONNX
import Foundation

/// The graph as an ONNX ModelProto, serialised by protobuf-c from the messages that Debian's
/// onnx.proto defines (Sources/CONNX): no hand-written encoding.
extension ONNXGraph {
    /// ONNX IR version 8 (ONNX 1.10 and later, what Debian's onnx.proto 1.12 writes) and the default
    /// operator set 17, the first with LayerNormalization.
    public static let irVersion: Int64 = 8
    public static let opset: Int64 = 17

    /// The serialised model.
    ///
    /// ```swift
    /// try AtomicFile.write("model.onnx", bytes: try graph.serialized(name: "mpm_classifier", producerVersion: "0.1.0"))
    /// ```
    public func serialized(name: String, producerVersion: String) throws -> [UInt8] {
        guard let model = mpm_onnx_model_new(Self.irVersion, Self.opset, "mpmlua", producerVersion, name) else {
            throw ExportError("out of memory building the ONNX model")
        }
        defer { mpm_onnx_model_free(model) }
        func check(_ status: Int32) throws {
            if status != 0 { throw ExportError("out of memory building the ONNX model") }
        }
        for (key, value) in metadata { try check(mpm_onnx_metadata(model, key, value)) }
        for v in inputs { try declare(model, v, output: false) }
        for v in outputs { try declare(model, v, output: true) }
        for i in initializers {
            let dims = i.dims.map(Int64.init)
            try check(i.bytes.withUnsafeBytes { raw in
                mpm_onnx_initializer(model, i.name, i.type.rawValue, dims, dims.count, raw.baseAddress, raw.count)
            })
        }
        for n in nodes {
            try check(mpm_onnx_node(model, n.op, n.name))
            for input in n.inputs { try check(mpm_onnx_node_input(model, input)) }
            for output in n.outputs { try check(mpm_onnx_node_output(model, output)) }
            for (key, value) in n.attributes {
                switch value {
                case .int(let v): try check(mpm_onnx_node_attr_int(model, key, v))
                case .float(let v): try check(mpm_onnx_node_attr_float(model, key, v))
                case .ints(let v): try check(mpm_onnx_node_attr_ints(model, key, v, v.count))
                }
            }
        }
        var bytes = [UInt8](repeating: 0, count: mpm_onnx_packed_size(model))
        let written = bytes.withUnsafeMutableBufferPointer { mpm_onnx_pack(model, $0.baseAddress!) }
        guard written == bytes.count else { throw ExportError("protobuf-c packed \(written) of \(bytes.count) bytes") }
        return bytes
    }

    private func declare(_ model: OpaquePointer, _ v: Value, output: Bool) throws {
        let names: [String?] = v.dims.map { if case .named(let n) = $0 { return n } else { return nil } }
        let sizes: [Int64] = v.dims.map { if case .fixed(let n) = $0 { return Int64(n) } else { return 0 } }
        let status = withCStrings(names) { params in
            mpm_onnx_value(model, output ? 1 : 0, v.name, v.type.rawValue, params, sizes, sizes.count)
        }
        if status != 0 { throw ExportError("out of memory building the ONNX model") }
    }
}

/// Runs `body` with C strings of `strings` (NULL for nil), valid only inside it.
private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
