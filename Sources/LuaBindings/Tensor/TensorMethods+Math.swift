import CLua
import CSupport
import Tensors

/// Elementwise arithmetic (with broadcasting and numbers on either side), comparisons,
/// reductions and matrix products.
enum TensorMath {
    static var functions: [TensorFunction] { unary + binary + comparisons + selection + reductions + products }

    // MARK: Elementwise

    static let unary: [TensorFunction] = UnaryOp.allCases.flatMap { op -> [TensorFunction] in
        [
            TensorFunction(op.rawValue, "t:\(op.rawValue)() -> \(op.rawValue) of each element") { lua, t in
                lua.result(t.apply(op))
            },
            TensorFunction(op.rawValue + "_", "t:\(op.rawValue)_() -> t, with \(op.rawValue) applied in place", function: false) { lua, t in
                lua.result(try t.apply_(op))
            },
        ]
    }

    /// `op(t, other)`, where other is a tensor (broadcast) or a number.
    static func binary(_ lua: LuaState, _ t: Tensor, _ op: BinaryOp) throws -> Tensor {
        switch try lua.operand(2) {
        case .tensor(let other): return try t.binary(op, other)
        case .number(let value): return try scalar(t, op, value)
        }
    }

    /// `op(t, value)` through the core's scalar overloads (which pick the scalar's dtype).
    static func scalar(_ t: Tensor, _ op: BinaryOp, _ value: Double) throws -> Tensor {
        switch op {
        case .add: return try t.add(value)
        case .sub: return try t.sub(value)
        case .mul: return try t.mul(value)
        case .div: return try t.div(value)
        case .pow: return try t.pow(value)
        case .maximum: return try t.maximum(value)
        case .minimum: return try t.minimum(value)
        }
    }

    static let binary: [TensorFunction] = BinaryOp.allCases.flatMap { op -> [TensorFunction] in
        [
            TensorFunction(op.rawValue, "t:\(op.rawValue)(other) -> elementwise \(op.rawValue), other a tensor (broadcast) or a number") { lua, t in
                lua.result(try binary(lua, t, op))
            },
            TensorFunction(op.rawValue + "_", "t:\(op.rawValue)_(other) -> t, updated in place", function: false) { lua, t in
                switch try lua.operand(2) {
                case .tensor(let other): return lua.result(try t.binary_(op, other))
                case .number(let value): return lua.result(try t.binary_(op, try Tensor.full([], value: value, dtype: t.dtype)))
                }
            },
        ]
    } + [
        TensorFunction("clamp", "t:clamp(min [, max]) -> values limited to [min, max] (either may be nil)") { lua, t in
            let low: Double? = lua.isNoneOrNil(2) ? nil : try lua.number(2)
            let high: Double? = lua.isNoneOrNil(3) ? nil : try lua.number(3)
            return lua.result(try t.clamp(min: low, max: high))
        },
        TensorFunction("clamp_", "t:clamp_(min [, max]) -> t, clamped in place", function: false) { lua, t in
            let low: Double? = lua.isNoneOrNil(2) ? nil : try lua.number(2)
            let high: Double? = lua.isNoneOrNil(3) ? nil : try lua.number(3)
            return lua.result(try t.clamp_(min: low, max: high))
        },
    ]

    static let comparisons: [TensorFunction] = [
        ("eq", CompareOp.eq), ("ne", .ne), ("lt", .lt), ("le", .le), ("gt", .gt), ("ge", .ge),
    ].map { name, op in
        TensorFunction(name, "t:\(name)(other) -> bool tensor of t \(name) other (tensor or number)") { lua, t in
            switch try lua.operand(2) {
            case .tensor(let other): return lua.result(try t.compare(op, other))
            case .number(let value): return lua.result(try t.compare(op, value))
            }
        }
    } + [
        TensorFunction("logical_and", "a:logical_and(b) -> bool tensor") { lua, t in lua.result(try t.logicalAnd(try lua.tensor(2))) },
        TensorFunction("logical_or", "a:logical_or(b) -> bool tensor") { lua, t in lua.result(try t.logicalOr(try lua.tensor(2))) },
        TensorFunction("logical_xor", "a:logical_xor(b) -> bool tensor") { lua, t in lua.result(try t.logicalXor(try lua.tensor(2))) },
        TensorFunction("logical_not", "t:logical_not() -> bool tensor") { lua, t in lua.result(t.logicalNot()) },
        TensorFunction("isnan", "t:isnan() -> bool tensor, true where NaN") { lua, t in lua.result(t.isnan()) },
        TensorFunction("isfinite", "t:isfinite() -> bool tensor, true where finite") { lua, t in lua.result(t.isfinite()) },
    ]

    static let selection: [TensorFunction] = [
        TensorFunction("masked_fill", "t:masked_fill(mask, value) -> copy with value where mask is true") { lua, t in
            lua.result(try t.maskedFill(try lua.tensor(2), value: try lua.number(3)))
        },
        TensorFunction("masked_fill_", "t:masked_fill_(mask, value) -> t, filled in place where mask is true", function: false) { lua, t in
            lua.result(try t.maskedFill_(try lua.tensor(2), value: try lua.number(3)))
        },
        TensorFunction("where", "x:where(condition, y) -> x where condition, else y (tensor or number)", function: false) { lua, t in
            let condition = try lua.tensor(2)
            switch try lua.operand(3) {
            case .tensor(let other): return lua.result(try Tensor.where(condition, t, other))
            case .number(let value): return lua.result(try Tensor.where(condition, t, value))
            }
        },
    ]

