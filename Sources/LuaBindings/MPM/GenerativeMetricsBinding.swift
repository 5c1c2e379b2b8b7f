import CLua
import JetData
import MPM
import Tensors

/// The generative metrics of `mpm.metrics` (Swift kernels in Sources/MPM/Metrics/Generative*.swift):
/// W1 of particle features and jet mass, energy-flow polynomials, the Frechet and kernel
/// physics distances, and `generative`, which reports all of them with their truth-vs-truth floor.
enum GenerativeMetricsBinding {
    static func register(_ lua: LuaState, in table: Int32) {
        lua.register("generative", in: table, doc: """
            mpm.metrics.generative{real = JETS, generated = JETS [, fpd = {...}, kpd = {...}]} -> report
            How close generated particles are to real ones, by the field's metrics (the JetNet
            library's), each beside its truth-vs-truth floor. JETS = {features = float32 [T, F]
            in physical units with pt, deta, dphi first (pre:inverse of a batch's features),
            offsets = int64 [B+1] (B >= 2), particles = optional row numbers [K] (1..T) that W1P
            compares, e.g. batch.mask.dropped}. Both samples are cut in halves by jet order: the
            metrics compare the real first half with the generated second half, the floor
            compares the real first half with the real second half (what a perfect generator
            scores at that size; a reconstructed jet never meets the real jet it completes).
            report = {w1p = {pt =, deta =, dphi =, ...} (W1 of each particle feature), w1m = (W1 of
            the jets' mass, GeV), fpd =, fpd_error =, kpd =, kpd_error = (mpm.metrics.fpd and kpd
            on mpm.metrics.efps of the jets), floor = {the same keys}, jets = {reference =, real =,
            generated =}, particles = {reference =, real =, generated =}}. fpd and kpd take the
            options of mpm.metrics.fpd and kpd.
              local r = mpm.metrics.generative{real = truth, generated = reconstructed}
              print(r.w1m, r.floor.w1m)
            """) { lua in
            let f = "generative"
            try lua.checkOptions(1, allowed: ["real", "generated", "fpd", "kpd"], function: f)
            guard let real = try lua.option(1, "real", { try sample(lua, $0, "real", f) }),
                  let generated = try lua.option(1, "generated", { try sample(lua, $0, "generated", f) }) else {
                throw LuaError.argument(1, "\(f): real and generated are required ({real = {features =, offsets =}, generated = ...})")
            }
            var settings = Generative.Settings()
            settings.fpd = try lua.option(1, "fpd") { try frechetSettings(lua, $0, "\(f): fpd") } ?? settings.fpd
            if let kernel = try lua.option(1, "kpd", { try kernelSettings(lua, $0, "\(f): kpd") }) {
                settings.kpdBatches = kernel.batches
                settings.kpdBatchSize = kernel.batchSize
                settings.kpdDegree = kernel.degree
                settings.kpdSeed = kernel.seed
            }
            let report = try Generative.evaluate(real: real, generated: generated, settings: settings)
            push(lua, report.value)
            let result = lua.top
            push(lua, report.floor)
            lua.setRawField(result, "floor")
            for (key, counts) in [("jets", [report.referenceJets, report.realJets, report.generatedJets]),
                                  ("particles", [report.referenceParticles, report.realParticles, report.generatedParticles])] {
                lua.newTable(hash: 3)
                for (name, count) in zip(["reference", "real", "generated"], counts) {
                    lua.push(count)
                    lua.setRawField(-2, name)
                }
                lua.setRawField(result, key)
            }
            return 1
        }
        lua.register("wasserstein", in: table, doc: """
            mpm.metrics.wasserstein(u, v) -> number
            The Wasserstein-1 distance of two 1-D samples (tensors [N] and [M]): the area between
            their empirical cumulative distributions, scipy.stats.wasserstein_distance (what
            jetnet's W1P and W1M compute per feature). In the samples' units.
              mpm.metrics.wasserstein(mpm.tensor{0, 1, 3}, mpm.tensor{5, 6, 8})   --> 5
            """) { lua in
            let f = "wasserstein"
            lua.push(try Generative.wasserstein1(try values(lua, 1, "u", f), try values(lua, 2, "v", f), function: f))
            return 1
        }
        lua.register("jet_mass", in: table, doc: """
            mpm.metrics.jet_mass(features, offsets) -> float32 [B]
            The invariant mass (GeV) of each jet of packed particles: features [T, F] in physical
            units with pt, deta, dphi first, offsets [B+1]; constituents massless (as the data
            layer computes jet kinematics).
              local m = mpm.metrics.jet_mass(pre:inverse(batch.features, batch.types), batch.offsets)
            """) { lua in
            let jets = try Generative.Sample(features: try lua.tensor(1), offsets: try lua.tensor(2), name: "jets", function: "jet_mass")
            lua.push(try Tensor(jets.masses.map { Float($0) }, shape: [jets.jets]))
            return 1
        }
        lua.register("efps", in: table, doc: """
            mpm.metrics.efps(features, offsets) -> float32 [B, 5]
            The energy-flow polynomials of degree <= 2 of each jet (features and offsets as in
            mpm.metrics.jet_mass), as jetnet.utils.efps(jets, efpset_args = {("d<=", 2)}) computes
            them (hadronic measure, beta = 1, not normalised): sum pt, edge, double edge, wedge,
            edge squared. The jet-level features of FPD and KPD in mpm.metrics.generative.
              local features = mpm.metrics.efps(x, batch.offsets)
            """) { lua in
            let jets = try Generative.Sample(features: try lua.tensor(1), offsets: try lua.tensor(2), name: "jets", function: "efps")
            lua.push(try Generative.efps(jets).tensor())
            return 1
        }
        lua.register("frechet_distance", in: table, doc: """
            mpm.metrics.frechet_distance(x, y) -> number
            The Frechet distance of Gaussians fitted to the rows of x [N, F] and y [M, F] (mean and
            unbiased covariance): |mu_x - mu_y|^2 + tr(S_x + S_y - 2 (S_x S_y)^(1/2)), on all the
            rows, without normalising or resampling (mpm.metrics.fpd does both).
              mpm.metrics.frechet_distance(x, x + 2)   --> 4 * F (a shift of 2 in each of F features)
            """) { lua in
            let f = "frechet_distance"
            lua.push(try Generative.frechetDistance(try matrix(lua, 1, "x", f, minimumRows: 2), try matrix(lua, 2, "y", f, minimumRows: 2),
                                                    function: f))
            return 1
        }
        lua.register("fpd", in: table, doc: """
            mpm.metrics.fpd(real, generated [, options]) -> value, error
            options: {min_samples = 20000, max_samples = 50000, batches = 20, points = 10, seed = 42}.
            The Frechet physics distance of jetnet.evaluation.fpd: features [N, F] divided by the
            largest |value| of each feature in real; at points sample sizes evenly spaced in 1/N,
            the mean mpm.metrics.frechet_distance of batches resamplings (with replacement); the
            value is the intercept of a line a + b/N (a, b >= 0) fitted through them (infinite
            samples), the error its standard error. Agrees with jetnet within the errors (the
            resampling draws differ).
              local value, error = mpm.metrics.fpd(mpm.metrics.efps(x, o), mpm.metrics.efps(y, o))
            """) { lua in
            let f = "fpd"
            let settings = try frechetSettings(lua, 3, f)
            let e = try Generative.fpd(try matrix(lua, 1, "real", f), try matrix(lua, 2, "generated", f), settings: settings, function: f)
            lua.push(e.value)
            lua.push(e.error)
            return 2
        }
        lua.register("mmd", in: table, doc: """
            mpm.metrics.mmd(x, y [, {degree = 4}]) -> number
            The unbiased estimate of the squared maximum mean discrepancy of the rows of x [N, F] and
            y [M, F] under the polynomial kernel k(a, b) = (a.b / F + 1)^degree, on all rows
            (jetnet's _mmd_poly_quadratic_unbiased; jetnet's KPD uses degree 4).
              mpm.metrics.mmd(x, y, {degree = 3})   -- the paper's cubic kernel
            """) { lua in
            let f = "mmd"
            try lua.checkOptions(3, allowed: ["degree"], function: f)
            let degree = try lua.option(3, "degree", lua.integer) ?? 4
            lua.push(try Generative.mmd(try matrix(lua, 1, "x", f, minimumRows: 2), try matrix(lua, 2, "y", f, minimumRows: 2),
                                        degree: degree, function: f))
            return 1
        }
        lua.register("kpd", in: table, doc: """
            mpm.metrics.kpd(real, generated [, options]) -> value, error
            options: {batches = 10, batch_size = the smaller sample's rows, at most 5000, degree = 4, seed = 42}.
            The kernel physics distance of jetnet.evaluation.kpd: features [N, F] divided by the
            largest |value| of each feature in real; mpm.metrics.mmd on batches blocks of
            batch_size rows drawn with replacement from each; the value is the median over the
            blocks, the error half their 16.275-83.725 percentile spread. Agrees with jetnet within
            the errors (the resampling draws differ).
              local value, error = mpm.metrics.kpd(real_features, generated_features, {batch_size = 1000})
            """) { lua in
            let f = "kpd"
            let k = try kernelSettings(lua, 3, f)
            let e = try Generative.kpd(try matrix(lua, 1, "real", f), try matrix(lua, 2, "generated", f), batches: k.batches,
                                       batchSize: k.batchSize, degree: k.degree, seed: k.seed, function: f)
            lua.push(e.value)
            lua.push(e.error)
            return 2
        }
    }

