/// The error every user-reachable check throws. The message names the op first and states the
/// problem in the user's terms (shapes, values), e.g. `add: shapes [3,4] and [5] cannot broadcast`.
///
/// ```swift
/// do { _ = try a.add(b) } catch let e as TensorError { print(e.message) }
/// ```
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Formats a shape the way error messages print it: `[3,4]`.
func shapeString(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ",") + "]"
}

/// Formats a 2-D shape as `256x7` (matmul messages), other ranks as `[a,b,c]`.
func matrixString(_ shape: [Int]) -> String {
    shape.count == 2 ? "\(shape[0])x\(shape[1])" : shapeString(shape)
}
