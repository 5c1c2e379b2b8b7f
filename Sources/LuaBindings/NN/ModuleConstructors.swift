import CLua
import CSupport
import NN
import Tensors

/// `mpm.nn.Linear(...)` and every other Swift module constructor. Sizes accept integral floats;
/// options are plain tables and unknown names are errors.
enum ModuleConstructors {
    static let layerOptionNames = ["ff_mult", "layerscale_init", "ctx_dim", "dropout", "bias", "eps"]

    static func register(_ lua: LuaState, in nn: Int32) {
        func constructor(_ name: String, _ doc: String, _ make: @escaping (LuaState) throws -> Module) {
            lua.register(name, in: nn, doc: doc) { lua in
                ModuleClass.push(lua, try make(lua))
                return 1
            }
        }

        constructor("Linear", """
            mpm.nn.Linear(in_features, out_features [, {bias=true}]) -> module
            y = x W^T + b on the last dim. Init as PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
            """) { lua in
            try lua.checkOptions(3, allowed: ["bias"], function: "Linear")
            return try Linear(try lua.integer(1), try lua.integer(2), bias: try lua.option(3, "bias", lua.boolean) ?? true)
        }
        constructor("Embedding", """
            mpm.nn.Embedding(num_embeddings, dim) -> module
            Rows of a table looked up by int64 ids counting from 1. Init N(0, 1).
            """) { lua in
            try Embedding(try lua.integer(1), try lua.integer(2))
        }
        constructor("LayerNorm", """
            mpm.nn.LayerNorm(dim [, {eps=1e-5, affine=true, bias=true}]) -> module
            Normalises the last dim; weight ones, bias zeros.
            """) { lua in
            try lua.checkOptions(2, allowed: ["eps", "affine", "bias"], function: "LayerNorm")
            return try LayerNorm(try lua.integer(1), eps: try lua.option(2, "eps", lua.number) ?? 1e-5,
                                 affine: try lua.option(2, "affine", lua.boolean) ?? true,
                                 bias: try lua.option(2, "bias", lua.boolean) ?? true)
        }
        constructor("Dropout", "mpm.nn.Dropout([p=0.5]) -> module: zeroes elements with probability p in train mode") { lua in
            try Dropout(try lua.optionalNumber(1, default: 0.5))
        }
        constructor("Identity", "mpm.nn.Identity() -> module: returns its input") { _ in Identity() }
        for kind in Activation.Kind.allCases {
            let name = Activation(kind).typeName
            constructor(name, "mpm.nn.\(name)() -> module: the \(kind.rawValue) activation") { _ in Activation(kind) }
        }
        constructor("Sequential", """
            mpm.nn.Sequential(m1, m2, ...) or mpm.nn.Sequential({m1, m2, ...}) -> module
            Runs the modules in order; extra arguments (offsets, context) go to every module that
            is not row-wise. Lua modules may be members.
            """) { lua in Sequential(try modules(lua)) }
        constructor("ModuleList", "mpm.nn.ModuleList([{m1, m2, ...}]) -> module: holds modules; index with [i], append with :append(m)") { lua in
            ModuleList(try modules(lua))
        }
        constructor("MLP", """
            mpm.nn.MLP(in, out [, {width=64, depth=2, activation="silu", norm=false, dropout=0}]) -> module
            depth hidden blocks Linear -> [LayerNorm] -> activation -> [Dropout], then Linear(width -> out).
            activation: relu, silu, gelu, tanh, sigmoid, softplus.
            """) { lua in
            try lua.checkOptions(3, allowed: ["width", "depth", "activation", "norm", "dropout"], function: "MLP")
            let act = try lua.option(3, "activation", lua.string) ?? "silu"
            return try MLP(inFeatures: try lua.integer(1), outFeatures: try lua.integer(2),
                           hidden: try lua.option(3, "width", lua.integer) ?? 64,
                           depth: try lua.option(3, "depth", lua.integer) ?? 2,
                           activation: try Activation(named: act).kind,
                           norm: try lua.option(3, "norm", lua.boolean) ?? false,
                           dropout: try lua.option(3, "dropout", lua.number) ?? 0)
        }
        constructor("SwiGLU", """
            mpm.nn.SwiGLU(dim [, {mult=2, out=dim, dropout=0, bias=true}]) -> module
            Linear(dim -> 2*mult*dim), split, silu(a)*b, Linear(mult*dim -> out).
            """) { lua in
            try lua.checkOptions(2, allowed: ["mult", "out", "dropout", "bias"], function: "SwiGLU")
            return try SwiGLU(dim: try lua.integer(1), mult: try lua.option(2, "mult", lua.number) ?? 2,
                              outDim: try lua.option(2, "out", lua.integer), dropout: try lua.option(2, "dropout", lua.number) ?? 0,
                              bias: try lua.option(2, "bias", lua.boolean) ?? true)
        }
        constructor("MultiheadAttention", """
            mpm.nn.MultiheadAttention(dim, heads [, {cross=false, kv_dim=dim, dropout=0, bias=true}]) -> module
            Attention on packed sets: m(x, offsets) for self-attention (fused qkv);
            m(x, offsets, kv, kv_offsets) with cross=true.
            """) { lua in
            try lua.checkOptions(3, allowed: ["cross", "kv_dim", "dropout", "bias"], function: "MultiheadAttention")
            return try MultiheadAttention(dim: try lua.integer(1), heads: try lua.integer(2),
                                          cross: try lua.option(3, "cross", lua.boolean) ?? false,
                                          kvDim: try lua.option(3, "kv_dim", lua.integer),
                                          dropout: try lua.option(3, "dropout", lua.number) ?? 0,
                                          bias: try lua.option(3, "bias", lua.boolean) ?? true)
        }
        constructor("LayerScale", "mpm.nn.LayerScale(dim, init) -> module: x * gamma, gamma initialised to init") { lua in
            try LayerScale(dim: try lua.integer(1), initValue: try lua.number(2))
        }
        constructor("AdaptiveLayerNorm", """
            mpm.nn.AdaptiveLayerNorm(dim, ctx_dim [, {eps=1e-5}]) -> module
            m(x, offsets, context): norm(x) * (1 + scale) + shift from Linear(context), zero-initialised.
            """) { lua in
            try lua.checkOptions(3, allowed: ["eps"], function: "AdaptiveLayerNorm")
            return try AdaptiveLayerNorm(dim: try lua.integer(1), contextDim: try lua.integer(2),
                                         eps: try lua.option(3, "eps", lua.number) ?? 1e-5)
        }
        constructor("TransformerLayer", """
            mpm.nn.TransformerLayer(dim, heads [, {ff_mult=2, layerscale_init=nil, ctx_dim=nil, dropout=0,
                                    bias=true, eps=1e-5, cross=false, kv_dim=dim}]) -> module
            Pre-norm block: x + ls*attn(norm(x)), then x + ls*swiglu(norm(x)). Call m(x, offsets [, context]),
            or m(x, offsets, kv, kv_offsets [, context]) with cross=true.
            """) { lua in
            try lua.checkOptions(3, allowed: layerOptionNames + ["cross", "kv_dim"], function: "TransformerLayer")
            return try TransformerLayer(dim: try lua.integer(1), heads: try lua.integer(2), options: try layerOptions(lua, 3),
                                        cross: try lua.option(3, "cross", lua.boolean) ?? false,
                                        kvDim: try lua.option(3, "kv_dim", lua.integer))
        }
        constructor("TransformerEncoder", """
            mpm.nn.TransformerEncoder(dim, depth, heads [, {registers=0, register_std=1e-3, final_norm=true,
                                      keep_registers=false, ff_mult=2, layerscale_init=nil, ctx_dim=nil, dropout=0}]) -> module
            depth TransformerLayers with learned registers prepended to every set. m(x, offsets) -> y in the
            input layout; with keep_registers=true -> y, offsets (registers first in every set).
            """) { lua in
            try lua.checkOptions(4, allowed: layerOptionNames + ["registers", "register_std", "final_norm", "keep_registers"],
                                 function: "TransformerEncoder")
            return try TransformerEncoder(dim: try lua.integer(1), depth: try lua.integer(2), heads: try lua.integer(3),
                                          registers: try lua.option(4, "registers", lua.integer) ?? 0,
                                          registerStd: try lua.option(4, "register_std", lua.number) ?? 1e-3,
                                          finalNorm: try lua.option(4, "final_norm", lua.boolean) ?? true,
                                          keepRegisters: try lua.option(4, "keep_registers", lua.boolean) ?? false,
                                          options: try layerOptions(lua, 4))
        }
        constructor("TransformerDecoderLayer", """
            mpm.nn.TransformerDecoderLayer(dim, heads [, {kv_dim=dim, ff_mult=2, layerscale_init=nil, ctx_dim=nil, dropout=0}]) -> module
            m(x, offsets, memory, memory_offsets [, context]): self-attention, cross-attention to memory, SwiGLU.
            """) { lua in
            try lua.checkOptions(3, allowed: layerOptionNames + ["kv_dim"], function: "TransformerDecoderLayer")
            return try TransformerDecoderLayer(dim: try lua.integer(1), heads: try lua.integer(2),
                                               kvDim: try lua.option(3, "kv_dim", lua.integer), options: try layerOptions(lua, 3))
        }
        constructor("ClassAttentionPooling", """
            mpm.nn.ClassAttentionPooling(dim, heads [, {depth=2, ff_mult=1, dropout=0, layerscale_init=nil}]) -> module
            m(x, offsets) -> [B, dim]: a learned class token attends to each set (MPMv2 classifier pooling).
            """) { lua in
            try lua.checkOptions(3, allowed: layerOptionNames + ["depth"], function: "ClassAttentionPooling")
            var o = try layerOptions(lua, 3)
            if try lua.option(3, "ff_mult", lua.number) == nil { o.ffMult = 1 }
            return try ClassAttentionPooling(dim: try lua.integer(1), heads: try lua.integer(2),
                                             depth: try lua.option(3, "depth", lua.integer) ?? 2, options: o)
        }
        constructor("ClassAttentionClassifier", """
            mpm.nn.ClassAttentionClassifier(input_dim, classes [, {hidden=128, heads=4, depth=2, ff_mult=1, dropout=0.2}]) -> module
            m(x, offsets) -> logits [B, classes] (classes = 1: one logit): the MPMv2 downstream head,
            Linear(input_dim -> hidden), a class token attending to each set, LayerNorm, Linear.
            Give it the backbone output with registers (bb(...) second and third results).
            """) { lua in
            try lua.checkOptions(3, allowed: ["hidden", "heads", "depth", "ff_mult", "dropout"], function: "ClassAttentionClassifier")
            var o = ClassAttentionClassifier.Options()
            if let v = try lua.option(3, "hidden", lua.integer) { o.hidden = v }
            if let v = try lua.option(3, "heads", lua.integer) { o.heads = v }
            if let v = try lua.option(3, "depth", lua.integer) { o.depth = v }
            if let v = try lua.option(3, "ff_mult", lua.number) { o.ffMult = v }
            if let v = try lua.option(3, "dropout", lua.number) { o.dropout = v }
            return try ClassAttentionClassifier(inputDim: try lua.integer(1), classes: try lua.integer(2), options: o)
        }
        constructor("PerTrackMLP", """
            mpm.nn.PerTrackMLP(input_dim, outputs [, {hidden=128, depth=3, dropout=0.2, activation="silu"}]) -> module
            m(x [, offsets]) -> [T, outputs]: the MPMv2 per-track head, depth blocks Linear -> LayerNorm ->
            activation -> Dropout of width hidden, then Linear(hidden -> outputs), on every row of a packed
            x [T, input_dim]. Give it the backbone's particle outputs, registers removed (bb(...) first
            result; mpm.finetune.run{input = "particles"}). Track identification: outputs = 4.
            """) { lua in
            try PerTrackMLP(inputDim: try lua.integer(1), outputs: try lua.integer(2),
                            options: try trackOptions(lua, 3, function: "PerTrackMLP"))
        }
        constructor("EdgeHead", """
            mpm.nn.EdgeHead(input_dim [, {hidden=128, depth=3, dropout=0.2, activation="silu"}]) -> module
            m(x, offsets) -> logits [P], pair_offsets [B+1]: the MPMv2 vertex-finding twin network,
            G(|F(z_i) - F(z_j)|) for every pair i < j of rows of the same set (F = PerTrackMLP(input_dim ->
            hidden), G = Linear(hidden -> 1)); pairs in the layout of x:pair_abs_diff and mpm.set_pairs,
            computed set by set on its true length. Logit > 0: the two tracks share a vertex.
            """) { lua in
            try EdgeHead(inputDim: try lua.integer(1), options: try trackOptions(lua, 2, function: "EdgeHead"))
        }
        constructor("CosineEncoding", """
            mpm.nn.CosineEncoding(dim [, {min=0, max=1, scaling="exponential"}]) -> module
            cos(pi * f_k * (x - min) / (max - min)), f_k = e^k ("exponential") or k ("linear", from 1).
            """) { lua in
            try lua.checkOptions(2, allowed: ["min", "max", "scaling"], function: "CosineEncoding")
            let name = try lua.option(2, "scaling", lua.string) ?? "exponential"
            guard let scaling = CosineEncoding.Scaling(rawValue: name) else {
                throw LuaError.argument(2, "CosineEncoding: unknown scaling '\(name)' (expected exponential or linear)")
            }
            return try CosineEncoding(dim: try lua.integer(1), minValue: try lua.option(2, "min", lua.number) ?? 0,
                                      maxValue: try lua.option(2, "max", lua.number) ?? 1, scaling: scaling)
        }
        constructor("FourierEmbedding", """
            mpm.nn.FourierEmbedding(dim [, {scale=16}]) -> module
            [sin(2 pi x w), cos(2 pi x w)] with fixed w ~ N(0, scale^2) (a saved buffer).
            """) { lua in
            try lua.checkOptions(2, allowed: ["scale"], function: "FourierEmbedding")
            return try FourierEmbedding(dim: try lua.integer(1), scale: try lua.option(2, "scale", lua.number) ?? 16)
        }
    }

