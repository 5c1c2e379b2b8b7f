import JetData
import Tensors

/// The field's generative metrics (the JetNet library's, `jetnet.evaluation`), for judging how
/// well generated particles reproduce real ones: the 1-D Wasserstein-1 distance of each
/// particle feature (W1P) and of the jets' mass (W1M), and the Frechet and kernel physics
/// distances (FPD, KPD) of jet-level features (energy-flow polynomials, `efps`). `evaluate`
/// reports all four with their truth-vs-truth floor: the same metrics between two halves of
/// the real jets, the value a perfect generator would score at that sample size.
/// `tools/generative_oracle.py` checks every number against jetnet (lua/tests/generative.lua).
///
/// Statistics are computed in double precision (LAPACK dsyevd and BLAS dgemm for the
/// Frechet and kernel distances). Bad input (NaN, empty samples, feature counts that differ)
/// throws a `TensorError` whose message names the function as Lua spells it, never a trap.
///
/// ```swift
/// let real = try Generative.Sample(features: truth, offsets: offsets, name: "real", function: "generative")
/// let generated = try Generative.Sample(features: sampled, offsets: offsets, name: "generated", function: "generative")
/// let report = try Generative.evaluate(real: real, generated: generated)
/// report.value.w1m      // GeV; compare with report.floor.w1m
/// ```
public enum Generative {}

extension Generative {
    /// Jets as packed particle rows in physical units: `features` [T, F] row-major, F >= 3,
    /// whose first three columns are pt (GeV), deta and dphi as the data layer stores them
    /// (`JetSchema.featureNames`); jet j owns rows `offsets[j]..<offsets[j + 1]`. `particles`,
    /// when set, are the rows (from 0) that W1P compares, e.g. only the dropped, reconstructed
    /// ones of a masked jet; the jet-level metrics always use whole jets.
    public struct Sample {
        public let features: [Float]
        public let columns: Int
        public let offsets: [Int]
        public let particles: [Int]?

        /// Checks a tensor sample: f32 [T, F >= 3] features without NaN or infinities,
        /// offsets [B+1] over T rows, particle rows within 0..<T.
        /// `name` ("real") and `function` ("generative") word the errors.
        public init(features: Tensor, offsets: Tensor, particles: [Int]? = nil, name: String, function: String) throws {
            guard features.dtype == .f32, features.dim == 2, features.shape[1] >= 3 else {
                throw TensorError("\(function): \(name) features must be a float32 tensor [T, F] with pt, deta, dphi first (F >= 3), "
                                  + "got \(features.dtype.name) \(formatShape(features.shape))")
            }
            let rows = features.shape[0], columns = features.shape[1]
            let values = features.toFloatArray()
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                let column = bad % columns
                let feature = column < JetSchema.featureNames.count ? "'\(JetSchema.featureNames[column])'" : "\(column + 1)"
                throw TensorError("\(function): \(name) features hold \(describe(values[bad])) (particle \(bad / columns + 1), feature \(feature)); "
                                  + "every feature must be finite")
            }
            let bounds = try Tensor.validatedOffsets(offsets, rows: rows, op: function, what: "\(name) offsets")
            if let particles, let bad = particles.first(where: { $0 < 0 || $0 >= rows }) {
                throw TensorError("\(function): \(name) particles: row \(bad + 1) is outside 1..\(rows)")
            }
            self.init(features: values, columns: columns, offsets: bounds, particles: particles)
        }

        init(features: [Float], columns: Int, offsets: [Int], particles: [Int]?) {
            self.features = features
            self.columns = columns
            self.offsets = offsets
            self.particles = particles
        }

        public var jets: Int { offsets.count - 1 }

        /// Jets `range` as a sample of their own (rows renumbered from 0).
        func subset(_ range: Range<Int>) -> Sample {
            let first = offsets[range.lowerBound], last = offsets[range.upperBound]
            let kept = particles.map { rows in rows.filter { $0 >= first && $0 < last }.map { $0 - first } }
            return Sample(features: Array(features[(first * columns)..<(last * columns)]), columns: columns,
                          offsets: offsets[range.lowerBound...range.upperBound].map { $0 - first }, particles: kept)
        }

        /// The first and second half of the jets (the first one jet shorter when B is odd).
        var halves: (first: Sample, second: Sample) {
            (subset(0..<(jets / 2)), subset((jets / 2)..<jets))
        }

        /// Column `column` of the rows W1P compares.
        func particleValues(_ column: Int) -> [Double] {
            if let particles { return particles.map { Double(features[$0 * columns + column]) } }
            return stride(from: column, to: features.count, by: columns).map { Double(features[$0]) }
        }

