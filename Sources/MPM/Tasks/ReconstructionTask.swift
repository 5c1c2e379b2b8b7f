import NN
import Tensors

/// Which model output a task reads.
public enum TaskInput: String {
    /// Decoder outputs at the dropped positions [Td, decoder_dim] (MPMv2 tasks).
    case decoded
    /// The encoder output with registers [Tk + B*R, D] (set-to-set flow matching).
    case encoded
}

/// Settings for generating the dropped particles.
public struct SampleOptions {
    /// ODE steps (flow matching).
    public var steps = 50
    public var method = ODESolver.Method.midpoint
    /// Draw from the predicted distribution (true) or take its mode (false; classification
    /// heads only).
    public var stochastic = true
    /// Where random numbers come from (nil: the default generator, which `manual_seed` sets).
    public var generator: Generator?
    /// Polled between ODE steps (Ctrl-C in the host).
    public var shouldStop: () -> Bool = { false }
    public init() {}
}

/// Generated dropped particles: continuous features [Td, F] in the preprocessed space, and/or
/// 0-based types [Td], as far as the task reconstructs them.
public struct Reconstruction {
    public var features: Tensor?
    public var types: Tensor?
    public init(features: Tensor? = nil, types: Tensor? = nil) {
        self.features = features
        self.types = types
    }
}

/// A reconstruction task: a head plus a loss on the dropped particles (DESIGN.md, Tasks). The
/// same protocol is what a Lua task implements (`task:loss(decoded, target)` and optionally
/// `task:sample(decoded, target)`); the built-in ones are Swift modules for speed.
///
/// ```swift
/// let id = try IDTask(inputDim: 128)
/// let loss = try id.loss(out.decoded!, target: out.target)       // scalar
/// let types = try id.sample(out.decoded!, target: out.target).types
/// ```
public protocol ReconstructionTask: Module {
    /// Short name used in logs ("id", "cfm").
    var taskName: String { get }
    /// Which model output `loss` and `sample` take.
    var input: TaskInput { get }
    /// The weight of this loss in the summed pre-training loss (MPMv2: 0.3 for ID, 1 otherwise).
    var defaultWeight: Double { get }
    /// Scalar loss over the dropped particles.
    func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor
    /// Generated dropped particles (no gradients recorded).
    func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction
}

extension ReconstructionTask {
    /// What the catalogue (TaskCatalogue.swift) says of this task.
    public var kind: TaskKind? { TaskCatalogue.kind(taskName) }
    public var input: TaskInput { kind?.input ?? .decoded }
    public var defaultWeight: Double { kind?.defaultWeight ?? 1 }

    /// Checks that `x` has one row per dropped particle and the head's width.
    func checkDecoded(_ x: Tensor, _ target: DroppedSet, width: Int) throws {
        guard x.dim == 2, x.shape[1] == width else {
            throw TensorError("\(taskName): decoded must be [Td, \(width)], got \(formatShape(x.shape))")
        }
        guard x.shape[0] == target.count else {
            throw TensorError("\(taskName): decoded has \(x.shape[0]) rows but the target has \(target.count) dropped particles")
        }
    }

    /// Mean over no rows is undefined; an empty batch gives an exact zero that still carries
    /// the head's graph (so backward works and changes nothing).
    func emptyLoss(_ x: Tensor) throws -> Tensor { try x.sum().mul(0) }
}

/// Zero-initialises a Linear (weights and bias), for heads that must start as the identity.
func zeroInit(_ layer: Linear, bias: Double = 0) throws {
    try withNoGrad {
        try layer.weight.fill_(0)
        try layer.bias?.fill_(bias)
    }
}
