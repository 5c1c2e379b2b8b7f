import CLua
import CSupport
import Tensors

/// Views that share storage, and reshaping. Dims are 1-based (negative from the end).
enum TensorViews {
    static let functions: [TensorFunction] = [
        TensorFunction("view", "t:view(size...) -> a view with a new shape (one size may be -1); needs a contiguous t", function: false) { lua, t in
            lua.result(try t.view(try lua.shape(from: 2).shape))
        },
        TensorFunction("reshape", "t:reshape(size...) -> a view if possible, else a copy: x:reshape(4, -1)") { lua, t in
            lua.result(try t.reshape(try lua.shape(from: 2).shape))
        },
        TensorFunction("view_as", "t:view_as(other) -> t viewed with other's shape", function: false) { lua, t in
            lua.result(try t.view(try lua.tensor(2).shape))
        },
        TensorFunction("transpose", "t:transpose(dim1, dim2) -> a view with two dims swapped") { lua, t in
            lua.result(try t.transpose(try lua.dim(2), try lua.dim(3)))
        },
        TensorFunction("t", "t:t() -> the transpose of a matrix (view)") { lua, t in lua.result(try t.t()) },
        TensorFunction("permute", "t:permute(dims...) -> a view with dims reordered: x:permute(2, 1, 3)") { lua, t in
            let dims = try lua.shape(from: 2).shape.enumerated().map { try LuaState.swiftDim($1, argument: Int32($0) + 2) }
            return lua.result(try t.permute(dims))
        },
        TensorFunction("narrow", "t:narrow(dim, start, length) -> a view of elements start .. start+length-1 (1-based) along dim") { lua, t in
            let start = try lua.integer(3)
            guard start != 0 else { throw LuaError.argument(3, "start 0 is invalid: indices count from 1 (or from -1 at the end)") }
            return lua.result(try t.narrow(try lua.dim(2), start: start > 0 ? start - 1 : start, length: try lua.integer(4)))
        },
        TensorFunction("select", "t:select(dim, index) -> a view of one slice along dim (1-based; dim removed)") { lua, t in
            lua.result(try t.select(try lua.dim(2), try lua.integer(3), indexBase: 1))
        },
        TensorFunction("squeeze", "t:squeeze([dim]) -> a view without size-1 dims (or only dim)") { lua, t in
            lua.result(try t.squeeze(try lua.optionalDim(2)))
        },
        TensorFunction("unsqueeze", "t:unsqueeze(dim) -> a view with a size-1 dim inserted at dim") { lua, t in
            // Inserting admits one more position than the tensor has dims (-1 is after the last).
            let value = try lua.integer(2)
            guard value != 0 else { throw LuaError.argument(2, "dim 0 is invalid: dims count from 1 (or from -1 at the end)") }
            return lua.result(try t.unsqueeze(value > 0 ? value - 1 : value + t.dim + 1))
        },
        TensorFunction("expand", "t:expand(size...) -> a broadcast view (-1 keeps a size)", function: false) { lua, t in
            lua.result(try t.expand(try lua.shape(from: 2).shape))
        },
        TensorFunction("expand_as", "t:expand_as(other) -> t broadcast to other's shape", function: false) { lua, t in
            lua.result(try t.expandAs(try lua.tensor(2)))
        },
        TensorFunction("flatten", "t:flatten([start_dim=1 [, end_dim=-1]]) -> dims start..end merged into one") { lua, t in
            let start = try lua.isNoneOrNil(2) ? 0 : lua.dim(2)
            let end = try lua.isNoneOrNil(3) ? -1 : lua.dim(3)
            return lua.result(try t.flatten(start, end))
        },
    ]
}