        /// The mass of every jet (GeV), its constituents massless, as the data layer computes it.
        public var masses: [Double] {
            features.withUnsafeBufferPointer { JetKinematics.sum(features: $0, offsets: offsets, columns: columns).map(\.mass) }
        }
    }

    /// A metric's estimate from random resamplings and its error (FPD, KPD).
    public struct Estimate: Equatable, Sendable {
        public var value: Double
        public var error: Double
    }

    /// The four metrics of one comparison.
    public struct Scores: Equatable, Sendable {
        /// W1 of each particle feature (column order of the samples).
        public var w1p: [Double]
        /// W1 of the jets' mass, GeV.
        public var w1m: Double
        public var fpd: Estimate
        public var kpd: Estimate
    }

    /// `evaluate`'s answer: the generated sample's scores, the truth-vs-truth floor, and the
    /// number of jets and of W1P particles on each side.
    public struct Report: Equatable, Sendable {
        public var value: Scores
        public var floor: Scores
        public var referenceJets: Int, realJets: Int, generatedJets: Int
        public var referenceParticles: Int, realParticles: Int, generatedParticles: Int
    }

    /// The resampling settings of FPD and KPD (jetnet's defaults, except that a KPD block
    /// holds at most the smaller half's number of jets when `kpdBatchSize` is nil, see `kpd`).
    public struct Settings: Sendable {
        public var fpd = FrechetSettings()
        public var kpdBatches = 10
        public var kpdBatchSize: Int?
        public var kpdDegree = 4
        public var kpdSeed: UInt64 = 42
        public init() {}
    }

    /// W1P, W1M, FPD and KPD of `generated` against `real`, and the same four between the two
    /// halves of `real` (the floor). Both samples are cut in halves by jet order; the value
    /// compares the real first half (the reference) with the generated second half, the floor
    /// compares the reference with the real second half. So value and floor share the
    /// reference and, for equal jet counts, the sample size, and a generated jet never meets
    /// the real jet it completes (a reconstruction keeps the visible particles of its jet,
    /// which would make the two samples look closer than independent jets are).
    ///
    /// ```swift
    /// let report = try Generative.evaluate(real: truth, generated: completed)
    /// report.value.w1p[1] / report.floor.w1p[1]   // deta: 1 = as close as other real jets
    /// ```
    public static func evaluate(real: Sample, generated: Sample, settings: Settings = Settings()) throws -> Report {
        let function = "generative"
        guard real.columns == generated.columns else {
            throw TensorError("\(function): real has \(real.columns) features per particle but generated has \(generated.columns)")
        }
        for (name, sample) in [("real", real), ("generated", generated)] where sample.jets < 2 {
            throw TensorError("\(function): \(name) has \(sample.jets) jets; it needs at least 2 (the floor compares two halves)")
        }
        let reference = real.halves.first, truth = real.halves.second, candidate = generated.halves.second
        let referenceFeatures = efps(reference)
        func scores(_ other: Sample) throws -> Scores {
            let w1p = try (0..<real.columns).map { column in
                try wasserstein1(reference.particleValues(column), other.particleValues(column), function: "\(function): w1p")
            }
            let w1m = try wasserstein1(reference.masses, other.masses, function: "\(function): w1m")
            let features = efps(other)
            return Scores(w1p: w1p, w1m: w1m,
                          fpd: try fpd(referenceFeatures, features, settings: settings.fpd, function: "\(function): fpd"),
                          kpd: try kpd(referenceFeatures, features, batches: settings.kpdBatches, batchSize: settings.kpdBatchSize,
                                       degree: settings.kpdDegree, seed: settings.kpdSeed, function: "\(function): kpd"))
        }
        func particles(_ s: Sample) -> Int { s.particles?.count ?? s.offsets.last! }
        return Report(value: try scores(candidate), floor: try scores(truth),
                      referenceJets: reference.jets, realJets: truth.jets, generatedJets: candidate.jets,
                      referenceParticles: particles(reference), realParticles: particles(truth),
                      generatedParticles: particles(candidate))
    }

    /// The Wasserstein-1 distance of two 1-D samples: the area between their empirical
    /// cumulative distributions (scipy.stats.wasserstein_distance, which jetnet's W1P and W1M
    /// call). O((n + m) log(n + m)). Empty samples and NaN are errors naming `function`.
    ///
    /// ```swift
    /// try Generative.wasserstein1([0, 1, 3], [5, 6, 8])   // 5: every point moves by 5
    /// ```
    public static func wasserstein1(_ u: [Double], _ v: [Double], function: String = "wasserstein") throws -> Double {
        guard !u.isEmpty, !v.isEmpty else {
            throw TensorError("\(function): a sample is empty (\(u.count) and \(v.count) values); W1 needs values on both sides")
        }
        guard !u.contains(where: \.isNaN), !v.contains(where: \.isNaN) else { throw TensorError("\(function): the samples contain NaN") }
        let a = u.sorted(), b = v.sorted()
        // Walk the merged values; between consecutive ones both CDFs are constant.
        var i = 0, j = 0, total = 0.0
        var previous = Swift.min(a[0], b[0])
        while i < a.count || j < b.count {
            let next = j == b.count || (i < a.count && a[i] <= b[j]) ? a[i] : b[j]
            total += Swift.abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)) * (next - previous)
            while i < a.count && a[i] == next { i += 1 }
            while j < b.count && b[j] == next { j += 1 }
            previous = next
        }
        return total
    }
}

