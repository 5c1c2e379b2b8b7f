import CLua
import CSupport
import Tensors

/// `mpm.linalg`: eigh, svd and cdist on LAPACK/BLAS (Tensors' LinearAlgebra).
enum LinalgLibrary {
    static func register(_ lua: LuaState, in mpm: Int32) {
        lua.newTable()
        let linalg = lua.top
        lua.register("eigh", in: linalg, doc: """
            mpm.linalg.eigh(a) -> values [n] (ascending), vectors [n, n] (column j for value j)
            Eigendecomposition of a symmetric float32 matrix (LAPACK ssyevd; the lower triangle is read).
            Example: local w, v = mpm.linalg.eigh(x:t():matmul(x) / x:size(1))
            """) { lua in
            let (w, v) = try LinearAlgebra.eigh(try lua.tensor(1))
            lua.push(w); lua.push(v)
            return 2
        }
        lua.register("svd", in: linalg, doc: """
            mpm.linalg.svd(a) -> U [m, k], S [k] (descending), Vt [k, n]: the thin SVD, k = min(m, n) (LAPACK sgesdd).
            Example: local u, s, vt = mpm.linalg.svd(emb - emb:mean(1))
            """) { lua in
            let (u, s, vt) = try LinearAlgebra.svd(try lua.tensor(1))
            lua.push(u); lua.push(s); lua.push(vt)
            return 3
        }
        lua.register("cdist", in: linalg, doc: """
            mpm.linalg.cdist(a, b [, {metric="euclidean" | "cosine"}]) -> [n, m] pairwise distances between
            the rows of a [n, d] and b [m, d] (one matmul plus norms, clamped at 0).
            Example: local d = mpm.linalg.cdist(emb, emb, {metric = "cosine"})
            """) { lua in
            let a = try lua.tensor(1), b = try lua.tensor(2)
            var metric = LinearAlgebra.Metric.euclidean
            if !lua.isNoneOrNil(3) {
                try lua.checkTable(3)
                try lua.checkOptions(3, allowed: ["metric"], function: "mpm.linalg.cdist")
                if let name = try lua.option(3, "metric", { try lua.string($0) }) {
                    guard let m = LinearAlgebra.Metric(rawValue: name) else {
                        throw LuaError.argument(3, "mpm.linalg.cdist: unknown metric '\(name)' (expected euclidean or cosine)")
                    }
                    metric = m
                }
            }
            lua.push(try LinearAlgebra.cdist(a, b, metric: metric))
            return 1
        }
        lua.setRawField(mpm, "linalg")
    }
}