    /// Pushes the four scores as the table `generative` documents (without floor and counts).
    private static func push(_ lua: LuaState, _ s: Generative.Scores) {
        lua.newTable(hash: 6)
        lua.newTable(hash: Int32(s.w1p.count))
        for (column, value) in s.w1p.enumerated() {
            lua.push(value)
            if column < JetSchema.featureNames.count {
                lua.setRawField(-2, JetSchema.featureNames[column])
            } else {
                lua_rawseti(lua.state, -2, lua_Integer(column + 1))
            }
        }
        lua.setRawField(-2, "w1p")
        for (key, value) in [("w1m", s.w1m), ("fpd", s.fpd.value), ("fpd_error", s.fpd.error),
                             ("kpd", s.kpd.value), ("kpd_error", s.kpd.error)] {
            lua.push(value)
            lua.setRawField(-2, key)
        }
    }

    /// A JETS table at `index`: {features =, offsets =, particles = row numbers counting from 1}.
    private static func sample(_ lua: LuaState, _ index: Int32, _ name: String, _ function: String) throws -> Generative.Sample {
        guard lua.type(index) == LUA_TTABLE else {
            throw LuaError.argument(index, "\(function): \(name) must be a table {features =, offsets = [, particles =]}")
        }
        try lua.checkOptions(index, allowed: ["features", "offsets", "particles"], function: "\(function): \(name)")
        guard let features = try lua.option(index, "features", lua.tensor), let offsets = try lua.option(index, "offsets", lua.tensor) else {
            throw LuaError.argument(index, "\(function): \(name) needs features and offsets")
        }
        let particles = try lua.option(index, "particles", lua.tensor).map { rows -> [Int] in
            guard rows.dtype == .i64, rows.dim == 1 else {
                throw TensorError("\(function): \(name) particles must be int64 row numbers [K] (like batch.mask.dropped), "
                                  + "got \(rows.dtype.name) \(formatShape(rows.shape))")
            }
            return rows.toIntArray().map { $0 - IndexBase.one.value }
        }
        return try Generative.Sample(features: features, offsets: offsets, particles: particles, name: name, function: function)
    }

