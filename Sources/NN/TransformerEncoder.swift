import Tensors

/// A stack of `depth` pre-norm TransformerLayers on packed sets, with optional learned
/// registers prepended to every set and an optional final LayerNorm. The MPMv2 encoder is
/// dim 512, depth 8, 8 heads, ff_mult 2, LayerScale 1e-3, 8 registers.
///
/// Registers are parameters [R, D], init N(0, 1) * `registerStd` (1e-3, as MPMv2). By default
/// they are removed from the output, which then has the input's layout; `encode` returns the
/// output with the registers kept and its offsets (the MPMv2 decoder carries them over).
///
/// ```swift
/// var o = TransformerOptions(); o.layerscaleInit = 1e-3
/// let enc = try TransformerEncoder(dim: 128, depth: 4, heads: 4, registers: 8, options: o)
/// let y = try enc(x, offsets: offsets)                     // [T, 128]
/// let (withRegs, regOffsets) = try enc.encode(x, offsets: offsets)
/// ```
public final class TransformerEncoder: Module {
    public let dim: Int
    public let depth: Int
    public let registerCount: Int
    public let keepRegisters: Bool
    public let registers: Tensor?
    public let layers: ModuleList
    public let finalNorm: LayerNorm?
    public let options: TransformerOptions

    public init(dim: Int, depth: Int, heads: Int, registers: Int = 0, registerStd: Double = 1e-3, finalNorm: Bool = true,
                keepRegisters: Bool = false, options: TransformerOptions = TransformerOptions()) throws {
        try Init.checkSize(depth, "depth", "TransformerEncoder")
        guard registers >= 0 else { throw TensorError("TransformerEncoder: registers must be at least 0, got \(registers)") }
        self.dim = dim
        self.depth = depth
        self.registerCount = registers
        self.keepRegisters = keepRegisters
        self.options = options
        layers = ModuleList(try (0..<depth).map { _ in try TransformerLayer(dim: dim, heads: heads, options: options) })
        self.finalNorm = finalNorm ? try LayerNorm(dim, eps: options.eps) : nil
        try Init.checkShape([registers, dim], "registers", "TransformerEncoder")
        self.registers = registers > 0 ? Init.normal([registers, dim], std: registerStd) : nil
        super.init()
        if let r = self.registers { registerParameter("registers", r) }
        registerChild("layers", layers)
        if let n = self.finalNorm { registerChild("final_norm", n) }
    }

    public override var extraDescription: String {
        "dim=\(dim), depth=\(depth), registers=\(registerCount)" + (finalNorm != nil ? ", final_norm" : "")
    }

    public override var signature: Signature {
        Signature(["x", "offsets"] + (options.contextDim != nil ? ["context"] : []))
    }

    /// Runs the stack and returns the output with the registers still in front of every set,
    /// and the offsets of that layout.
    public func encode(_ x: Tensor, offsets: Tensor, context: Tensor? = nil) throws -> (Tensor, Tensor) {
        guard x.dim == 2, x.shape[1] == dim else {
            throw TensorError("TransformerEncoder(dim=\(dim)): x must be packed [T, \(dim)], got \(formatShape(x.shape))")
        }
        var h = x, o = offsets
        if let r = registers { (h, o) = try NNOps.prependRows(x, offsets: offsets, rows: r, op: "TransformerEncoder") }
        var ctx = context
        // A per-row context must gain rows for the registers; per-set context needs nothing.
        if let c = context, registerCount > 0, c.dim == 2, c.shape[0] == x.shape[0], c.shape[0] != offsets.numel - 1 {
            ctx = try NNOps.prependRows(c, offsets: offsets, rows: Tensor.zeros([registerCount, c.shape[1]]), op: "TransformerEncoder").0
        }
        if ctx == nil, !GradMode.isEnabled, !(training && options.dropout > 0), let y = try stackBySetBlocks(h, offsets: o) {
            return (y, o)
        }
        for case let layer as TransformerLayer in layers.modules {
            h = try layer(h, offsets: o, context: ctx)
        }
        if let n = finalNorm { h = try n(h) }
        return (h, o)
    }

    /// Inference: sets never meet inside the stack, so blocks of whole sets go through every
    /// layer at once, a block per worker, each op inside running on the worker's own thread.
    /// A block's activations stay in its core's cache from one op to the next, and no op waits
    /// for the other cores at its end (docs/architecture.md, "Inference by blocks of sets").
    /// Returns nil when there is too little to split; then the batch runs op by op.
    func stackBySetBlocks(_ x: Tensor, offsets: Tensor) throws -> Tensor? {
        // Blocks are cut by the offsets, so they are checked first: offsets that end short of
        // the rows would otherwise give a shorter output instead of an error.
        let o = try Tensor.validatedOffsets(offsets, rows: x.shape[0], op: "TransformerEncoder(dim=\(dim))")
        let sets = o.count - 1, rows = x.shape[0]
        // About 4 * dim rows per block was fastest for both presets (small: 16 blocks of 256 jets,
        // 15% faster than 2; paper: 6, 5% faster than 16): smaller blocks keep more in cache, but
        // every block packs every weight matrix again (OpenBLAS packs both operands per call).
        let threads = Double(BLASThreads.kernelThreadCount)
        let perThread = Swift.max(1, Swift.min(8, Int((Double(rows) / Double(4 * dim) / threads).rounded())))
        let blocks = parallelPieces(sets, work: Double(rows) * Double(dim) * Double(dim) * Double(depth), perThread: perThread)
        if blocks < 2 { return nil }
        var starts = [0]
        for b in 1..<blocks {
            var s = starts[b - 1] + 1
            while s < sets - (blocks - b) && o[s] * blocks < rows * b { s += 1 }
            starts.append(s)
        }
        starts.append(sets)
        var outputs = [Result<Tensor, Error>?](repeating: nil, count: blocks)
        outputs.withUnsafeMutableBufferPointer { results in
            parallelRegion(iterations: blocks) { b in
                results[b] = Result {
                    let first = starts[b], last = starts[b + 1], r0 = o[first]
                    let local = try Tensor((first...last).map { Int64(o[$0] - r0) }, shape: [last - first + 1])
                    var h = try x.narrow(0, start: r0, length: o[last] - r0)
                    for case let layer as TransformerLayer in layers.modules { h = try layer(h, offsets: local) }
                    if let n = finalNorm { h = try n(h) }
                    return h
                }
            }
        }
        return try Tensor.cat(outputs.map { try $0!.get() }, dim: 0)
    }

    public func callAsFunction(_ x: Tensor, offsets: Tensor, context: Tensor? = nil) throws -> Tensor {
        let (h, o) = try encode(x, offsets: offsets, context: context)
        if registerCount == 0 || keepRegisters { return h }
        return try NNOps.dropLeadingRows(h, offsets: o, count: registerCount, op: "TransformerEncoder").0
    }

    /// Returns [y] with the input's layout, or [y, offsets] when `keepRegisters` is set.
    public override func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        let a = try arguments(inputs)
        let (h, o) = try encode(a[0]!, offsets: a[1]!, context: a.count > 2 ? a[2] : nil)
        if registerCount == 0 { return [h] }
        if keepRegisters { return [h, o] }
        return [try NNOps.dropLeadingRows(h, offsets: o, count: registerCount, op: "TransformerEncoder").0]
    }
}
