import CLua
import DistributedJob
import Tensors

/// `mpm.distributed`: data-parallel collectives over MPI (docs/distributed.md). The API is
/// `Distributed` (target DistributedJob); this converts arguments and errors.
enum DistributedLibrary {
    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let table = lua.top
        lua.register("rank", in: table, doc: """
            mpm.distributed.rank() -> integer
            This process's rank in the MPI job, 0-based (0 without mpirun).
            """) { lua in
            try call { try Distributed.startIfLaunched() }
            lua.push(Distributed.rank)
            return 1
        }
        lua.register("size", in: table, doc: """
            mpm.distributed.size() -> integer
            The number of ranks in the job (1 without mpirun: every collective is then an identity).
            """) { lua in
            try call { try Distributed.startIfLaunched() }
            lua.push(Distributed.size)
            return 1
        }
        lua.register("is_main", in: table, doc: """
            mpm.distributed.is_main() -> boolean
            true on rank 0, the rank that prints and writes a run's files.
            """) { lua in
            try call { try Distributed.startIfLaunched() }
            lua.push(Distributed.rank == 0)
            return 1
        }
        lua.register("launched", in: table, doc: """
            mpm.distributed.launched() -> boolean
            true when mpirun or srun started this process (MPI is then in use, even with one rank).
            """) { lua in
            lua.push(Distributed.launched)
            return 1
        }
        lua.register("barrier", in: table, doc: """
            mpm.distributed.barrier()
            Waits until every rank has called it.
            """) { _ in
            try call { try Distributed.barrier() }
            return 0
        }
        lua.register("allreduce_", in: table, doc: """
            mpm.distributed.allreduce_(tensor or {tensors} [, op]) -> the same argument
            Reduces in place across ranks: op "sum" (default), "mean" (float32) or "max". A list
            travels as one flat buffer (one MPI call). Ranks passing different shapes, dtypes or
            ops all fail with the same message instead of hanging.
            """) { lua in
            let tensors = try tensorList(lua, 1, "allreduce_")
            let op = try lua.optionalString(2) ?? "sum"
            try call { try Distributed.allreduce(tensors, op: op) }
            lua.setTop(1)
            return 1
        }
        lua.register("broadcast_", in: table, doc: """
            mpm.distributed.broadcast_(tensor or {tensors} [, root = 0]) -> the same argument
            Copies root's values into the tensors of every rank, in place.
            """) { lua in
            let tensors = try tensorList(lua, 1, "broadcast_")
            let root = try lua.optionalInteger(2, default: 0)
            try call { try Distributed.broadcast(tensors, root: root) }
            lua.setTop(1)
            return 1
        }
        lua.register("allgather", in: table, doc: """
            mpm.distributed.allgather(tensor) -> tensor [size, ...shape]
            Every rank's tensor (all of one shape and dtype), in rank order along a new first dim.
            """) { lua in
            let tensor = try lua.tensor(1)
            lua.push(try call { try Distributed.allgather(tensor) })
            return 1
        }
        lua.setRawField(mpm, "distributed")
    }

    /// Runs a Distributed call with its errors as Lua's: an argument at fault as "bad argument #n".
    static func call<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as DistributedError {
            if let position = e.argument { throw LuaError.argument(Int32(position), e.message) }
            throw LuaError.message(e.message)
        }
    }

    /// A tensor, or a list of tensors, at `index`.
    static func tensorList(_ lua: LuaState, _ index: Int32, _ name: String) throws -> [Tensor] {
        if lua.type(index) != LUA_TTABLE { return [try lua.tensor(index)] }
        var tensors: [Tensor] = []
        let count = lua.rawLength(index)
        for i in stride(from: 1, through: count, by: 1) {
            lua.rawIndex(index, i)
            defer { lua.pop() }
            guard let t = try? lua.tensor(-1) else {
                throw LuaError.argument(index, "item \(i) of the list is a \(lua.typeName(-1)), not a tensor")
            }
            tensors.append(t)
        }
        return tensors
    }
}
