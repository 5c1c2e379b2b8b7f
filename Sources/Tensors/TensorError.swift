/// The error every user-reachable check throws. The message names the op first and states the
/// problem in the user's terms (shapes, values), e.g. `add: shapes [3,4] and [5] cannot broadcast`.
///
/// Dims and positions the message quotes are kept as structured values (`\(dim: d)`,
/// `\(index: i)`, `\(dims: ds)` in the message literal), so the same error reads 0-based in Swift
/// (`message`, `description`) and 1-based in Lua (`message(base: .one)`, used by the bindings).
///
/// ```swift
/// do { _ = try x.narrow(5, start: 0, length: 1) } catch let e as TensorError {
///     print(e.message)                 // "...: dim 5 out of range for a 2-D tensor (valid 0..1 or -2..-1)"
///     print(e.message(base: .one))     // "...: dim 6 out of range for a 2-D tensor (valid 1..2 or -2..-1)"
/// }
/// ```
public struct TensorError: Error, CustomStringConvertible, Equatable {
    /// One piece of a message: plain text, or a 0-based number shown in the reader's base.
    public enum Segment: Equatable, Sendable {
        case text(String)
        /// A dim; a negative dim (counted from the end) is quoted as given.
        case dim(Int)
        /// A position (index, element, list entry).
        case index(Int)
        /// A list of dims, printed like a Swift array: `[0, 2]`.
        case dims([Int])
    }

    /// The message as structured pieces.
    public let segments: [Segment]

    /// An error with a structured message: `TensorError("cat: tensor \(index: i) differs in dim \(dim: d)")`.
    public init(_ message: Message) { segments = message.segments }
    /// An error with a plain text message (no dims or positions to convert).
    public init(_ message: String) { segments = [.text(message)] }
    /// An error from already structured pieces.
    public init(segments: [Segment]) { self.segments = segments }

    /// The message with dims and positions counted from `base`.
    public func message(base: IndexBase) -> String {
        var out = ""
        for s in segments {
            switch s {
            case .text(let t): out += t
            case .dim(let d): out += String(d < 0 ? d : base.shown(d))
            case .index(let i): out += String(base.shown(i))
            case .dims(let ds): out += String(describing: ds.map { base.shown($0) })
            }
        }
        return out
    }

    /// The message as Swift reads it (0-based).
    public var message: String { message(base: .zero) }
    public var description: String { message }

    /// The same error with `text` put in front (a caller naming itself: `"Embedding(10, 4): "`).
    public func prefixed(_ text: String) -> TensorError { TensorError(segments: [.text(text)] + segments) }

    /// A message literal whose interpolations may quote dims and positions as structured values.
    public struct Message: ExpressibleByStringInterpolation, Equatable, Sendable {
        public var segments: [Segment]

        public init(stringLiteral value: String) { segments = [.text(value)] }
        public init(stringInterpolation: Interpolation) { segments = stringInterpolation.segments }

        public struct Interpolation: StringInterpolationProtocol {
            var segments: [Segment] = []

            public init(literalCapacity: Int, interpolationCount: Int) {}

            mutating func text(_ t: String) {
                if case .text(let last)? = segments.last { segments[segments.count - 1] = .text(last + t) } else { segments.append(.text(t)) }
            }

            public mutating func appendLiteral(_ literal: String) { text(literal) }
            /// Any value, as plain string interpolation prints it.
            public mutating func appendInterpolation<T>(_ value: T) { text(String(describing: value)) }
            /// A 0-based dim, shown in the reader's base (negative dims as given).
            public mutating func appendInterpolation(dim: Int) { segments.append(.dim(dim)) }
            /// A 0-based position, shown in the reader's base.
            public mutating func appendInterpolation(index: Int) { segments.append(.index(index)) }
            /// 0-based dims, shown in the reader's base as `[a, b]`.
            public mutating func appendInterpolation(dims: [Int]) { segments.append(.dims(dims)) }
            /// Another structured message, spliced in.
            public mutating func appendInterpolation(_ message: Message) {
                for s in message.segments { if case .text(let t) = s { text(t) } else { segments.append(s) } }
            }
        }
    }
}

/// How `formatShape` prints a shape.
public enum ShapeStyle: Sendable {
    /// `[3,4]`, `[]`: the style of every error message and printout.
    case list
    /// `(100,128,7)`, `(5,)`: as h5py prints dataset shapes.
    case tuple
    /// `256x7` for a 2-D shape (matmul messages), `[a,b,c]` for other ranks.
    case matrix
}

/// Formats a shape for messages; the one shape formatter of the project.
///
/// ```swift
/// formatShape([3, 4])            // "[3,4]"
/// formatShape([5], .tuple)       // "(5,)"
/// formatShape([256, 7], .matrix) // "256x7"
/// ```
public func formatShape(_ shape: [Int], _ style: ShapeStyle = .list) -> String {
    let joined = shape.map(String.init).joined(separator: ",")
    switch style {
    case .list: return "[" + joined + "]"
    case .tuple: return shape.count == 1 ? "(\(shape[0]),)" : "(" + joined + ")"
    case .matrix: return shape.count == 2 ? "\(shape[0])x\(shape[1])" : "[" + joined + "]"
    }
}

/// Formats a count with thousands separators: 1234567 -> "1,234,567".
///
/// ```swift
/// formatCount(1234567)   // "1,234,567"
/// ```
public func formatCount(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return out
}
