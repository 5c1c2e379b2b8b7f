import CLua
import CSupport
import Tensors

/// Index-based ops (1-based index tensors, no copy: the core reads them with indexBase 1),
/// sorting, splitting, and segment ops over packed sets.
///
/// Offsets are cumulative counts starting at 0 (`{0, 3, 5}`: set 1 owns rows 1..3, set 2 rows
/// 4..5), not indices, so they are the same in Lua and in files.
enum TensorIndexing {
    static var functions: [TensorFunction] { gathering + sorting + splitting + segments }

    static let gathering: [TensorFunction] = [
        TensorFunction("index_select", "t:index_select(dim, index) -> rows of t along dim picked by a 1-based int64 index") { lua, t in
            lua.result(try t.indexSelect(try lua.dim(2), index: try lua.tensor(3), indexBase: 1))
        },
        TensorFunction("gather", "t:gather(dim, index) -> out[i][j] = t[i][index[i][j]] for dim 2 (1-based, as torch.gather)") { lua, t in
            lua.result(try t.gather(try lua.dim(2), index: try lua.tensor(3), indexBase: 1))
        },
        TensorFunction("scatter", "t:scatter(dim, index, src) -> copy of t with src (tensor or number) written at 1-based index") { lua, t in
            let dim = try lua.dim(2), index = try lua.tensor(3)
            switch try lua.operand(4) {
            case .tensor(let src): return lua.result(try t.scatter(dim, index: index, src: src, indexBase: 1))
            case .number(let value): return lua.result(try t.scatter(dim, index: index, value: value, indexBase: 1))
            }
        },
        TensorFunction("scatter_add", "t:scatter_add(dim, index, src) -> copy of t with src added at 1-based index") { lua, t in
            lua.result(try t.scatterAdd(try lua.dim(2), index: try lua.tensor(3), src: try lua.tensor(4), indexBase: 1))
        },
        TensorFunction("index_add", "t:index_add(dim, index, source [, alpha=1]) -> copy of t with alpha*source rows added at index") { lua, t in
            lua.result(try t.indexAdd(try lua.dim(2), index: try lua.tensor(3), source: try lua.tensor(4),
                                      alpha: try lua.optionalNumber(5, default: 1), indexBase: 1))
        },
        TensorFunction("masked_select", "t:masked_select(mask) -> 1-d tensor of the elements where mask is true") { lua, t in
            lua.result(try t.maskedSelect(try lua.tensor(2)))
        },
        TensorFunction("nonzero", "t:nonzero() -> [n, t:dim()] int64 tensor of the 1-based positions of nonzero elements") { lua, t in
            lua.result(try t.nonzero().add(1))
        },
        TensorFunction("one_hot", "labels:one_hot([num_classes]) -> int64 [.., num_classes]; labels are 1-based") { lua, t in
            lua.result(try t.oneHot(numClasses: try lua.optionalInteger(2, default: -1), indexBase: 1))
        },
    ]

    static let sorting: [TensorFunction] = [
        TensorFunction("sort", "t:sort([dim=-1 [, descending=false]]) -> values, indices (1-based; stable)") { lua, t in
            let (values, indices) = try t.sort(dim: try lua.optionalDim(2) ?? -1, descending: try lua.optionalBoolean(3, default: false))
            lua.push(values)
            lua.push(try indices.add(1))
            return 2
        },
        TensorFunction("argsort", "t:argsort([dim=-1 [, descending=false]]) -> 1-based indices that sort t") { lua, t in
            lua.result(try t.argsort(dim: try lua.optionalDim(2) ?? -1, descending: try lua.optionalBoolean(3, default: false)).add(1))
        },
        TensorFunction("topk", "t:topk(k [, dim=-1 [, largest=true]]) -> values, indices (1-based) of the k largest") { lua, t in
            let (values, indices) = try t.topk(try lua.integer(2), dim: try lua.optionalDim(3) ?? -1,
                                               largest: try lua.optionalBoolean(4, default: true))
            lua.push(values)
            lua.push(try indices.add(1))
            return 2
        },
        TensorFunction("unique", "t:unique() -> sorted unique values, inverse (1-based positions in them), counts") { lua, t in
            let (values, inverse, counts) = try t.unique(returnInverse: true, returnCounts: true)
            lua.push(values)
            if let inverse { lua.push(try inverse.add(1)) } else { lua.pushNil() }
            if let counts { lua.push(counts) } else { lua.pushNil() }
            return 3
        },
    ]

    static let splitting: [TensorFunction] = [
        TensorFunction("split", "t:split(size_or_sizes [, dim=1]) -> list of views: chunks of size, or of the given sizes") { lua, t in
            let dim = try lua.optionalDim(3) ?? 0
            if lua.type(2) == LUA_TTABLE {
                lua.push(try t.split(sizes: try lua.integers(inTable: 2, what: "sizes"), dim: dim))
            } else {
                lua.push(try t.split(try lua.integer(2), dim: dim))
            }
            return 1
        },
        TensorFunction("chunk", "t:chunk(n [, dim=1]) -> list of n (or fewer) views of equal size") { lua, t in
            lua.push(try t.chunk(try lua.integer(2), dim: try lua.optionalDim(3) ?? 0))
            return 1
        },
    ]

