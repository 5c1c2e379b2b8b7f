import CMPISupport
import Foundation
import Tensors

/// A failed distributed call, in the caller's terms. `argument` is the position (1 = first) of
/// the argument at fault, as mpm.distributed reports it ("bad argument #2 to 'broadcast_'");
/// nil for a failure of the job itself (MPI, ranks that disagree).
///
/// ```swift
/// do { try Distributed.allreduce([grad], op: "median") } catch let e as DistributedError { print(e.argument!, e.message) }
/// ```
public struct DistributedError: Error, CustomStringConvertible, Equatable {
    public let argument: Int?
    public let message: String
    public init(argument: Int? = nil, _ message: String) {
        self.argument = argument
        self.message = message
    }
    public var description: String { argument.map { "argument \($0): \(message)" } ?? message }
}

/// The process's place in an MPI job (`mpirun -n K mpmlua script.lua`, `srun`). MPI starts only
/// when the launcher's environment is there (Open MPI's OMPI_COMM_WORLD_SIZE, PMIx's PMIX_RANK,
/// PMI's PMI_RANK): a plain `mpmlua` never calls MPI_Init and is rank 0 of 1, every collective
/// an identity. Ranks are MPI's, 0-based (rank 0 is the one that writes).
public enum Distributed {
    nonisolated(unsafe) public private(set) static var started = false
    nonisolated(unsafe) public private(set) static var rank = 0
    nonisolated(unsafe) public private(set) static var size = 1

