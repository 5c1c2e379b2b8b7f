import CLua
import CSupport
import MPM
import Tensors

/// `mpm.kmeans.fit/assign`, `mpm.ode.integrate/logit_normal` and `mpm.rq_spline`.
enum KernelBindings {
    static func registerKMeans(_ lua: LuaState, in table: Int32) {
        lua.register("fit", in: table, doc: """
            mpm.kmeans.fit(x, {k=, iterations=20, init="kmeans++", seed=0, tolerance=1e-4}) -> centroids, info
            K-means of the rows of x [N, F] (BLAS nearest-centroid assignment, K up to 16384 and
            more). init "kmeans++" seeds on a subsample of 65536 rows, "random" picks K rows.
            Empty clusters move onto the farthest points. info = {inertia = {per iteration},
            iterations =, reseeded =}. The MPMv2 K-means task uses K = 16384 on the 7
            preprocessed features:  local c = mpm.kmeans.fit(x, {k = 512, seed = 1})
            """) { lua in
            let x = try lua.tensor(1)
            try lua.checkOptions(2, allowed: ["k", "iterations", "init", "seed", "tolerance"], function: "kmeans.fit")
            guard let k = try lua.option(2, "k", lua.integer) else { throw LuaError.argument(2, "kmeans.fit: option 'k' is required") }
            let initName = try lua.option(2, "init", lua.string) ?? "kmeans++"
            guard let initialisation = KMeans.Initialisation(rawValue: initName) else {
                throw LuaError.argument(2, "kmeans.fit: init must be 'kmeans++' or 'random', got '\(initName)'")
            }
            let r = try KMeans.fit(x, k: k, iterations: try lua.option(2, "iterations", lua.integer) ?? 20,
                                   initialisation: initialisation,
                                   seed: UInt64(bitPattern: Int64(try lua.option(2, "seed", lua.integer) ?? 0)),
                                   tolerance: try lua.option(2, "tolerance", lua.number) ?? 1e-4,
                                   shouldStop: { mpm_interrupt_pending() != 0 })
            lua.push(r.centroids)
            lua.newTable(hash: 3)
            lua.newTable(array: Int32(r.inertiaHistory.count))
            for (i, v) in r.inertiaHistory.enumerated() { lua.push(v); lua_rawseti(lua.state, -2, lua_Integer(i + 1)) }
            lua.setRawField(-2, "inertia")
            lua.push(r.iterations); lua.setRawField(-2, "iterations")
            lua.push(r.reseeded); lua.setRawField(-2, "reseeded")
            return 2
        }
        lua.register("assign", in: table, doc: """
            mpm.kmeans.assign(x, centroids) -> codes, distances
            The nearest centroid of every row of x (int64 [N], counting from 1) and its squared
            distance [N].
            """) { lua in
            let (codes, d2) = try KMeans.assign(try lua.tensor(1), centroids: try lua.tensor(2))
            lua.push(try codes.add(1))
            lua.push(d2)
            return 2
        }
    }

    static func registerODE(_ lua: LuaState, in table: Int32) {
        lua.register("integrate", in: table, doc: """
            mpm.ode.integrate(x, f, {from=1, to=0, steps=50, method="midpoint"}) -> x_end
            Fixed-step integration of dx/dt = f(x, t) (f returns a tensor shaped like x), with
            "euler" or "midpoint" steps, without recording gradients. Flow-matching samplers go
            from noise at t = 1 to data at t = 0; with the paper's velocity v = x - eps, f = -v.
            """) { lua in
            let x = try lua.tensor(1)
            try lua.checkFunction(2)
            try lua.checkOptions(3, allowed: ["from", "to", "steps", "method"], function: "ode.integrate")
            let methodName = try lua.option(3, "method", lua.string) ?? "midpoint"
            guard let method = ODESolver.Method(rawValue: methodName) else {
                throw LuaError.argument(3, "ode.integrate: method must be 'euler' or 'midpoint', got '\(methodName)'")
            }
            let r = try ODESolver.integrate(x, from: try lua.option(3, "from", lua.number) ?? 1, to: try lua.option(3, "to", lua.number) ?? 0,
                                        steps: try lua.option(3, "steps", lua.integer) ?? 50, method: method,
                                        shouldStop: { mpm_interrupt_pending() != 0 }) { state, t in
                    lua.pushValue(2)
                    lua.push(state)
                    lua.push(t)
                    try lua.protectedCall(arguments: 2, results: 1)
                    defer { lua.pop() }
                    guard let v = try tensorClass.test(lua, -1) else {
                        throw LuaError.message("ode.integrate: f must return a tensor, got \(lua.typeName(-1))")
                    }
                    return v
                }
            lua.push(r)
            return 1
        }
        lua.register("logit_normal", in: table, doc: """
            mpm.ode.logit_normal(n [, {mean=0, std=1, generator=}]) -> [n] times in (0, 1)
            t = sigmoid(mean + std * z), z ~ N(0, 1): the flow-matching time distribution of MPMv2.
            """) { lua in
            let n = try lua.integer(1)
            try lua.checkOptions(2, allowed: ["mean", "std", "generator"], function: "logit_normal")
            let g = try lua.option(2, "generator") { try TensorCreation.generatorClass.check(lua, $0) }
            lua.push(try LogitNormal.sample([n], mean: try lua.option(2, "mean", lua.number) ?? 0,
                                            std: try lua.option(2, "std", lua.number) ?? 1, generator: g))
            return 1
        }
    }

    static func registerSpline(_ lua: LuaState, in table: Int32) {
        lua.register("rq_spline", in: table, doc: """
            mpm.rq_spline(x, params [, {inverse=false, bins=8, tail_bound=4, min_bin_width=1e-3,
                          min_bin_height=1e-3, min_derivative=1e-3}]) -> y, logabsdet
            The rational-quadratic spline with linear tails of neural spline flows (nflows'
            unconstrained_rational_quadratic_spline). params has x's shape plus 3*bins-1: bins
            unnormalised widths, bins heights, bins-1 interior derivatives. Differentiable in x
            and params; inverse=true runs the closed-form inverse.
            """) { lua in
            let x = try lua.tensor(1), p = try lua.tensor(2)
            try lua.checkOptions(3, allowed: ["inverse", "bins", "tail_bound", "min_bin_width", "min_bin_height", "min_derivative"],
                                 function: "rq_spline")
            var o = RationalQuadraticSpline.Options()
            if let v = try lua.option(3, "bins", lua.integer) { o.bins = v }
            if let v = try lua.option(3, "tail_bound", lua.number) { o.tailBound = v }
            if let v = try lua.option(3, "min_bin_width", lua.number) { o.minBinWidth = v }
            if let v = try lua.option(3, "min_bin_height", lua.number) { o.minBinHeight = v }
            if let v = try lua.option(3, "min_derivative", lua.number) { o.minDerivative = v }
            let inverse = try lua.option(3, "inverse", lua.boolean) ?? false
            let (y, l) = try RationalQuadraticSpline.transform(x, params: p, inverse: inverse, options: o)
            lua.push(y)
            lua.push(l)
            return 2
        }
    }
}