    static let segments: [TensorFunction] = [
        TensorFunction("segment_sum", "x:segment_sum(offsets) -> [B, ...] sums of the rows of each set of a packed [T, ...] x") { lua, t in
            lua.result(try t.segmentSum(offsets: try lua.tensor(2)))
        },
        TensorFunction("segment_mean", "x:segment_mean(offsets) -> [B, ...] means over each set") { lua, t in
            lua.result(try t.segmentMean(offsets: try lua.tensor(2)))
        },
        TensorFunction("segment_max", "x:segment_max(offsets) -> [B, ...] maxima over each set") { lua, t in
            lua.result(try t.segmentMax(offsets: try lua.tensor(2)))
        },
        TensorFunction("segment_softmax", "x:segment_softmax(offsets) -> [T, ...] softmax over the rows of each set") { lua, t in
            lua.result(try t.segmentSoftmax(offsets: try lua.tensor(2)))
        },
        TensorFunction("segment_expand", "v:segment_expand(offsets) -> [T, ...]: row b of v repeated for each row of set b") { lua, t in
            lua.result(try t.segmentExpand(offsets: try lua.tensor(2)))
        },
        TensorFunction("pack", "padded:pack(mask) -> packed [T, F], offsets: the real rows of a padded [B, N, F] with mask [B, N]") { lua, t in
            let (packed, offsets) = try t.pack(mask: try lua.tensor(2))
            lua.push(packed)
            lua.push(offsets)
            return 2
        },
        TensorFunction("pair_abs_diff", """
            x:pair_abs_diff(offsets) -> d [P, H], pair_offsets [B+1]: |x_i - x_j| for every pair i < j of rows of
            the same set of a packed x [T, H] (no pair across sets; a set of n rows gives n(n-1)/2 pairs, set
            after set, upper triangle in row-major order: (1,2), (1,3), ..., (2,3), ...). A fused kernel with
            its backward (the gradient of |d| at 0 is 0); mpm.set_pairs gives the rows of each pair.
            """) { lua, t in
            let (d, pairOffsets) = try t.pairAbsDiff(offsets: try lua.tensor(2))
            lua.push(d)
            lua.push(pairOffsets)
            return 2
        },
        TensorFunction("set_pairs", """
            mpm.set_pairs(offsets) -> first [P], second [P], pair_offsets [B+1]: the rows (counting from 1) of
            every pair i < j inside each set of a packed batch, in the layout of x:pair_abs_diff; set b owns
            pairs pair_offsets[b]+1 .. pair_offsets[b+1]. E.g. same-vertex targets:
            ids:index_select(1, first):eq(ids:index_select(1, second)).
            """) { lua, t in
            let (first, second, pairOffsets) = try Tensor.setPairs(offsets: t, indexBase: .one)
            lua.push(first)
            lua.push(second)
            lua.push(pairOffsets)
            return 3
        },
        TensorFunction("unpack", "packed:unpack(offsets [, length]) -> padded [B, N, F], mask [B, N] (N = length or the longest set)") { lua, t in
            let length: Int? = lua.isNoneOrNil(3) ? nil : try lua.integer(3)
            let (padded, mask) = try t.unpack(offsets: try lua.tensor(2), length: length)
            lua.push(padded)
            lua.push(mask)
            return 2
        },
    ]

    /// `mpm.cat(list [, dim])` and `mpm.stack(list [, dim])`: functions of a list of tensors.
    static func registerJoining(_ lua: LuaState, in mpm: Int32) {
        lua.register("cat", in: mpm, doc: "mpm.cat(tensors [, dim=1]) -> the tensors joined along an existing dim") { lua in
            let tensors = try AutogradLibrary.tensors(lua, 1, what: "tensors")
            return lua.result(try Tensor.cat(tensors, dim: try lua.optionalDim(2) ?? 0))
        }
        lua.register("stack", in: mpm, doc: "mpm.stack(tensors [, dim=1]) -> the tensors joined along a new dim") { lua in
            let tensors = try AutogradLibrary.tensors(lua, 1, what: "tensors")
            let value = try lua.optionalInteger(2, default: 1)
            guard value != 0 else { throw LuaError.argument(2, "dim 0 is invalid: dims count from 1 (or from -1 at the end)") }
            let rank = (tensors.first?.dim ?? 0) + 1
            return lua.result(try Tensor.stack(tensors, dim: value > 0 ? value - 1 : value + rank))
        }
        lua.register("einsum", in: mpm, doc: """
            mpm.einsum(equation, a [, b, ...]) -> Einstein summation like torch.einsum; the tensors may also be \
            passed as one list. Explicit ('ij,jk->ik') or implicit ('ij,jk': letters seen once, sorted) output; \
            '...' stands for broadcast dims ('...ij,...jk->...ik'); no repeated letter within one operand. \
            Differentiable.
            Example: scores = mpm.einsum('bhid,bhjd->bhij', q, k)
            """) { lua in
            let equation = try lua.string(1)
            let tensors: [Tensor]
            if lua.top == 2 {
                tensors = try AutogradLibrary.tensors(lua, 2, what: "operands")
            } else {
                tensors = try (2...Swift.max(2, lua.top)).map { try lua.tensor(Int32($0)) }
            }
            return lua.result(try Tensor.einsum(equation, tensors))
        }
        lua.register("where", in: mpm, doc: "mpm.where(condition, a, b) -> a where condition is true, else b (tensors or numbers)") { lua in
            let condition = try lua.tensor(1)
            switch (try lua.operand(2), try lua.operand(3)) {
            case (.tensor(let a), .tensor(let b)): return lua.result(try Tensor.where(condition, a, b))
            case (.tensor(let a), .number(let b)): return lua.result(try Tensor.where(condition, a, b))
            case (.number(let a), .tensor(let b)): return lua.result(try Tensor.where(condition, a, b))
            case (.number(let a), .number(let b)):
                return lua.result(try Tensor.where(condition, try Tensor.full([], value: a), b))
            }
        }
    }
}
