import Tensors

/// What one forward pass of `MPMModel` produces.
///
/// ```swift
/// let out = try model(jets)
/// out.decoded        // [Td, decoder_dim] at the dropped particles, in target order
/// out.encoded        // [Tk + B*R, D] encoder output, registers first in each set
/// ```
public final class MPMOutput {
    /// Decoder outputs at the dropped positions (nil when the forward skipped the decoder).
    public let decoded: Tensor?
    /// Encoder output with the registers in front of every set.
    public let encoded: Tensor
    /// [B + 1] offsets of `encoded`.
    public let encodedOffsets: Tensor
    /// The dropped particles to reconstruct.
    public let target: DroppedSet

    public init(decoded: Tensor?, encoded: Tensor, encodedOffsets: Tensor, target: DroppedSet) {
        self.decoded = decoded
        self.encoded = encoded
        self.encodedOffsets = encodedOffsets
        self.target = target
    }
}
