import NN
import Tensors

/// A named size of everything a pre-training run builds: the model, the VQ tokenizer, the
/// K-means codebook and the SSFM decoder. This table is the one place those sizes are written;
/// `mpm.MPM{preset=}`, `mpm.pretrain.run`, `VQTokenizer.fit` and the examples read it
/// (from Lua as `mpm.tasks.preset(name)`).
///
/// ```swift
/// let small = MPMPreset.named("small")!
/// let model = try MPMModel(config: small.model)
/// let ssfm = try SSFMTask(encoderDim: small.model.encoderDim, options: small.ssfm)
/// ```
public struct MPMPreset {
    public let name: String
    public let summary: String
    public var model = MPMConfig()
    public var tokenizer = VQTokenizer.Config()
    /// Centroids of the K-means task.
    public var kmeansK = 16384
    public var ssfm = SSFMTask.Options()

    /// paper: MPMv2 as published; small: trains usefully on two CPU cores in minutes (0.77M
    /// parameters); tiny: for tests.
    public static let all: [MPMPreset] = [
        MPMPreset(name: "paper", summary: "MPMv2 (D=512, 8 layers, 8 heads, 8 registers; decoder 128 x 4 layers x 4 heads)"),
        MPMPreset(name: "small", summary: "2 CPU cores, minutes (D=128, 4 layers, 4 heads, 4 registers; decoder 64 x 2 x 2)") {
            $0.model.encoderDim = 128; $0.model.encoderDepth = 4; $0.model.encoderHeads = 4; $0.model.registers = 4
            $0.model.decoderDim = 64; $0.model.decoderDepth = 2; $0.model.decoderHeads = 2
            $0.shrinkTasks()
        },
        MPMPreset(name: "tiny", summary: "tests (D=32, 2 layers; decoder 16 x 1)") {
            $0.model.encoderDim = 32; $0.model.encoderDepth = 2; $0.model.encoderHeads = 2; $0.model.registers = 2
            $0.model.decoderDim = 16; $0.model.decoderDepth = 1; $0.model.decoderHeads = 2
            $0.shrinkTasks()
        },
    ]

    /// The preset named `name`, or nil.
    public static func named(_ name: String) -> MPMPreset? { all.first { $0.name == name } }

    init(name: String, summary: String, _ change: (inout MPMPreset) -> Void = { _ in }) {
        self.name = name
        self.summary = summary
        change(&self)
    }

    /// The task sizes of the presets below the paper's.
    mutating func shrinkTasks() {
        tokenizer.dim = 64; tokenizer.depth = 2; tokenizer.heads = 4
        kmeansK = 512
        ssfm.dim = 64; ssfm.depth = 2; ssfm.heads = 2
    }
}
