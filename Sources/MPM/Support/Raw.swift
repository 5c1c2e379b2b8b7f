import Tensors

/// Typed access to tensor memory for the kernels of this target. Tensors made here are fresh
/// and contiguous, so their storage is written in place; inputs are made contiguous (and
/// converted) first, and kept alive while a pointer into them is in use.
enum Raw {
    /// A new contiguous tensor of `shape`, its elements written by `fill(pointer, count)`.
    static func make<T: TensorElement>(_ shape: [Int], _ type: T.Type,
                                       _ fill: (UnsafeMutablePointer<T>, Int) throws -> Void) throws -> Tensor {
        let t = try Tensor.empty(shape, dtype: T.dtype)
        try fill(t.storage.data.assumingMemoryBound(to: T.self) + t.offset, shape.reduce(1, *))
        return t
    }

    /// A new tensor holding a copy of `values`.
    static func make<T: TensorElement>(_ values: [T], shape: [Int]) throws -> Tensor {
        try make(shape, T.self) { p, n in
            values.withUnsafeBufferPointer { b in if n > 0 { p.update(from: b.baseAddress!, count: n) } }
        }
    }

    /// Runs `body` on the elements of `t` in row-major order (converted to `T`'s dtype and made
    /// contiguous first when needed).
    static func read<T: TensorElement, R>(_ t: Tensor, as type: T.Type,
                                          _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        let c = t.detach().to(T.dtype).contiguous()
        let p = c.storage.data.assumingMemoryBound(to: T.self) + c.offset
        return try withExtendedLifetime(c) { try body(UnsafeBufferPointer(start: p, count: c.numel)) }
    }

    /// The elements of `t` as a Swift array of Int (for offsets and indices).
    static func ints(_ t: Tensor) -> [Int] { t.toInt64Array().map { Int($0) } }

    /// Typed pointer to a tensor this target created (contiguous, right dtype).
    static func pointer<T: TensorElement>(_ t: Tensor, _ type: T.Type) -> UnsafeMutablePointer<T> {
        t.storage.data.assumingMemoryBound(to: T.self) + t.offset
    }
}

/// Shapes as error messages print them: `[3,4]`.
func shapeLabel(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
