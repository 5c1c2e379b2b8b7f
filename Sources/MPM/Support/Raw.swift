import Tensors

/// Kept only for `Sources/MPM/Tasks/*`, which still call `Raw.make(values, shape:)`; raw access
/// now lives in Tensors (`Tensor.make`, `withElements(as:)`, `elementPointer(as:)`, see
/// Tensor+RawAccess.swift). Delete this file once those callers use `Tensor(values, shape:)`.
enum Raw {
    /// A new tensor holding a copy of `values` (same as `Tensor(values, shape:)`).
    static func make<T: TensorElement>(_ values: [T], shape: [Int]) throws -> Tensor {
        try Tensor(values, shape: shape)
    }
}