/// Feature matrices for the Frechet and kernel distances.
extension Generative {
    /// Samples as rows of features, row-major, in double precision.
    public struct FeatureMatrix: Sendable {
        public var rows: Int, columns: Int
        public var values: [Double]

        public init(rows: Int, columns: Int, values: [Double]) {
            self.rows = rows
            self.columns = columns
            self.values = values
        }

        /// A float32 tensor [N, F] as a matrix; NaN, infinities and fewer than `minimumRows`
        /// rows are errors naming `function` and the argument `name`.
        public init(_ t: Tensor, minimumRows: Int, name: String, function: String) throws {
            guard t.dtype == .f32, t.dim == 2 else {
                throw TensorError("\(function): \(name) must be a float32 tensor [N, F], got \(t.dtype.name) \(formatShape(t.shape))")
            }
            guard t.shape[0] >= minimumRows, t.shape[1] >= 1 else {
                throw TensorError("\(function): \(name) has shape \(formatShape(t.shape)); it needs at least \(minimumRows) rows and 1 feature")
            }
            let v = t.toFloatArray()
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw TensorError("\(function): \(name) holds \(describe(v[bad])) (row \(bad / t.shape[1] + 1), feature \(bad % t.shape[1] + 1)); every feature must be finite")
            }
            self.init(rows: t.shape[0], columns: t.shape[1], values: v.map(Double.init))
        }

        /// The matrix as a float32 tensor.
        public func tensor() throws -> Tensor { try Tensor(values.map { Float($0) }, shape: [rows, columns]) }

        /// Rows `indices` (repeats allowed: resampling draws with replacement).
        func rows(_ indices: [Int]) -> FeatureMatrix {
            var out = [Double]()
            out.reserveCapacity(indices.count * columns)
            for r in indices { out += values[(r * columns)..<((r + 1) * columns)] }
            return FeatureMatrix(rows: indices.count, columns: columns, values: out)
        }

        /// Both matrices divided, column by column, by the largest |value| of that column in
        /// `self` (1 for an all-zero column): jetnet's normalisation, so that no feature's
        /// units dominate the distance.
        func normalising(_ other: FeatureMatrix) -> (FeatureMatrix, FeatureMatrix) {
            var scale = [Double](repeating: 0, count: columns)
            for r in 0..<rows { for c in 0..<columns { scale[c] = Swift.max(scale[c], Swift.abs(values[r * columns + c])) } }
            for c in 0..<columns where scale[c] == 0 { scale[c] = 1 }
            func divided(_ m: FeatureMatrix) -> FeatureMatrix {
                FeatureMatrix(rows: m.rows, columns: m.columns, values: m.values.enumerated().map { $1 / scale[$0 % m.columns] })
            }
            return (divided(self), divided(other))
        }
    }

    /// Checks that two feature matrices have the same number of features.
    static func sameColumns(_ x: FeatureMatrix, _ y: FeatureMatrix, function: String) throws {
        guard x.columns == y.columns else {
            throw TensorError("\(function): real has \(x.columns) features but generated has \(y.columns)")
        }
    }

    /// A non-finite value as messages name it ("NaN" rather than "-nan").
    static func describe(_ value: Float) -> String { value.isNaN ? "NaN" : String(value) }

    /// `count` row numbers drawn uniformly with replacement from 0..<rows.
    static func draw(_ count: Int, from rows: Int, _ random: inout Xoshiro256) -> [Int] {
        (0..<count).map { _ in Int(random.below(UInt64(rows))) }
    }
}
