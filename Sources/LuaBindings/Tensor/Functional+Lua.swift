import CLua
import CSupport
import Tensors

/// `mpm.nn.functional.*`: the fused kernels of `Tensors.Functional` with PyTorch's names and
/// semantics, Lua's 1-based dims and class labels, and PyTorch's keyword arguments as an
/// options table (`F.cross_entropy(logits, labels, {label_smoothing = 0.1})`).
///
/// Wiring (two lines outside this file):
/// - `FunctionalLibrary.register(lua, in: mpm)` in `MPMLibrary.open`, after `NNLibrary.register`
///   (which creates `mpm.nn` afresh); it gets or creates `mpm.nn` and `mpm.nn.functional` and
///   only adds functions to them.
/// - `+ FunctionalLibrary.tensorFunctions` in `TensorLibrary.functions`, for `t:softmax(dim)`,
///   `t:log_softmax(dim)` and `mpm.softmax` / `mpm.log_softmax`.
///
/// ```lua
/// local F = mpm.nn.functional
/// local loss = F.cross_entropy(logits, labels, {label_smoothing = 0.1, ignore_index = 0})
/// ```
enum FunctionalLibrary {
    /// softmax and log_softmax, each one function with one docstring, installed as a tensor
    /// method, as `mpm.*` and as `mpm.nn.functional.*` (`registerActivations`).
    static let tensorFunctions: [TensorFunction] = [
        TensorFunction("softmax", """
            t:softmax([dim=-1]) -> tensor
            Softmax along dim, fused and numerically stable. Also mpm.softmax(x, dim) and
            mpm.nn.functional.softmax(x, dim): F.softmax(scores, 2).
            """) { lua, t in
            lua.result(try Functional.softmax(t, dim: try lua.optionalDim(2) ?? -1))
        },
        TensorFunction("log_softmax", """
            t:log_softmax([dim=-1]) -> tensor
            log(softmax(t)) along dim, computed without forming the softmax. Also
            mpm.log_softmax(x, dim) and mpm.nn.functional.log_softmax(x, dim): F.log_softmax(logits, 2).
            """) { lua, t in
            lua.result(try Functional.logSoftmax(t, dim: try lua.optionalDim(2) ?? -1))
        },
    ]

    static func register(_ lua: LuaState, in mpm: Int32) {
        let mpm = lua.absolute(mpm)
        let nn = getOrCreateTable(lua, in: mpm, "nn")
        let f = getOrCreateTable(lua, in: nn, "functional")
        registerActivations(lua, in: f)
        registerLosses(lua, in: f)
        registerAttention(lua, in: f)
        lua.pop(2)
    }

    /// Pushes `table[name]`, creating it (an empty table) when absent; returns its index.
    static func getOrCreateTable(_ lua: LuaState, in table: Int32, _ name: String) -> Int32 {
        if lua.rawField(table, name) != LUA_TTABLE {
            lua.pop()
            lua.newTable()
            lua.pushValue(-1)
            lua.setRawField(table, name)
        }
        return lua.top
    }

    // MARK: Options

    static func reduction(_ lua: LuaState, _ options: Int32) throws -> LossReduction {
        guard let name = try lua.option(options, "reduction", lua.string) else { return .mean }
        guard let r = LossReduction(rawValue: name) else {
            throw LuaError.argument(options, "option 'reduction': expected \"mean\", \"sum\" or \"none\", got \"\(name)\"")
        }
        return r
    }

    /// The tensor at `index` when there is one there, else nil (a table or nothing).
    static func optionalTensorOnly(_ lua: LuaState, _ index: Int32) throws -> Tensor? {
        lua.type(index) == LUA_TUSERDATA ? try lua.tensor(index) : nil
    }

    /// A normalized_shape: one size or a table of sizes.
    static func sizes(_ lua: LuaState, _ index: Int32) throws -> [Int] {
        if lua.type(index) == LUA_TNUMBER { return [try lua.integer(index)] }
        guard lua.type(index) == LUA_TTABLE else { throw lua.typeError(index, expected: "size or table of sizes") }
        return try lua.integers(inTable: index, what: "normalized_shape")
    }

    // MARK: Functions

