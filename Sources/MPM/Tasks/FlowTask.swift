import Foundation
import NN
import Tensors

/// Conditional normalising flow (MPMv2's CNF task): the density of each dropped particle's 7
/// features given its decoder output, as `couplings` rational-quadratic spline coupling blocks
/// (8 bins, tail bound 4, linear tails, alternating masks, residual network width 64 with 2
/// blocks and SiLU, identity init) over a standard normal base. The context is
/// Linear(decoder_dim -> 128). The loss is the negative log-likelihood per particle; during
/// training 0.05 N(0, 1) noise is added to the four impact-parameter features (their
/// distributions have sharp peaks a flow cannot fit exactly). Sampling inverts the blocks.
///
/// ```swift
/// let flow = try FlowTask(inputDim: 128)
/// let nll = try flow.loss(decoded, target: target)
/// let x = try flow.sample(decoded, target: target, options: SampleOptions()).features
/// ```
public final class FlowTask: Module, ReconstructionTask {
    public let inputDim: Int
    public let features: Int
    public let contextDim: Int
    /// Standard deviation of the noise added to `noisyFeatures` in training.
    public let noise: Double
    /// Features that get training noise (0-based: d0, d0err, dz, dzerr).
    public let noisyFeatures: [Int]
    public let context: Linear
    public let couplings: ModuleList

    public init(inputDim: Int, options o: Options = Options()) throws {
        guard o.couplings >= 1 else { throw TensorError("flow: couplings must be at least 1, got \(o.couplings)") }
        guard o.noisyFeatures.allSatisfy({ $0 >= 0 && $0 < o.features }) else {
            throw TensorError("flow: noisy features must lie in 1..\(o.features)")
        }
        self.inputDim = inputDim
        features = o.features
        contextDim = o.contextDim
        noise = o.noise
        noisyFeatures = o.noisyFeatures
        context = try Linear(inputDim, contextDim)
        couplings = ModuleList(try (0..<o.couplings).map {
            try SplineCoupling(features: o.features, contextDim: o.contextDim, even: $0 % 2 == 0, width: o.width,
                               blocks: o.blocks, spline: o.spline)
        })
        super.init()
        registerChild("context", context)
        registerChild("couplings", couplings)
    }

    public var taskName: String { "flow" }
    public override var extraDescription: String { "in=\(inputDim), features=\(features), couplings=\(couplings.modules.count)" }

    var blocks: [SplineCoupling] { couplings.modules.compactMap { $0 as? SplineCoupling } }

    /// log p(x | context) per row [N].
    public func logProb(_ x: Tensor, context ctx: Tensor) throws -> Tensor {
        var z = x
        var logdet: Tensor?
        for block in blocks {
            let (next, ld) = try block(z, context: ctx)
            z = next
            logdet = try logdet.map { try $0.add(ld) } ?? ld
        }
        let base = try z.square().sum(dims: [1]).mul(-0.5).sub(0.5 * Double(features) * Foundation.log(2 * Double.pi))
        return try logdet.map { try base.add($0) } ?? base
    }

    public func loss(_ input: Tensor, target: DroppedSet) throws -> Tensor {
        try checkDecoded(input, target, width: inputDim)
        let ctx = try context(input)
        if target.count == 0 { return try emptyLoss(ctx) }
        var x = target.features
        if noise > 0 && !noisyFeatures.isEmpty {
            var scale = [Float](repeating: 0, count: features)
            for f in noisyFeatures { scale[f] = Float(noise) }
            // Keyed per particle like CFM's noise (ParticleNoise), so K ranks add what one process adds.
            let eps = try target.normals(width: features, stream: .flowNoise) ?? Tensor.randn(x.shape)
            x = try x.add(eps.mul(try Tensor(scale, shape: [features])))
        }
        return try logProb(x, context: ctx).mean().neg()
    }

    public func sample(_ input: Tensor, target: DroppedSet, options: SampleOptions) throws -> Reconstruction {
        try checkDecoded(input, target, width: inputDim)
        return try withNoGrad {
            let ctx = try context(input)
            var x = try Tensor.randn([ctx.shape[0], features], generator: options.generator)
            for block in blocks.reversed() { x = try block(x, context: ctx, inverse: true).0 }
            return Reconstruction(features: x)
        }
    }
}
