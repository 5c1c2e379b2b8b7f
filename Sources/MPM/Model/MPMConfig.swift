import NN
import Tensors

/// The shape of an MPM backbone: the encoder (on the kept particles, with registers) and the
/// decoder (pt-rank mask tokens for the dropped slots). The defaults are MPMv2's Table 2 (the
/// `paper` preset); MPMPreset holds the named sizes.
///
/// ```swift
/// var c = MPMConfig.preset("small")!
/// c.encoderDepth = 6
/// let model = try MPMModel(config: c)
/// ```
public struct MPMConfig: Equatable {
    /// Continuous features per particle (pt, deta, dphi, d0, d0err, dz, dzerr).
    public var inputFeatures = 7
    /// Particle types (photon ... antimuon).
    public var particleTypes = 8
    public var encoderDim = 512
    public var encoderDepth = 8
    public var encoderHeads = 8
    /// Learned registers prepended to every set in the encoder and carried into the decoder.
    public var registers = 8
    public var decoderDim = 128
    public var decoderDepth = 4
    public var decoderHeads = 4
    /// Mask tokens, one per pt rank among the dropped particles of a jet.
    public var maskTokens = 128
    /// SwiGLU hidden width = ffMult * dim (encoder and decoder).
    public var ffMult = 2.0
    /// LayerScale init on both residual branches.
    public var layerscaleInit = 1e-3

    public init() {}

    /// The names `preset` accepts.
    public static var presetNames: [String] { MPMPreset.all.map(\.name) }

    /// The model of a named preset (MPMPreset.swift), or nil.
    public static func preset(_ name: String) -> MPMConfig? { MPMPreset.named(name)?.model }

    /// Checks that the sizes fit together, naming the option the way Lua spells it.
    public func validate() throws {
        func positive(_ v: Int, _ name: String) throws {
            guard v >= 1 else { throw TensorError("MPM: \(name) must be at least 1, got \(v)") }
        }
        try positive(inputFeatures, "input_features"); try positive(particleTypes, "particle_types")
        try positive(encoderDim, "encoder_dim"); try positive(encoderDepth, "encoder_depth"); try positive(encoderHeads, "encoder_heads")
        try positive(decoderDim, "decoder_dim"); try positive(decoderDepth, "decoder_depth"); try positive(decoderHeads, "decoder_heads")
        try positive(maskTokens, "mask_tokens")
        guard registers >= 0 else { throw TensorError("MPM: registers must be at least 0, got \(registers)") }
        guard encoderDim % encoderHeads == 0 else {
            throw TensorError("MPM: encoder_dim (\(encoderDim)) must be divisible by encoder_heads (\(encoderHeads))")
        }
        guard decoderDim % decoderHeads == 0 else {
            throw TensorError("MPM: decoder_dim (\(decoderDim)) must be divisible by decoder_heads (\(decoderHeads))")
        }
        guard ffMult > 0 else { throw TensorError("MPM: ff_mult must be positive, got \(ffMult)") }
    }

    /// Transformer settings of the encoder and decoder blocks (pre-norm, SwiGLU, LayerScale).
    var transformerOptions: TransformerOptions {
        var o = TransformerOptions()
        o.ffMult = ffMult
        o.layerscaleInit = layerscaleInit
        return o
    }
}