    static func registerActivations(_ lua: LuaState, in f: Int32) {
        // softmax, log_softmax: the same functions (and docstrings) as t:softmax and mpm.softmax.
        for function in tensorFunctions {
            lua.register(function.name, in: f, doc: function.doc) { lua in try function.body(lua, try lua.tensor(1)) }
        }
        lua.register("layer_norm", in: f, doc: """
            F.layer_norm(x, normalized_shape [, weight, bias, eps=1e-5]) -> tensor
            Normalises over the trailing dims normalized_shape (a size or a table of sizes) with the
            biased variance, then scales by weight and shifts by bias (both shaped normalized_shape):
            F.layer_norm(x, 512, w, b). F.layer_norm(x [, weight, bias, eps]) normalises the last dim.
            """) { lua in
            let x = try lua.tensor(1)
            // The short form (x, weight, bias, eps) has a tensor or nothing where the shape goes.
            let short = lua.isNoneOrNil(2) || lua.type(2) == LUA_TUSERDATA
            let shape = short ? (x.dim >= 1 ? [x.shape[x.dim - 1]] : []) : try sizes(lua, 2)
            let first: Int32 = short ? 2 : 3
            return lua.result(try Functional.layerNorm(x, normalizedShape: shape, weight: try lua.optionalTensor(first),
                                                       bias: try lua.optionalTensor(first + 1),
                                                       eps: try lua.optionalNumber(first + 2, default: 1e-5)))
        }
        lua.register("swiglu", in: f, doc: """
            F.swiglu(x) -> tensor
            SwiGLU gate: splits the last dim in halves a, b and returns silu(a) * b ([..., 2H] -> [..., H]).
            """) { lua in
            lua.result(try Functional.swiglu(try lua.tensor(1)))
        }
    }

