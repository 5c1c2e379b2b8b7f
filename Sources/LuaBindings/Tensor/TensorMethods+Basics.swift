import CLua
import CSupport
import Tensors

/// Sizes, element access, conversion, copies and autograd entry points.
enum TensorBasics {
    static let functions: [TensorFunction] = [
        TensorFunction("shape", "t:shape() -> table: the sizes, e.g. {2, 3}", function: false) { lua, t in
            lua.push(integers: t.shape)
            return 1
        },
        TensorFunction("size", "t:size([dim]) -> size of dim, or the shape table", function: false) { lua, t in
            guard !lua.isNoneOrNil(2) else {
                lua.push(integers: t.shape)
                return 1
            }
            let dim = try lua.dim(2)
            let resolved = dim < 0 ? dim + t.dim : dim
            guard resolved >= 0 && resolved < t.dim else {
                throw LuaError.argument(2, "dim \(try lua.integer(2)) out of range for a \(t.dim)-d tensor")
            }
            lua.push(t.shape[resolved])
            return 1
        },
        TensorFunction("dim", "t:dim() -> number of dimensions", function: false) { lua, t in
            lua.push(t.dim); return 1
        },
        TensorFunction("numel", "t:numel() -> number of elements") { lua, t in
            lua.push(t.numel); return 1
        },
        TensorFunction("dtype", "t:dtype() -> 'float32', 'int64' or 'bool'", function: false) { lua, t in
            lua.push(t.dtype.rawValue); return 1
        },
        TensorFunction("is_contiguous", "t:is_contiguous() -> boolean", function: false) { lua, t in
            lua.push(t.isContiguous); return 1
        },
        TensorFunction("item", "t:item() -> number (or integer, boolean) of a one-element tensor", function: false) { lua, t in
            switch t.dtype {
            case .f32: lua.push(try t.item())
            case .i64: lua.push(Int(try t.itemInt()))
            case .bool: lua.push(try t.item() != 0)
            }
            return 1
        },
        TensorFunction("tolist", "t:tolist() -> nested tables of the values", function: false) { lua, t in
            try TensorLiteral.push(lua, t)
            return 1
        },
        TensorFunction("to", "t:to(dtype) -> tensor converted to 'float32', 'int64' or 'bool'", function: false) { lua, t in
            lua.result(t.to(try lua.dtype(2)))
        },
        TensorFunction("float", "t:float() -> float32 tensor", function: false) { lua, t in lua.result(t.to(.f32)) },
        TensorFunction("long", "t:long() -> int64 tensor", function: false) { lua, t in lua.result(t.to(.i64)) },
        TensorFunction("bool", "t:bool() -> bool tensor", function: false) { lua, t in lua.result(t.to(.bool)) },
        TensorFunction("clone", "t:clone() -> a copy (differentiable)") { lua, t in lua.result(try t.clone()) },
        TensorFunction("contiguous", "t:contiguous() -> t itself if contiguous, else a contiguous copy", function: false) { lua, t in
            lua.result(t.contiguous())
        },
        TensorFunction("copy_", "t:copy_(src) -> t: copies src (broadcast) into t", function: false) { lua, t in
            lua.result(try t.copy_(try lua.tensor(2)))
        },
        TensorFunction("fill_", "t:fill_(value) -> t: sets every element", function: false) { lua, t in
            lua.result(try t.fill_(try lua.number(2)))
        },
        TensorFunction("zero_", "t:zero_() -> t: sets every element to 0", function: false) { lua, t in
            lua.result(try t.fill_(0))
        },

        // MARK: Autograd
        TensorFunction("backward", """
            t:backward([gradient] [, {retain_graph=false}])
            Accumulates gradients of t into the .grad of every leaf that requires grad. A scalar
            t needs no gradient; otherwise pass one shaped like t.
            """, function: false) { lua, t in
            let optionsIndex: Int32 = lua.isOptionsTable(2) ? 2 : 3
            let gradient = optionsIndex == 3 ? try lua.optionalTensor(2) : nil
            try lua.checkOptions(optionsIndex, allowed: ["retain_graph"], function: "backward")
            let retain = try lua.option(optionsIndex, "retain_graph", lua.boolean) ?? false
            // A Lua autograd.Function's backward calls back on this thread.
            try LuaStateContext.calling(lua) { try t.backward(gradient: gradient, retainGraph: retain) }
            return 0
        },
        TensorFunction("detach", "t:detach() -> the same values, cut from the graph (shares storage)") { lua, t in
            lua.result(t.detach())
        },
        TensorFunction("requires_grad_", "t:requires_grad_([flag=true]) -> t: starts (or stops) recording operations", function: false) { lua, t in
            lua.result(try t.requiresGrad_(try lua.optionalBoolean(2, default: true)))
        },
    ]
}