    // MARK: Reductions

    /// Reductions read `(dims, keepdim)`: `x:sum()`, `x:sum(2)`, `x:sum({1, 2}, true)`.
    static func reduction(_ name: String, _ what: String,
                          _ reduce: @escaping (Tensor, [Int]?, Bool) throws -> Tensor) -> TensorFunction {
        TensorFunction(name, "t:\(name)([dims [, keepdim=false]]) -> \(what) over dims (all when omitted)") { lua, t in
            lua.result(try reduce(t, try lua.dims(2), try lua.optionalBoolean(3, default: false)))
        }
    }

    /// max/min: over everything, along one dim (values and 1-based indices), or elementwise.
    static func extremum(_ name: String, isMax: Bool) -> TensorFunction {
        TensorFunction(name, """
            t:\(name)() -> 0-d tensor; t:\(name)(dim [, keepdim]) -> values, indices (1-based);
            t:\(name)(other) -> elementwise \(isMax ? "maximum" : "minimum")
            """) { lua, t in
            if lua.isNoneOrNil(2) { return lua.result(isMax ? try t.max() : try t.min()) }
            if let other = try tensorClass.test(lua, 2) {
                return lua.result(isMax ? try t.maximum(other) : try t.minimum(other))
            }
            let dim = try lua.dim(2)
            let keep = try lua.optionalBoolean(3, default: false)
            let (values, indices) = isMax ? try t.max(dim: dim, keepDim: keep) : try t.min(dim: dim, keepDim: keep)
            lua.push(values)
            lua.push(try indices.add(1))
            return 2
        }
    }

    static let reductions: [TensorFunction] = [
        reduction("sum", "the sum") { try $0.sum(dims: $1, keepDim: $2) },
        reduction("mean", "the mean") { try $0.mean(dims: $1, keepDim: $2) },
        reduction("amax", "the maximum") { try $0.amax(dims: $1, keepDim: $2) },
        reduction("amin", "the minimum") { try $0.amin(dims: $1, keepDim: $2) },
        reduction("all", "true if all elements are true") { try $0.all(dims: $1, keepDim: $2) },
        reduction("any", "true if any element is true") { try $0.any(dims: $1, keepDim: $2) },
        TensorFunction("logsumexp", "t:logsumexp(dims [, keepdim]) -> log(sum(exp(t))) over dims, computed stably") { lua, t in
            guard let dims = try lua.dims(2) else { throw lua.typeError(2, expected: "dim or table of dims") }
            return lua.result(try t.logsumexp(dims: dims, keepDim: try lua.optionalBoolean(3, default: false)))
        },
        TensorFunction("var", "t:var([dims [, keepdim [, unbiased=true]]]) -> variance (unbiased by default, as torch)") { lua, t in
            lua.result(try t.variance(dims: try lua.dims(2), unbiased: try lua.optionalBoolean(4, default: true),
                                      keepDim: try lua.optionalBoolean(3, default: false)))
        },
        TensorFunction("std", "t:std([dims [, keepdim [, unbiased=true]]]) -> standard deviation") { lua, t in
            lua.result(try t.std(dims: try lua.dims(2), unbiased: try lua.optionalBoolean(4, default: true),
                                 keepDim: try lua.optionalBoolean(3, default: false)))
        },
        TensorFunction("norm", "t:norm([p=2 [, dims [, keepdim]]]) -> the p-norm") { lua, t in
            lua.result(try t.norm(p: try lua.optionalNumber(2, default: 2), dims: try lua.dims(3),
                                  keepDim: try lua.optionalBoolean(4, default: false)))
        },
        TensorFunction("prod", "t:prod([dim [, keepdim]]) -> the product") { lua, t in
            lua.result(try t.prod(dim: try lua.optionalDim(2), keepDim: try lua.optionalBoolean(3, default: false)))
        },
        TensorFunction("cumsum", "t:cumsum(dim) -> running sums along dim") { lua, t in
            lua.result(try t.cumsum(try lua.dim(2)))
        },
        TensorFunction("argmax", "t:argmax([dim [, keepdim]]) -> 1-based index of the maximum") { lua, t in
            lua.result(try t.argmax(dim: try lua.optionalDim(2), keepDim: try lua.optionalBoolean(3, default: false)).add(1))
        },
        TensorFunction("argmin", "t:argmin([dim [, keepdim]]) -> 1-based index of the minimum") { lua, t in
            lua.result(try t.argmin(dim: try lua.optionalDim(2), keepDim: try lua.optionalBoolean(3, default: false)).add(1))
        },
        extremum("max", isMax: true),
        extremum("min", isMax: false),
    ]

    // MARK: Products

    static let products: [TensorFunction] = [
        TensorFunction("matmul", "a:matmul(b) -> matrix product (1-d, 2-d, or batched with broadcasting, as torch.matmul)") { lua, t in
            lua.result(try t.matmul(try lua.tensor(2)))
        },
        TensorFunction("mm", "a:mm(b) -> product of two matrices") { lua, t in lua.result(try t.matmul(try lua.tensor(2))) },
        TensorFunction("bmm", "a:bmm(b) -> batched product of [B,n,m] and [B,m,p]") { lua, t in
            lua.result(try t.bmm(try lua.tensor(2)))
        },
        TensorFunction("outer", "a:outer(b) -> outer product of two vectors") { lua, t in lua.result(try t.outer(try lua.tensor(2))) },
        TensorFunction("dot", "a:dot(b) -> inner product of two vectors") { lua, t in lua.result(try t.dot(try lua.tensor(2))) },
    ]
}
