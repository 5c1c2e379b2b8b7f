import Foundation
import Testing
@testable import JetData

/// Paths and scratch folders shared by the JetData tests.
enum TestFiles {
    /// The repository root (two levels above this file's folder).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A bundled data file, e.g. `bundled("jetclass_val.h5")`.
    static func bundled(_ name: String) -> String { root.appendingPathComponent("data/\(name)").path }

    /// A fresh empty folder under the system temp folder; removed by the caller with `cleanup`.
    static func scratch() -> String {
        let path = NSTemporaryDirectory() + "jetdata-tests-\(getpid())-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func cleanup(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// Runs `body` expecting a DataError whose message contains every fragment.
    static func expectError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
        } catch let e as DataError {
            for f in fragments {
                #expect(e.message.contains(f), "message '\(e.message)' lacks '\(f)'", sourceLocation: sourceLocation)
            }
            #expect(e.message.hasPrefix("data: "), sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a DataError, got \(error)", sourceLocation: sourceLocation)
        }
    }
}
