import NN
import Tensors

/// The VQ-VAE particle tokenizer of MPMv1, kept as MPMv2's "VQ-VAE" task target: a
/// transformer encoder (Linear(7 -> D), `depth` layers, D = 128) maps each particle of a whole
/// jet to a latent (Linear(D -> 32)); the latent is quantised to the codebook entry of highest
/// cosine similarity (codebook 512 x 32, both sides L2-normalised); a transformer decoder
/// reconstructs the 7 features. Trained separately (examples/train_vqvae.lua) with
/// MSE(reconstruction) + codebook loss + 0.25 * commitment loss and the straight-through
/// gradient. The codebook starts from k-means of the first latents (`initialiseCodebook`),
/// and codes whose running usage falls below a threshold are moved onto random latents of the
/// current batch (`resetDeadCodes`), the usual cure for codebook collapse.
///
/// ```swift
/// let vq = try VQTokenizer()
/// try vq.initialiseCodebook(features, offsets: offsets, seed: 1)
/// let parts = try vq.losses(features, offsets: offsets)      // parts.total.backward()
/// let codes = try vq.codes(features, offsets: offsets)       // [T] int64, 0-based
/// ```
public final class VQTokenizer: Module {
    public struct Config: Equatable {
        public var features = 7
        public var dim = 128
        public var depth = 3
        public var heads = 4
        public var codebookSize = 512
        public var codeDim = 32
        /// Weight of the commitment loss.
        public var beta = 0.25
        /// Running-usage decay of every code (per training step).
        public var usageDecay = 0.99
        public init() {}
    }

    /// The parts of the training loss.
    public struct Losses {
        public let total: Tensor
        public let reconstruction: Tensor
        public let codebook: Tensor
        public let commitment: Tensor
        /// [T] 0-based codes of the particles.
        public let codes: Tensor
    }

    public let config: Config
    public let inputLayer: Linear
    public let encoder: TransformerEncoder
    public let toLatent: Linear
    /// [codebook_size, code_dim].
    public let codebook: Tensor
    /// [codebook_size] running fraction of particles assigned to each code.
    public let usage: Tensor
    public let fromLatent: Linear
    public let decoder: TransformerEncoder
    public let outputLayer: Linear

    public init(config: Config = Config()) throws {
        guard config.codebookSize >= 2, config.codeDim >= 1 else {
            throw TensorError("VQ-VAE: codebook_size must be at least 2 and code_dim at least 1")
        }
        self.config = config
        var o = TransformerOptions()
        o.ffMult = 2
        inputLayer = try Linear(config.features, config.dim)
        encoder = try TransformerEncoder(dim: config.dim, depth: config.depth, heads: config.heads, options: o)
        toLatent = try Linear(config.dim, config.codeDim)
        codebook = Init.normal([config.codebookSize, config.codeDim])
        usage = try Tensor.full([config.codebookSize], value: 1 / Double(config.codebookSize))
        fromLatent = try Linear(config.codeDim, config.dim)
        decoder = try TransformerEncoder(dim: config.dim, depth: config.depth, heads: config.heads, options: o)
        outputLayer = try Linear(config.dim, config.features)
        super.init()
        registerChild("input_layer", inputLayer)
        registerChild("encoder", encoder)
        registerChild("to_latent", toLatent)
        registerParameter("codebook", codebook)
        registerBuffer("usage", usage)
        registerChild("from_latent", fromLatent)
        registerChild("decoder", decoder)
        registerChild("output_layer", outputLayer)
    }

    public override var extraDescription: String {
        "dim=\(config.dim), depth=\(config.depth), codebook=\(config.codebookSize)x\(config.codeDim)"
    }

    /// Rows scaled to unit L2 norm.
    static func normalise(_ x: Tensor) throws -> Tensor {
        try x.div(try x.square().sum(dims: [1], keepDim: true).add(1e-12).sqrt())
    }

    /// Unit-norm latents [T, code_dim] of the particles of whole jets.
    public func latents(_ features: Tensor, offsets: Tensor) throws -> Tensor {
        guard features.dim == 2, features.shape[1] == config.features else {
            throw TensorError("VQ-VAE: features must be [T, \(config.features)], got \(formatShape(features.shape))")
        }
        let h = try encoder(try inputLayer(features), offsets: offsets)
        return try VQTokenizer.normalise(try toLatent(h))
    }

