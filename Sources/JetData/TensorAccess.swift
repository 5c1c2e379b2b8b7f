import Tensors

/// Filling new tensors and reading existing ones through typed pointers. Tensors created here
/// are fresh and contiguous, so their storage is written in place without an extra copy.
enum TensorAccess {
    /// A new contiguous tensor of `shape`, its elements written by `fill`.
    static func make<T: TensorElement>(_ shape: [Int], _ type: T.Type,
                                       _ fill: (UnsafeMutablePointer<T>, Int) throws -> Void) throws -> Tensor {
        let t = try Tensor.empty(shape, dtype: T.dtype)
        let n = shape.reduce(1, *)
        try fill(t.storage.data.assumingMemoryBound(to: T.self) + t.offset, n)
        return t
    }

    /// A new tensor holding a copy of `values`.
    static func make<T: TensorElement>(_ values: [T], shape: [Int]) throws -> Tensor {
        try make(shape, T.self) { p, n in
            values.withUnsafeBufferPointer { b in if n > 0 { p.update(from: b.baseAddress!, count: n) } }
        }
    }

    /// Runs `body` on the elements of `t` (converted to `T`'s dtype and made contiguous first
    /// when needed), in row-major order.
    static func read<T: TensorElement, R>(_ t: Tensor, as type: T.Type,
                                          _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        let c = t.to(T.dtype).contiguous()
        let p = c.storage.data.assumingMemoryBound(to: T.self) + c.offset
        return try withExtendedLifetime(c) { try body(UnsafeBufferPointer(start: p, count: c.numel)) }
    }

    /// A fresh contiguous copy of `t` converted to `T`'s dtype (never a view of `t`).
    static func copy<T: TensorElement>(_ t: Tensor, _ type: T.Type) throws -> Tensor {
        try read(t, as: T.self) { src in
            try make(t.shape, T.self) { p, n in if n > 0 { p.update(from: src.baseAddress!, count: n) } }
        }
    }

    /// Typed pointer to a tensor this module created (contiguous, right dtype).
    static func pointer<T: TensorElement>(_ t: Tensor, _ type: T.Type) -> UnsafeMutablePointer<T> {
        t.storage.data.assumingMemoryBound(to: T.self) + t.offset
    }
}

/// Shapes as error messages print them: `[3,4]`.
func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
