import Foundation
import JetData
import MPM
import NN
import Tensors
import XCTest

/// A backbone record from Swift alone: saved, loaded into a fresh backbone built from its
/// config, and run on real jets with the same result as the original, with no Lua state.
final class BackboneRecordTests: XCTestCase {
    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "mpm-backbone-record-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testSavedBackboneRunsLikeTheOriginal() throws {
        manualSeed(3)
        let model = try MPMModel(config: MPMConfig.preset("tiny")!)
        let path = try scratch() + "/backbone.h5"
        try model.backbone.saveRecord(to: path, extra: [(.string("task"), .string("cfm"))])

        manualSeed(4)  // a fresh backbone gets other weights until the record's are loaded
        let (loaded, record) = try MPMBackbone.load(record: path)
        XCTAssertEqual(loaded.config, model.backbone.config)
        XCTAssertEqual(record.version, RecordKind.backbone.version)
        guard case .string("cfm")? = record["task"] else { return XCTFail("extra field lost: \(String(describing: record["task"]))") }

        let jets = try TestData.batches(1, batchSize: 4)[0]
        model.backbone.eval()
        loaded.eval()
        let original = try model.backbone(jets.features, types: jets.types, offsets: jets.offsets)
        let reloaded = try loaded(jets.features, types: jets.types, offsets: jets.offsets)
        XCTAssertEqual(original.shape, [jets.features.shape[0], 32])
        XCTAssertEqual(original.toFloatArray(), reloaded.toFloatArray())
    }

    func testOtherRecordsAndNewerVersionsAreRefused() throws {
        let dir = try scratch()
        try Record.save(.tokenizer, fields: [(.string("config"), .table([]))], to: dir + "/tokenizer.h5")
        XCTAssertThrowsError(try MPMBackbone.load(record: dir + "/tokenizer.h5")) {
            XCTAssert("\($0)".contains("tokenizer.h5 is not a saved MPM backbone (it holds a saved VQ tokenizer)"), "\($0)")
        }
        try ValueFile.save(.table([(.string("format"), .string("mpm-backbone")), (.string("format_version"), .int(99))]),
                           to: dir + "/future.h5")
        XCTAssertThrowsError(try MPMBackbone.load(record: dir + "/future.h5")) {
            XCTAssert("\($0)".contains("version 99; this mpmlua reads versions 1...1"), "\($0)")
        }
        // A file written before versions were (the tag alone) reads as version 1.
        try ValueFile.save(.table([(.string("format"), .string("mpm-vq-tokenizer"))]), to: dir + "/old.h5")
        XCTAssertEqual(try Record.load(.tokenizer, from: dir + "/old.h5").version, 1)
    }
}
