/// The base that countable things (dims, indices, positions in a list) are counted from: 0 in
/// Swift, 1 in Lua. It is a value passed to whoever needs it, never a process-wide setting:
/// index-taking ops take the base of their index tensors (`indexSelect(0, index: i, indexBase: 1)`),
/// a module's generic forward takes the caller's base (`forward(inputs, base: .one)`), and a
/// `TensorError` quotes dims and positions in whatever base renders it (`message` in Swift is
/// 0-based; the Lua bindings render `message(base: .one)`).
///
/// ```swift
/// let rows = try table.indexSelect(0, index: luaIds, indexBase: .one)   // ids counted from 1
/// let b: IndexBase = 1                                                  // literals work too
/// ```
public struct IndexBase: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The number the first element is called by (0 or 1).
    public let value: Int

    public init(_ value: Int) { self.value = value }
    public init(integerLiteral value: Int) { self.value = value }

    /// Swift's convention: the first element is 0.
    public static let zero = IndexBase(0)
    /// Lua's convention: the first element is 1.
    public static let one = IndexBase(1)

    /// How a 0-based position is called in this base.
    @inline(__always) public func shown(_ zeroBased: Int) -> Int { zeroBased + value }

    public var description: String { String(value) }
}

/// Integer codes (particle types, labels, row lists) moved between index bases: files and Swift
/// count from 0, Lua from 1. The Lua bindings call these at the boundary; nothing else moves
/// codes, and the metrics take the base of their class numbers (`classBase: IndexBase`) instead
/// of moving them.
///
/// ```swift
/// let luaTypes = try IndexBase.zero.rebase(batch.types, to: .one)    // 0...7 -> 1...8
/// ```
extension IndexBase {
    /// A new int64 tensor of `codes` (converted to int64) counted from `target` instead of from this base.
    public func rebase(_ codes: Tensor, to target: IndexBase) throws -> Tensor {
        let delta = Int64(target.value - value)
        return try codes.withElements(as: Int64.self) { src in
            try Tensor.make(codes.shape, Int64.self) { p, n in
                for i in 0..<n { p[i] = src[i] &+ delta }
            }
        }
    }

    /// As `rebase(_:to:)` where `mask` is true, `fill` elsewhere (the padding of padded codes).
    public func rebase(_ codes: Tensor, to target: IndexBase, where mask: Tensor, fill: Int64) throws -> Tensor {
        guard mask.shape == codes.shape else {
            throw TensorError("codes: mask \(formatShape(mask.shape)) does not match codes \(formatShape(codes.shape))")
        }
        let delta = Int64(target.value - value)
        return try mask.withElements(as: Bool.self) { m in
            try codes.withElements(as: Int64.self) { src in
                try Tensor.make(codes.shape, Int64.self) { p, n in
                    for i in 0..<n { p[i] = m[i] ? src[i] &+ delta : fill }
                }
            }
        }
    }
}
