import CLua
import CSupport
import Tensors

/// An error on its way back to Lua. Swift code throws it; the C trampoline raises it in Lua
/// after every Swift frame has returned.
public enum LuaError: Error, CustomStringConvertible {
    /// `bad argument #position to 'name' (message)`; the name comes from Lua's call info.
    case argument(Int32, String)
    /// A plain message; Lua prefixes the caller's `file:line:`.
    case message(String)
    /// A Lua value already stored by `mpm_error_store_value` (an error raised by a Lua callback
    /// that must reach the calling Lua code unchanged, tables included).
    case luaValue(String)

    public var description: String {
        switch self {
        case .argument(let position, let text): return "bad argument #\(position) (\(text))"
        case .message(let text), .luaValue(let text): return text
        }
    }
}

/// Converts any error thrown by a Swift implementation into the trampoline's status code.
func recordError(_ error: Error) -> Int32 {
    switch error {
    case LuaError.argument(let position, let text):
        mpm_error_set(text, position)
        return Int32(MPM_ERROR_ARGUMENT)
    case LuaError.luaValue:
        return Int32(MPM_ERROR_VALUE)
    case LuaError.message(let text):
        mpm_error_set(text, 0)
        return Int32(MPM_ERROR_MESSAGE)
    case let tensorError as TensorError:
        // Dims and positions quoted by the core are shown the way Lua counts them.
        mpm_error_set(tensorError.message(base: .one), 0)
        return Int32(MPM_ERROR_MESSAGE)
    case let described as CustomStringConvertible:
        mpm_error_set(described.description, 0)
        return Int32(MPM_ERROR_MESSAGE)
    default:
        mpm_error_set("\(error)", 0)
        return Int32(MPM_ERROR_MESSAGE)
    }
}
