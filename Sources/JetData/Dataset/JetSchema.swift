/// Names of the values stored in the reference HDF5 schema (MPMv2's JetClass and BTag files).
/// All codes are 0-based here, as in the files; the Lua bindings shift them to 1-based.
///
/// ```swift
/// JetSchema.particleTypes[3]        // "positive hadron"
/// JetSchema.jetclassClasses[2]      // "TTBar"
/// ```
public enum JetSchema {
    /// Per-constituent continuous features, in file order (`csts[..., i]`).
    public static let featureNames = ["pt", "deta", "dphi", "d0", "d0err", "dz", "dzerr"]
    /// Number of continuous constituent features.
    public static let featureCount = 7
    /// Indices of the impact-parameter features (d0, d0err, dz, dzerr): zero for neutral particles.
    public static let impactParameterFeatures = 3..<7
    /// Jet-level columns of `jets`.
    public static let jetFeatureNames = ["pt", "eta", "phi", "mass", "n"]
    /// Number of jet-level columns.
    public static let jetFeatureCount = 5
    /// `csts_id` codes 0..7.
    public static let particleTypes = ["photon", "negative hadron", "neutral hadron", "positive hadron",
                                       "electron", "positron", "muon", "antimuon"]
    /// Particle types without a track (no impact parameters): photon and neutral hadron.
    public static let neutralTypes: Set<Int64> = [0, 2]
    /// JetClass `labels` codes 0..9.
    public static let jetclassClasses = ["QCD", "TTBarLep", "TTBar", "WToQQ", "ZToQQ", "HToBB", "HToCC",
                                         "HToGG", "HToWW4Q", "HToWW2Q1L"]
    /// BTag `labels` codes 0..2 (jet flavour).
    public static let btagClasses = ["light", "charm", "bottom"]
    /// BTag `track_type` codes 0..3 (-1 marks padding in the files).
    public static let trackOrigins = ["primary vertex", "charm hadron", "bottom hadron", "other"]
}

/// Which reference schema a file follows.
public enum JetKind: String, Sendable, CaseIterable {
    /// Large-R jets, up to 128 constituents, 10 classes.
    case jetclass
    /// R = 0.4 jets, charged tracks only (up to 15), flavour labels, vertex ids and track origins.
    case btag

    /// The datasets every file of this kind has.
    public var requiredDatasets: [String] {
        switch self {
        case .jetclass: return ["csts", "csts_id", "mask", "labels", "jets"]
        case .btag: return ["csts", "csts_id", "mask", "labels", "jets", "vtx_id", "track_type"]
        }
    }

    /// Class names of `labels`.
    public var classNames: [String] {
        self == .jetclass ? JetSchema.jetclassClasses : JetSchema.btagClasses
    }
}
