import CLua
import CSupport
import Tensors

/// `mpm.linalg`: LAPACK decompositions of small dense matrices (Sources/Tensors/Linalg.swift).
/// lua/mpm/linalg.lua adds pairwise distances on top of matmul.
enum LinalgBinding {
    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let table = lua.top
        lua.register("eigh", in: table, doc: """
            mpm.linalg.eigh(a) -> values [n], vectors [n, n]
            Eigenvalues (ascending) and eigenvectors (column k for value k) of a symmetric float32
            matrix [n, n], by LAPACK dsyevd in double precision (numpy.linalg.eigh). Only the
            lower triangle is read.
              local w, v = mpm.linalg.eigh(mpm.tensor{{2, 1}, {1, 2}})   -- w = {1, 3}
            """) { lua in
            let (w, v) = try Linalg.eigh(try float(lua, 1))
            lua.push(w)
            lua.push(v)
            return 2
        }
        lua.register("svd", in: table, doc: """
            mpm.linalg.svd(a) -> U [m, k], S [k], Vt [k, n]
            The thin singular value decomposition a = U diag(S) Vt of a float32 matrix [m, n],
            k = min(m, n), S descending, by LAPACK dgesdd in double precision
            (numpy.linalg.svd(a, full_matrices=False)).
              local U, S, Vt = mpm.linalg.svd(mpm.randn(5, 3))
            """) { lua in
            let (u, s, vt) = try Linalg.svd(try float(lua, 1))
            lua.push(u)
            lua.push(s)
            lua.push(vt)
            return 3
        }
        lua.setRawField(mpm, "linalg")
    }

    /// The matrix argument as float32 (integer matrices are converted).
    static func float(_ lua: LuaState, _ index: Int32) throws -> Tensor {
        let t = try lua.tensor(index)
        return t.dtype == .f32 ? t : t.to(.f32)
    }
}
