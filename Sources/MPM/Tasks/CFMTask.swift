import NN
import Tensors

/// Conditional flow matching (MPMv2): a velocity network generates each dropped particle's 7
/// features conditioned on its decoder output. Training draws t = sigmoid(N(0, 1))
/// (logit-normal), noise eps ~ N(0, 1), forms x_t = (1 - t) x + t eps and regresses the
/// network's output on the paper's velocity x - eps with an MSE. The network is an MLP on
/// [x_t, context, cosine embedding of t (16 dims)], context = Linear(decoder_dim -> 128), with
/// `depth` hidden layers of `hidden` units and SiLU. Sampling starts from Gaussian noise at
/// t = 1 and integrates dx/dt = -v from t = 1 to t = 0 (midpoint, 50 steps by default);
/// MPMv2 samples with an EMA copy of the weights, which the trainer keeps.
///
/// ```swift
/// let cfm = try CFMTask(inputDim: 128)
/// let loss = try cfm.loss(decoded, target: target)
/// let x = try cfm.sample(decoded, target: target, options: SampleOptions()).features
/// ```
public final class CFMTask: Module, ReconstructionTask {
    public let inputDim: Int
    public let features: Int
    public let contextDim: Int
    public let timeDim: Int
    public let context: Linear
    public let timeEncoding: CosineEncoding
    public let velocity: MLP

    public init(inputDim: Int, options: Options = Options()) throws {
        self.inputDim = inputDim
        features = options.features
        contextDim = options.contextDim
        timeDim = options.timeDim
        context = try Linear(inputDim, contextDim)
        timeEncoding = try CosineEncoding(dim: timeDim)
        velocity = try MLP(inFeatures: features + contextDim + timeDim, outFeatures: features, hidden: options.hidden,
                           depth: options.depth, activation: .silu)
        super.init()
        registerChild("context", context)
        registerChild("time_encoding", timeEncoding)
        registerChild("velocity", velocity)
    }

    public var taskName: String { "cfm" }
    public override var extraDescription: String { "in=\(inputDim), features=\(features), ctx=\(contextDim), time_dim=\(timeDim)" }

    /// The velocity v(x_t, t | context) for states [N, F] at times t [N, 1].
    public func velocity(_ xt: Tensor, t: Tensor, context ctx: Tensor) throws -> Tensor {
        try velocity(Tensor.cat([xt, ctx, try timeEncoding(t)], dim: 1))
    }

    public func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor {
        try checkDecoded(input, target, width: inputDim)
        let ctx = try context(input)
        if target.count == 0 { return try emptyLoss(ctx) }
        let x = target.features
        let n = x.shape[0]
        // Keyed per particle when the batch carries a noise key (loader batches), so K ranks
        // draw what one process draws (ParticleNoise); otherwise from the default generator.
        let t = try target.normals(width: 1, stream: .cfmTime)?.sigmoid() ?? LogitNormal.sample([n, 1])
        let eps = try target.normals(width: features, stream: .cfmNoise) ?? Tensor.randn([n, features])
        let xt = try x.mul(t.rsub(1)).add(eps.mul(t))
        return try Functional.mseLoss(try velocity(xt, t: t, context: ctx), try x.sub(eps))
    }

    public func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction {
        try checkDecoded(input, target, width: inputDim)
        return try withNoGrad {
            let ctx = try context(input)
            let n = ctx.shape[0]
            let start = try Tensor.randn([n, features], generator: options.generator)
            let x0 = try ODESolver.integrate(start, from: 1, to: 0, steps: options.steps, method: options.method,
                                             shouldStop: options.shouldStop) { x, t in
                try velocity(x, t: Tensor.full([n, 1], value: t), context: ctx).neg()
            }
            return Reconstruction(features: x0)
        }
    }
}