    /// True when a launcher started this process as part of a job.
    public static var launched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// Starts MPI when launched by mpirun or srun (once; MPI_Finalize is registered at exit).
    public static func startIfLaunched() throws {
        guard !started, launched else { return }
        try check(mpm_mpi_init(), "MPI_Init")
        var r: Int32 = 0, s: Int32 = 1
        try check(mpm_mpi_rank(&r), "MPI_Comm_rank")
        try check(mpm_mpi_size(&s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
        started = true
        atexit { _ = mpm_mpi_finalize() }
    }

    /// How long a failed rank waits for the others to fail too before it ends the job alone.
    static let failureGraceSeconds = 3.0

    /// Ends this process, and the job with it, after this rank failed with `message`, which
    /// `write(label, message)` prints (label "" or "rank N: "); a process outside a job just
    /// prints and exits with `code`. In a job one rank reports: when every rank fails within
    /// a few seconds (the same user error everywhere: a bad option, a missing file), rank 0
    /// prints its message and another rank only a different one; when some rank goes on (it
    /// would wait in a collective for this one), this rank prints with its label. Then MPI_Abort
    /// ends every rank, its Open MPI banner silenced (mpm_mpi_init), and mpirun exits with `code`.
    /// (Ranks that all finalize and exit non-zero make mpirun print two banners of its own.)
    ///
    /// ```swift
    /// Distributed.fail(message: "--data: no such file x.h5") { print("mpmlua: \($0)\($1)") }
    /// ```
    public static func fail(message: String, code: Int32 = 1, write: (_ label: String, _ message: String) -> Void) -> Never {
        guard started, size > 1, mpm_mpi_active() != 0 else {
            write("", message)
            exit(code)
        }
        var digests = [Int64](repeating: 0, count: size)
        let everyRankFailed = mpm_mpi_failure_vote(digest(message), failureGraceSeconds, &digests) == 1
        let label = rank == 0 ? "" : "rank \(rank): "
        if !everyRankFailed || rank == 0 || digests[rank] != digests[0] { write(label, message) }
        if everyRankFailed { mpm_mpi_failure_barrier() }  // every report is out before the abort
        mpm_mpi_abort(code)
        exit(code)
    }

    /// FNV-1a of the text: equal messages on two ranks give equal digests.
    static func digest(_ text: String) -> Int64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return Int64(bitPattern: hash)
    }

    static func check(_ code: Int32, _ what: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        mpm_mpi_error_string(code, &text, Int32(text.count))
        throw DistributedError("distributed: \(what) failed: \(String(cString: text))")
    }

    // MARK: Collectives (each starts with the same header allreduce, see `agree`)

    enum Kind: Int64 { case barrier = 1, allreduce, broadcast, allgather }

    /// Every collective first reduces a small header (operation, dtype, element count, number
    /// of tensors, a hash of the shapes, an argument such as the root) with MAX over the values
    /// and their negatives: ranks that disagree see max != min and all throw the same message,
    /// where a mismatched MPI call would hang or corrupt memory.
    static func agree(_ name: String, _ kind: Kind, _ tensors: [Tensor], argument: Int64) throws {
        var hash: Int64 = 1469598103934665603 & 0xFFFFFFFFFFFFF
        for t in tensors {
            for d in [t.shape.count] + t.shape { hash = ((hash &* 1099511628211) ^ Int64(d)) & 0xFFFFFFFFFFFFF }
        }
        let numel = Int64(tensors.reduce(0) { $0 + $1.numel })
        let dtype = Int64(tensors.first.map { DType.allCases.firstIndex(of: $0.dtype)! } ?? -1)
        let header: [Int64] = [kind.rawValue, dtype, numel, Int64(tensors.count), hash, argument]
        var buffer = header + header.map { -$0 }
        try check(mpm_mpi_allreduce(&buffer, Int32(buffer.count), Int32(MPM_MPI_INT64), Int32(MPM_MPI_MAX)), "\(name) (header)")
        let n = header.count
        let high = Array(buffer[0..<n]), low = buffer[n...].map { -$0 }
        guard high != low else { return }
        let names = ["", "barrier", "allreduce_", "broadcast_", "allgather"]
        let mine = tensors.map { "\(formatShape($0.shape)) \($0.dtype.name)" }.joined(separator: ", ")
        var why: [String] = []
        if high[0] != low[0] { why.append("different operations (\(names[Int(low[0])]) and \(names[Int(high[0])]))") }
        else if high[1] != low[1] { why.append("different dtypes") }
        else if high[2] != low[2] { why.append("element counts from \(low[2]) to \(high[2])") }
        else if high[3] != low[3] || high[4] != low[4] { why.append("different shapes") }
        if high[5] != low[5] && high[0] == low[0] { why.append(kind == .broadcast ? "different roots" : "different ops") }
        throw DistributedError("distributed.\(name): the ranks disagree (\(why.joined(separator: ", "))); rank \(rank) has \(mine.isEmpty ? "nothing" : mine)")
    }

    static func byteCount(_ name: String, _ count: Int, _ dtype: DType) throws -> Int32 {
        let bytes = count * dtype.byteSize
        guard bytes <= Int(Int32.max) else {
            throw DistributedError("distributed.\(name): \(bytes) bytes is more than one MPI call carries (2^31 - 1)")
        }
        return Int32(bytes)
    }

    /// The tensors' elements one after the other in a fresh flat buffer.
    static func pack<T: TensorElement>(_ tensors: [Tensor], _ type: T.Type) throws -> Tensor {
        let total = tensors.reduce(0) { $0 + $1.numel }
        return try Tensor.make([total], T.self) { p, _ in
            var at = 0
            for t in tensors {
                t.withElements(as: T.self) { src in
                    if src.count > 0 { (p + at).update(from: src.baseAddress!, count: src.count) }
                }
                at += t.numel
            }
        }
    }

    /// Writes the flat buffer back into the tensors, in place (outside autograd).
    static func unpack<T: TensorElement>(_ flat: Tensor, into tensors: [Tensor], _ type: T.Type) throws {
        let p = flat.elementPointer(as: T.self)
        var at = 0
        for t in tensors {
            let n = t.numel
            if t.isContiguous && t.dtype == T.dtype {
                if n > 0 { t.elementPointer(as: T.self).update(from: p + at, count: n) }
            } else {
                let part = try Tensor.make(t.shape, T.self) { q, count in if count > 0 { q.update(from: p + at, count: count) } }
                try withNoGrad { _ = try t.copy_(part) }
            }
            at += n
        }
    }

    static func withFlat(_ tensors: [Tensor], _ dtype: DType, _ body: (Tensor) throws -> Void) throws {
        switch dtype {
        case .f32: let f = try pack(tensors, Float.self); try body(f); try unpack(f, into: tensors, Float.self)
        case .i64: let f = try pack(tensors, Int64.self); try body(f); try unpack(f, into: tensors, Int64.self)
        case .bool: let f = try pack(tensors, Bool.self); try body(f); try unpack(f, into: tensors, Bool.self)
        }
    }

    static func rawPointer(_ flat: Tensor) -> UnsafeMutableRawPointer {
        switch flat.dtype {
        case .f32: return UnsafeMutableRawPointer(flat.elementPointer(as: Float.self))
        case .i64: return UnsafeMutableRawPointer(flat.elementPointer(as: Int64.self))
        case .bool: return UnsafeMutableRawPointer(flat.elementPointer(as: Bool.self))
        }
    }

    static func sameDtype(_ name: String, _ tensors: [Tensor]) throws -> DType {
        guard let dtype = tensors.first?.dtype else { throw DistributedError(argument: 1, "a tensor or a non-empty list of tensors expected") }
        if let other = tensors.first(where: { $0.dtype != dtype }) {
            throw DistributedError(argument: 1, "the tensors of one call must share a dtype (\(dtype.name) and \(other.dtype.name))")
        }
        return dtype
    }

    public static func barrier() throws {
        try startIfLaunched()
        guard started else { return }
        try agree("barrier", .barrier, [], argument: 0)
        try check(mpm_mpi_barrier(), "barrier")
    }

    /// Reduces the tensors in place across ranks ("sum", "mean" or "max"), through one flat buffer.
    public static func allreduce(_ tensors: [Tensor], op: String) throws {
        try startIfLaunched()
        let dtype = try sameDtype("allreduce_", tensors)
        let ops = ["sum": Int32(MPM_MPI_SUM), "mean": Int32(MPM_MPI_SUM), "max": Int32(MPM_MPI_MAX)]
        guard let code = ops[op] else { throw DistributedError(argument: 2, "op must be \"sum\", \"mean\" or \"max\", got \"\(op)\"") }
        if dtype == .bool { throw DistributedError(argument: 1, "bool tensors are not reduced; convert to int64 or float32 first") }
        if op == "mean" && dtype != .f32 { throw DistributedError(argument: 1, "op \"mean\" needs float32 tensors, got \(dtype.name)") }
        let total = tensors.reduce(0) { $0 + $1.numel }
        _ = try byteCount("allreduce_", total, dtype)
        guard started else { return }
        try agree("allreduce_", .allreduce, tensors, argument: op == "max" ? 2 : op == "mean" ? 1 : 0)
        guard size > 1, total > 0 else { return }
        try withFlat(tensors, dtype) { flat in
            let kind = dtype == .f32 ? Int32(MPM_MPI_FLOAT) : Int32(MPM_MPI_INT64)
            try check(mpm_mpi_allreduce(rawPointer(flat), Int32(total), kind, code), "allreduce_")
            if op == "mean" {
                let p = flat.elementPointer(as: Float.self), scale = 1 / Float(size)
                for i in 0..<total { p[i] *= scale }
            }
        }
    }

    /// Replaces the tensors on every rank by root's, in place.
    public static func broadcast(_ tensors: [Tensor], root: Int) throws {
        try startIfLaunched()
        let dtype = try sameDtype("broadcast_", tensors)
        guard root >= 0 && root < size else { throw DistributedError(argument: 2, "root must be a rank from 0 to \(size - 1), got \(root)") }
        let total = tensors.reduce(0) { $0 + $1.numel }
        let bytes = try byteCount("broadcast_", total, dtype)
        guard started else { return }
        try agree("broadcast_", .broadcast, tensors, argument: Int64(root))
        guard size > 1, total > 0 else { return }
        try withFlat(tensors, dtype) { flat in
            try check(mpm_mpi_broadcast(rawPointer(flat), bytes, Int32(root)), "broadcast_")
        }
    }

    /// Every rank's tensor stacked along a new first dimension: [size, ...shape].
    public static func allgather(_ tensor: Tensor) throws -> Tensor {
        try startIfLaunched()
        let bytes = try byteCount("allgather", tensor.numel * size, tensor.dtype)
        let mine = tensor.detach().contiguous()
        if started { try agree("allgather", .allgather, [mine], argument: 0) }
        let out = try Tensor.empty([size] + tensor.shape, dtype: tensor.dtype)
        if size == 1 || tensor.numel == 0 {
            try withNoGrad { _ = try out.copy_(try mine.reshape([size] + tensor.shape)) }
            return out
        }
        try check(mpm_mpi_allgather(rawPointer(mine), bytes / Int32(size), rawPointer(out)), "allgather")
        return out
    }
}