    /// A 1-D tensor's values as Doubles.
    private static func values(_ lua: LuaState, _ index: Int32, _ name: String, _ function: String) throws -> [Double] {
        let t = try lua.tensor(index)
        guard t.dim == 1, t.dtype != .bool else {
            throw TensorError("\(function): \(name) must be a 1-D number tensor, got \(t.dtype.name) \(formatShape(t.shape))")
        }
        return t.dtype == .i64 ? t.toIntArray().map(Double.init) : t.toFloatArray().map(Double.init)
    }

    private static func matrix(_ lua: LuaState, _ index: Int32, _ name: String, _ function: String,
                               minimumRows: Int = 1) throws -> Generative.FeatureMatrix {
        try Generative.FeatureMatrix(try lua.tensor(index), minimumRows: minimumRows, name: name, function: function)
    }

    /// The options of `fpd` at `index` (none: jetnet's defaults).
    private static func frechetSettings(_ lua: LuaState, _ index: Int32, _ function: String) throws -> Generative.FrechetSettings {
        try lua.checkOptions(index, allowed: ["min_samples", "max_samples", "batches", "points", "seed"], function: function)
        var s = Generative.FrechetSettings()
        s.minSamples = try lua.option(index, "min_samples", lua.integer) ?? s.minSamples
        s.maxSamples = try lua.option(index, "max_samples", lua.integer) ?? s.maxSamples
        s.batches = try lua.option(index, "batches", lua.integer) ?? s.batches
        s.points = try lua.option(index, "points", lua.integer) ?? s.points
        s.seed = try seed(lua, index, function) ?? s.seed
        return s
    }

    /// The options of `kpd` at `index`; batch_size stays nil when not given.
    private static func kernelSettings(_ lua: LuaState, _ index: Int32, _ function: String) throws
        -> (batches: Int, batchSize: Int?, degree: Int, seed: UInt64) {
        try lua.checkOptions(index, allowed: ["batches", "batch_size", "degree", "seed"], function: function)
        return (try lua.option(index, "batches", lua.integer) ?? 10, try lua.option(index, "batch_size", lua.integer),
                try lua.option(index, "degree", lua.integer) ?? 4, try seed(lua, index, function) ?? 42)
    }

    private static func seed(_ lua: LuaState, _ index: Int32, _ function: String) throws -> UInt64? {
        guard let seed = try lua.option(index, "seed", lua.integer) else { return nil }
        guard seed >= 0 else { throw LuaError.argument(index, "\(function): seed must be >= 0, got \(seed)") }
        return UInt64(seed)
    }
}
