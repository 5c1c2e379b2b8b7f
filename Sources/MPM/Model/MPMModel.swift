import NN
import Tensors

/// The MPMv2 masked autoencoder on packed sets. The encoder (`backbone`) sees only the kept
/// particles of each jet, with learned registers prepended. The decoder projects the encoder
/// output (registers included) to the decoder width, appends one learned mask token per
/// dropped particle — token k for the k-th dropped particle in pt order, ranked among the
/// dropped ones of its jet only — and runs its own transformer stack over each jet's
/// [registers, kept, mask tokens]. The outputs at the mask tokens are what task heads read.
/// No row of padding is ever computed.
///
/// ```swift
/// let model = try MPMModel(config: MPMConfig.preset("small")!)
/// let out = try model(try MaskedJets(batch))
/// let loss = try idTask.loss(out.decoded!, target: out.target)
/// ```
public final class MPMModel: Module {
    public let config: MPMConfig
    public let backbone: MPMBackbone
    /// Linear(encoder_dim -> decoder_dim) on the encoder output.
    public let decoderInput: Linear
    /// [mask_tokens, decoder_dim], init N(0, 1) * 1e-3.
    public let maskTokens: Tensor
    public let decoder: TransformerEncoder

    public init(config: MPMConfig) throws {
        try config.validate()
        self.config = config
        backbone = try MPMBackbone(config: config)
        decoderInput = try Linear(config.encoderDim, config.decoderDim)
        maskTokens = Init.normal([config.maskTokens, config.decoderDim], std: 1e-3)
        decoder = try TransformerEncoder(dim: config.decoderDim, depth: config.decoderDepth, heads: config.decoderHeads,
                                         registers: 0, finalNorm: true, options: config.transformerOptions)
        super.init()
        registerChild("backbone", backbone)
        registerChild("decoder_input", decoderInput)
        registerParameter("mask_tokens", maskTokens)
        registerChild("decoder", decoder)
    }

    public override var extraDescription: String {
        "encoder \(config.encoderDim)x\(config.encoderDepth), decoder \(config.decoderDim)x\(config.decoderDepth), registers=\(config.registers)"
    }

    public override var signature: Signature {
        Signature(["features", "types", "offsets", "kept", "kept_offsets", "dropped", "dropped_offsets", "dropped_ranks"])
    }

    /// Encodes the kept particles and, with `decode`, decodes the dropped ones.
    public func callAsFunction(_ jets: MaskedJets, decode: Bool = true) throws -> MPMOutput {
        let keptFeatures = try jets.features.indexSelect(0, index: jets.kept)
        let keptTypes = try jets.types.indexSelect(0, index: jets.kept)
        let (encoded, encodedOffsets) = try backbone.encode(keptFeatures, types: keptTypes, offsets: jets.keptOffsets)
        let target = try jets.target()
        target.encodedOffsets = encodedOffsets
        guard decode else {
            return MPMOutput(decoded: nil, encoded: encoded, encodedOffsets: encodedOffsets, target: target)
        }
        let decoded = try self.decode(encoded, encodedOffsets: encodedOffsets, droppedOffsets: jets.droppedOffsets,
                                      droppedRanks: jets.droppedRanks)
        return MPMOutput(decoded: decoded, encoded: encoded, encodedOffsets: encodedOffsets, target: target)
    }

    /// The decoder: [Td, decoder_dim] outputs at the mask tokens, jet by jet in rank order.
    public func decode(_ encoded: Tensor, encodedOffsets: Tensor, droppedOffsets: Tensor, droppedRanks: Tensor) throws -> Tensor {
        let eo = encodedOffsets.toIntArray(), dof = droppedOffsets.toIntArray()
        guard eo.count == dof.count else {
            throw TensorError("MPM decoder: \(eo.count - 1) encoded sets but \(dof.count - 1) sets of dropped particles")
        }
        let ranks = droppedRanks.toIntArray()
        guard ranks.count == dof.last! else {
            throw TensorError("MPM decoder: \(ranks.count) ranks for \(dof.last!) dropped particles")
        }
        // Ranks past the last token share it (only jets with more than mask_tokens dropped).
        let last = config.maskTokens - 1
        let tokenIndex = try Tensor(ranks.map { Int64(Swift.min($0, last)) }, shape: [ranks.count])
        let z = try decoderInput(encoded)
        let tokens = try maskTokens.indexSelect(0, index: tokenIndex)
        let all = try Tensor.cat([z, tokens])
        // Each jet's decoder set: its encoder rows (registers and kept), then its mask tokens.
        let tokenBase = eo.last!
        var order: [Int64] = []
        order.reserveCapacity(tokenBase + ranks.count)
        var decoderOffsets: [Int64] = [0]
        var droppedPositions: [Int64] = []
        droppedPositions.reserveCapacity(ranks.count)
        for b in 0..<(eo.count - 1) {
            for r in eo[b]..<eo[b + 1] { order.append(Int64(r)) }
            for d in dof[b]..<dof[b + 1] {
                droppedPositions.append(Int64(order.count))
                order.append(Int64(tokenBase + d))
            }
            decoderOffsets.append(Int64(order.count))
        }
        let input = try all.indexSelect(0, index: try Tensor(order, shape: [order.count]))
        let out = try decoder(input, offsets: try Tensor(decoderOffsets, shape: [decoderOffsets.count]))
        return try out.indexSelect(0, index: try Tensor(droppedPositions, shape: [droppedPositions.count]))
    }

    /// Generic forward (from Lua): the eight split tensors in, [decoded, encoded, encoded
    /// offsets] out; not available (the model takes a batch or MaskedJets).
    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        throw TensorError("MPM: call the model with a batch, model(batch), from Lua, or with MaskedJets from Swift")
    }
}
