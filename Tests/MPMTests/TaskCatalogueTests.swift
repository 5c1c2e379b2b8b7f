@testable import MPM
import NN
import Tensors
import XCTest

/// The catalogue is what the Lua classes and their docs read: every entry must make the task it
/// names, with the defaults it states and the input it says the task reads.
final class TaskCatalogueTests: XCTestCase {
    func testEveryEntryMakesItsTask() throws {
        XCTAssertEqual(TaskCatalogue.names, "id, reg, kmeans, vqvae, flow, cfm, ssfm")
        var tokenizerConfig = VQTokenizer.Config()
        tokenizerConfig.dim = 16; tokenizerConfig.depth = 1; tokenizerConfig.heads = 2; tokenizerConfig.codebookSize = 8
        let required: [String: TaskValue] = [
            "centroids": .tensor(try Tensor.randn([5, 7])),
            "tokenizer": .tokenizer(try VQTokenizer(config: tokenizerConfig)),
        ]
        for kind in TaskCatalogue.kinds {
            let values = required.filter { name, _ in kind.options.contains { $0.name == name } }
            let task = try kind.make(width: 32, values: values)
            XCTAssertEqual(task.taskName, kind.name)
            XCTAssertEqual(task.input, kind.input, kind.name)
            XCTAssertEqual(task.defaultWeight, kind.defaultWeight, kind.name)
            XCTAssertEqual(kind.widthOption, kind.input == .decoded ? "input_dim" : "encoder_dim")
        }
        XCTAssertEqual(TaskCatalogue.kind("id")?.defaultWeight, 0.3)
        XCTAssertEqual(TaskCatalogue.kind("ssfm")?.input, .encoded)
        XCTAssertEqual(TaskCatalogue.kind("vqvae")?.canSample, false)
    }

    func testOptionsChangeTheTaskAndDefaultsMatchTheInitialisers() throws {
        let cfm = try XCTUnwrap(TaskCatalogue.kind("cfm"))
        let made = try XCTUnwrap(try cfm.make(width: 16, values: ["context_dim": .integer(24), "time_dim": .integer(8)]) as? CFMTask)
        XCTAssertEqual(made.contextDim, 24)
        XCTAssertEqual(made.timeDim, 8)
        XCTAssertEqual(made.features, 7, "an option left out takes its default")
        let plain = try CFMTask(inputDim: 16)
        for (name, value) in cfm.values(of: CFMTask.Options()) {
            XCTAssertEqual(cfm.options.first { $0.name == name }?.defaultValue?.text, value.text, name)
        }
        XCTAssertEqual(plain.contextDim, 128)
        let flow = try XCTUnwrap(try TaskCatalogue.kind("flow")!.make(width: 8, values: ["bins": .integer(4), "tail_bound": .number(3)]) as? FlowTask)
        XCTAssertEqual(flow.couplings.modules.count, 6)
    }

    func testRequiredOptionsAreNamed() throws {
        XCTAssertThrowsError(try TaskCatalogue.kind("kmeans")!.make(width: 8, values: [:])) { error in
            XCTAssertTrue("\(error)".contains("option 'centroids' is required"), "\(error)")
        }
        XCTAssertThrowsError(try TaskCatalogue.kind("id")!.make(width: 8, values: ["classes": .number(2.5)])) { error in
            XCTAssertTrue("\(error)".contains("'classes' must be an integer"), "\(error)")
        }
    }

    func testPresetsHoldEverySize() throws {
        XCTAssertEqual(MPMPreset.all.map(\.name), ["paper", "small", "tiny"])
        let paper = try XCTUnwrap(MPMPreset.named("paper"))
        XCTAssertEqual(paper.model, MPMConfig())
        XCTAssertEqual(paper.kmeansK, 16384)
        XCTAssertEqual(paper.ssfm.dim, 256)
        XCTAssertEqual(paper.tokenizer, VQTokenizer.Config())
        let small = try XCTUnwrap(MPMPreset.named("small"))
        XCTAssertEqual(small.model.encoderDim, 128)
        XCTAssertEqual(small.kmeansK, 512)
        XCTAssertEqual([small.ssfm.dim, small.ssfm.depth, small.ssfm.heads], [64, 2, 2])
        XCTAssertEqual([small.tokenizer.dim, small.tokenizer.depth, small.tokenizer.heads], [64, 2, 4])
        XCTAssertEqual(MPMConfig.preset("tiny")?.encoderDim, 32)
        XCTAssertNil(MPMPreset.named("huge"))
    }
}
