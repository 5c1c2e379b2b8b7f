/// The error every user-reachable check in JetData throws. Messages start with `data:` and name
/// the file and the problem in the user's terms, e.g.
/// `data: /path/x.h5 has no dataset 'csts_id'`.
///
/// ```swift
/// do { _ = try JetDataset.open("missing.h5") } catch let e as DataError { print(e.message) }
/// ```
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) {
        self.message = message.hasPrefix("data:") ? message : "data: " + message
    }
    public var description: String { message }
}