    /// Code of each unit latent: the codebook row of highest cosine similarity.
    func nearestCodes(_ z: Tensor) throws -> Tensor {
        try withNoGrad { try z.matmul(try VQTokenizer.normalise(codebook).t()).argmax(dim: 1) }
    }

    /// The codes [T] (0-based) of every particle of the jets.
    public func codes(_ features: Tensor, offsets: Tensor) throws -> Tensor {
        try withNoGrad { try nearestCodes(try latents(features, offsets: offsets)) }
    }

    /// The training loss on a batch of whole jets; updates the running code usage.
    public func losses(_ features: Tensor, offsets: Tensor) throws -> Losses {
        let z = try latents(features, offsets: offsets)
        let codes = try nearestCodes(z)
        let q = try VQTokenizer.normalise(codebook).indexSelect(0, index: codes)
        // Straight-through: the decoder sees q, the encoder gets the decoder's gradient.
        let st = try z.add(try q.sub(z).detach())
        let reconstruction = try outputLayer(try decoder(try fromLatent(st), offsets: offsets))
        let rec = try Functional.mseLoss(reconstruction, features)
        let book = try Functional.mseLoss(q, z.detach())
        let commit = try Functional.mseLoss(z, q.detach())
        let total = try rec.add(book).add(commit.mul(config.beta))
        if training { try updateUsage(codes) }
        return Losses(total: total, reconstruction: rec, codebook: book, commitment: commit, codes: codes)
    }

    func updateUsage(_ codes: Tensor) throws {
        let n = codes.numel
        guard n > 0 else { return }
        var counts = [Float](repeating: 0, count: config.codebookSize)
        for c in codes.toInt64Array() { counts[Int(c)] += 1 / Float(n) }
        try withNoGrad {
            _ = try usage.mul_(config.usageDecay)
            _ = try usage.add_(try Tensor(counts, shape: [counts.count]).mul(1 - config.usageDecay))
        }
    }

    /// Sets the codebook to k-means centroids of the unit latents of these jets (needs at least
    /// codebook_size particles). Returns the number of particles used.
    @discardableResult
    public func initialiseCodebook(_ features: Tensor, offsets: Tensor, seed: UInt64 = 0, iterations: Int = 10) throws -> Int {
        let z = try withNoGrad { try latents(features, offsets: offsets) }
        guard z.shape[0] >= config.codebookSize else {
            throw TensorError("VQ-VAE: initialising \(config.codebookSize) codes needs at least as many particles, the batch has \(z.shape[0])")
        }
        let fit = try KMeans.fit(z, k: config.codebookSize, iterations: iterations, seed: seed)
        try withNoGrad {
            _ = try codebook.copy_(try VQTokenizer.normalise(fit.centroids))
            _ = try usage.fill_(1 / Double(config.codebookSize))
        }
        return z.shape[0]
    }

    /// Moves every code whose running usage is below `threshold` times the uniform usage onto a
    /// random unit latent of these jets. Returns how many codes were reset.
    @discardableResult
    public func resetDeadCodes(_ features: Tensor, offsets: Tensor, threshold: Double = 0.03,
                               generator: Generator? = nil) throws -> Int {
        let uniform = 1 / Double(config.codebookSize)
        let dead = usage.toFloatArray().enumerated().filter { Double($0.element) < threshold * uniform }.map { $0.offset }
        guard !dead.isEmpty else { return 0 }
        let z = try withNoGrad { try latents(features, offsets: offsets) }
        guard z.shape[0] > 0 else { return 0 }
        let pick = try Tensor.randint(0, Int64(z.shape[0]), [dead.count], generator: generator)
        let rows = try z.indexSelect(0, index: pick)
        try withNoGrad {
            let index = try Tensor(dead.map(Int64.init), shape: [dead.count])
            let replaced = try codebook.detach().indexAdd(0, index: index,
                                                          source: try rows.sub(try codebook.detach().indexSelect(0, index: index)))
            _ = try codebook.copy_(replaced)
            let refreshed = try usage.indexAdd(0, index: index, source: try Tensor.full([dead.count], value: uniform)
                .sub(try usage.indexSelect(0, index: index)))
            _ = try usage.copy_(refreshed)
        }
        return dead.count
    }
}