    static func registerLosses(_ lua: LuaState, in f: Int32) {
        lua.register("cross_entropy", in: f, doc: """
            F.cross_entropy(input, target [, {weight=, ignore_index=-100, reduction="mean", label_smoothing=0}]) -> tensor
            As torch.nn.functional.cross_entropy. input [N, C] logits (also [C] or [N, C, d...]);
            target int64 class labels 1..C ([N]), or float32 probabilities shaped like input.
            A label equal to ignore_index is skipped; "mean" divides by the summed weight of the
            labels not ignored. weight is a [C] tensor of class weights.
            """) { lua in
            let options: Int32 = 3
            try lua.checkOptions(options, allowed: ["weight", "ignore_index", "reduction", "label_smoothing"], function: "cross_entropy")
            return lua.result(try Functional.crossEntropy(
                try lua.tensor(1), try lua.tensor(2), weight: try lua.option(options, "weight", lua.tensor),
                ignoreIndex: try lua.option(options, "ignore_index", lua.integer) ?? -100,
                reduction: try reduction(lua, options),
                labelSmoothing: try lua.option(options, "label_smoothing", lua.number) ?? 0, indexBase: 1))
        }
        lua.register("binary_cross_entropy_with_logits", in: f, doc: """
            F.binary_cross_entropy_with_logits(input, target [, {weight=, pos_weight=, reduction="mean"}]) -> tensor
            Binary cross-entropy on logits, computed stably; target has input's shape, weight and
            pos_weight broadcast to it (pos_weight typically [C] for the last dim).
            """) { lua in
            let options: Int32 = 3
            try lua.checkOptions(options, allowed: ["weight", "pos_weight", "reduction"], function: "binary_cross_entropy_with_logits")
            return lua.result(try Functional.binaryCrossEntropyWithLogits(
                try lua.tensor(1), try lua.tensor(2), weight: try lua.option(options, "weight", lua.tensor),
                posWeight: try lua.option(options, "pos_weight", lua.tensor), reduction: try reduction(lua, options)))
        }
        lua.register("focal_loss", in: f, doc: """
            F.focal_loss(input, target [, {gamma=3, pos_weight=0.778, reduction="mean"}]) -> tensor
            Sigmoid focal loss on logits (MPMv2's vertex-finding edge loss), with p = sigmoid(input) and
            target y in [0, 1] of input's shape: pos_weight y (1-p)^gamma (-log p) + (1-y) p^gamma (-log(1-p)),
            computed stably; gamma = 0 and pos_weight = 1 give binary_cross_entropy_with_logits. The
            mean of an empty input is an error.
            """) { lua in
            let options: Int32 = 3
            try lua.checkOptions(options, allowed: ["gamma", "pos_weight", "reduction"], function: "focal_loss")
            return lua.result(try Functional.focalLoss(
                try lua.tensor(1), try lua.tensor(2), gamma: try lua.option(options, "gamma", lua.number) ?? 3,
                posWeight: try lua.option(options, "pos_weight", lua.number) ?? 0.778, reduction: try reduction(lua, options)))
        }
        lua.register("mse_loss", in: f, doc: """
            F.mse_loss(input, target [, {reduction="mean"}]) -> tensor
            Mean squared error; input and target broadcast.
            """) { lua in
            try lua.checkOptions(3, allowed: ["reduction"], function: "mse_loss")
            return lua.result(try Functional.mseLoss(try lua.tensor(1), try lua.tensor(2), reduction: try reduction(lua, 3)))
        }
        lua.register("l1_loss", in: f, doc: """
            F.l1_loss(input, target [, {reduction="mean"}]) -> tensor
            Mean absolute error; input and target broadcast.
            """) { lua in
            try lua.checkOptions(3, allowed: ["reduction"], function: "l1_loss")
            return lua.result(try Functional.l1Loss(try lua.tensor(1), try lua.tensor(2), reduction: try reduction(lua, 3)))
        }
        lua.register("smooth_l1_loss", in: f, doc: """
            F.smooth_l1_loss(input, target [, {reduction="mean", beta=1}]) -> tensor
            0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).
            """) { lua in
            try lua.checkOptions(3, allowed: ["reduction", "beta"], function: "smooth_l1_loss")
            return lua.result(try Functional.smoothL1Loss(try lua.tensor(1), try lua.tensor(2), reduction: try reduction(lua, 3),
                                                          beta: try lua.option(3, "beta", lua.number) ?? 1))
        }
        lua.register("huber_loss", in: f, doc: """
            F.huber_loss(input, target [, {reduction="mean", delta=1}]) -> tensor
            0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta) (d = input - target).
            """) { lua in
            try lua.checkOptions(3, allowed: ["reduction", "delta"], function: "huber_loss")
            return lua.result(try Functional.huberLoss(try lua.tensor(1), try lua.tensor(2), reduction: try reduction(lua, 3),
                                                       delta: try lua.option(3, "delta", lua.number) ?? 1))
        }
    }

    static func registerAttention(_ lua: LuaState, in f: Int32) {
        lua.register("packed_attention", in: f, doc: """
            F.packed_attention(q, k, v, offsets [, kv_offsets] [, {kv_offsets=, num_heads=, scale=}]) -> tensor
            Scaled dot-product attention over packed sets: q [Tq, H*D] (or [Tq, H, D]), k and v
            [Tk, ...]; set b's queries (rows offsets[b]..offsets[b+1]-1, 0-based offsets as in a
            batch) attend only to set b's keys and values (rows of kv_offsets, default offsets).
            num_heads is required for 2-D inputs; scale defaults to 1/sqrt(D). Returns q's layout.
            """) { lua in
            // kv_offsets may come positionally (argument 5) or as an option.
            let positional = try optionalTensorOnly(lua, 5)
            let options: Int32 = positional == nil ? 5 : 6
            try lua.checkOptions(options, allowed: ["kv_offsets", "num_heads", "scale"], function: "packed_attention")
            let named = try lua.option(options, "kv_offsets", lua.tensor)
            if positional != nil && named != nil {
                throw LuaError.argument(options, "packed_attention: kv_offsets given twice (argument 5 and the option)")
            }
            return lua.result(try Functional.packedAttention(
                query: try lua.tensor(1), key: try lua.tensor(2), value: try lua.tensor(3), queryOffsets: try lua.tensor(4),
                keyOffsets: positional ?? named, numHeads: try lua.option(options, "num_heads", lua.integer),
                scale: try lua.option(options, "scale", lua.number)))
        }
    }
}
