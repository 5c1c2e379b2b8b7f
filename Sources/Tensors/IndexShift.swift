
/// Moves integer codes between the files' 0-based convention and Lua's 1-based one. The Lua
/// bindings call these at the boundary (particle types, labels, index lists); nothing else shifts codes.
///
/// ```swift
/// let luaTypes = try IndexShift.shifted(batch.types, by: 1)    // 0...7 -> 1...8
/// ```
public enum IndexShift {
    /// A new int64 tensor with `delta` added to every element of `t` (converted to int64).
    public static func shifted(_ t: Tensor, by delta: Int64) throws -> Tensor {
        try t.withElements(as: Int64.self) { src in
            try Tensor.make(t.shape, Int64.self) { p, n in
                for i in 0..<n { p[i] = src[i] &+ delta }
            }
        }
    }

    /// A new int64 tensor: `t + delta` where `mask` is true, `fill` elsewhere (padded codes).
    public static func shifted(_ t: Tensor, by delta: Int64, where mask: Tensor, fill: Int64) throws -> Tensor {
        guard mask.shape == t.shape else {
            throw TensorError("codes: mask \(formatShape(mask.shape)) does not match codes \(formatShape(t.shape))")
        }
        return try mask.withElements(as: Bool.self) { m in
            try t.withElements(as: Int64.self) { src in
                try Tensor.make(t.shape, Int64.self) { p, n in
                    for i in 0..<n { p[i] = m[i] ? src[i] &+ delta : fill }
                }
            }
        }
    }
}