    /// PerTrackMLP options from the options table at `index`.
    static func trackOptions(_ lua: LuaState, _ index: Int32, function: String) throws -> PerTrackMLP.Options {
        try lua.checkOptions(index, allowed: ["hidden", "depth", "dropout", "activation"], function: function)
        var o = PerTrackMLP.Options()
        if let v = try lua.option(index, "hidden", lua.integer) { o.hidden = v }
        if let v = try lua.option(index, "depth", lua.integer) { o.depth = v }
        if let v = try lua.option(index, "dropout", lua.number) { o.dropout = v }
        if let v = try lua.option(index, "activation", lua.string) { o.activation = try Activation(named: v).kind }
        return o
    }

    /// Transformer options from the options table at `index`.
    static func layerOptions(_ lua: LuaState, _ index: Int32) throws -> TransformerOptions {
        var o = TransformerOptions()
        if let v = try lua.option(index, "ff_mult", lua.number) { o.ffMult = v }
        o.layerscaleInit = try lua.option(index, "layerscale_init", lua.number)
        o.contextDim = try lua.option(index, "ctx_dim", lua.integer)
        if let v = try lua.option(index, "dropout", lua.number) { o.dropout = v }
        if let v = try lua.option(index, "bias", lua.boolean) { o.bias = v }
        if let v = try lua.option(index, "eps", lua.number) { o.eps = v }
        return o
    }

    /// Modules given as arguments (m1, m2, ...) or as one list ({m1, m2, ...}).
    static func modules(_ lua: LuaState) throws -> [Module] {
        if lua.top == 1, lua.type(1) == LUA_TTABLE, !ModuleClass.isLuaModule(lua, 1) {
            var out: [Module] = []
            for position in stride(from: 1, through: lua.rawLength(1), by: 1) {
                lua.rawIndex(1, position)
                defer { lua.pop() }
                guard let m = try ModuleClass.module(lua, -1) else {
                    throw LuaError.argument(1, "entry \(position) is a \(lua.typeName(-1)), expected a module")
                }
                out.append(m)
            }
            return out
        }
        guard lua.top >= 1 else { return [] }
        return try (1...lua.top).map { try ModuleClass.checkModule(lua, $0) }
    }
}
