import NN
import Tensors

// The catalogue of built-in reconstruction tasks: for each one its name, what it reads, its
// loss weight, whether it can generate, and every option with its default. This file is the
// one place these are written; the task initialisers, the Lua classes (lua/mpm/tasks/builtin.lua)
// and their docstrings read them from here.

/// A task's options, with their defaults as property initialisers.
public protocol TaskOptions {
    init()
}

extension TaskOptions {
    /// The defaults with some fields changed: `CFMTask.Options.with { $0.hidden = 64 }`.
    public static func with(_ change: (inout Self) -> Void) -> Self {
        var o = Self()
        change(&o)
        return o
    }
}

extension IDTask {
    public struct Options: TaskOptions {
        public var classes = 8
        public var labelSmoothing = 0.1
        public init() {}
    }
}

extension RegressionTask {
    public struct Options: TaskOptions {
        public var features = 7
        public init() {}
    }
}

extension KMeansTask {
    public struct Options: TaskOptions {
        public var labelSmoothing = 0.1
        public init() {}
    }
}

extension VQVAETask {
    public struct Options: TaskOptions {
        public var labelSmoothing = 0.1
        public init() {}
    }
}

extension FlowTask {
    public struct Options: TaskOptions {
        public var features = 7
        public var contextDim = 128
        public var couplings = 6
        public var width = 64
        public var blocks = 2
        public var spline = RationalQuadraticSpline.Options()
        /// Standard deviation of the training noise on `noisyFeatures`.
        public var noise = 0.05
        /// 0-based: d0, d0err, dz, dzerr (their sharp peaks are what the noise smooths).
        public var noisyFeatures = [3, 4, 5, 6]
        public init() {}
    }
}

extension CFMTask {
    public struct Options: TaskOptions {
        public var features = 7
        public var contextDim = 128
        public var timeDim = 16
        public var hidden = 128
        public var depth = 3
        public init() {}
    }
}

extension SSFMTask {
    /// The defaults are the paper's decoder; MPMPreset holds the smaller ones of other presets.
    public struct Options: TaskOptions {
        public var features = 7
        public var types = 8
        public var dim = 256
        public var depth = 6
        public var heads = 4
        public var timeDim = 16
        public var contextDim = 64
        public init() {}
    }
}

/// A value given for a task option.
public enum TaskValue {
    case integer(Int)
    case number(Double)
    case tensor(Tensor)
    case tokenizer(VQTokenizer)

    /// The value as text, for documentation ("128", "0.1").
    public var text: String {
        switch self {
        case .integer(let v): return String(v)
        case .number(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
        case .tensor(let t): return "tensor " + formatShape(t.shape)
        case .tokenizer: return "tokenizer"
        }
    }
}

/// One option of a built-in task.
public struct TaskOption {
    public enum Kind: String {
        case integer, number, tensor, tokenizer
    }
    /// The name as Lua spells it ("context_dim").
    public let name: String
    public let kind: Kind
    public let doc: String
    /// nil for a required option.
    public let defaultValue: TaskValue?
    /// Reads the option from a task's Options value.
    let get: (Any) -> TaskValue?
    /// Writes it into a task's Options value (passed as `inout Any`).
    let set: (inout Any, TaskValue) throws -> Void
}

/// A built-in task: what the catalogue knows of it and how to make one.
public struct TaskKind {
    /// The name in logs, files and `mpm.tasks.make` ("cfm").
    public let name: String
    /// The Lua class name (`mpm.tasks.CFM`).
    public let className: String
    public let summary: String
    public let input: TaskInput
    /// The weight of its loss in the summed pre-training loss.
    public let defaultWeight: Double
    public let canSample: Bool
    /// MPMv2 pairs every task with particle identification, except ID itself and tasks that
    /// generate the types too.
    public let pairsWithID: Bool
    /// The fraction of each jet to drop, drawn per batch, for tasks that set their own
    /// (nil: the run's mask option).
    public let maskRange: (Double, Double)?
    /// The options besides the width (`widthOption`), in the order the docs list them.
    public let options: [TaskOption]
    let build: (Int, Any, [String: TaskValue]) throws -> ReconstructionTask
    let defaults: () -> Any

    /// The option giving the width of the input it reads: the decoder's or the encoder's.
    public var widthOption: String { input == .decoded ? "input_dim" : "encoder_dim" }

    /// A task from option values (absent ones take their defaults).
    /// ```swift
    /// let cfm = try TaskCatalogue.kind("cfm")!.make(width: 128, values: ["hidden": .integer(64)])
    /// ```
    public func make(width: Int, values: [String: TaskValue]) throws -> ReconstructionTask {
        var o = defaults()
        for option in options {
            if let v = values[option.name] {
                try option.set(&o, v)
            } else if option.defaultValue == nil {
                throw TensorError("tasks.\(name): option '\(option.name)' is required (\(option.doc))")
            }
        }
        return try build(width, o, values)
    }

    /// The values of `options` (an Options value of this task) by option name.
    public func values(of options: Any) -> [(name: String, value: TaskValue)] {
        self.options.compactMap { o in o.get(options).map { (o.name, $0) } }
    }

    static func define<O: TaskOptions>(
        _ name: String, className: String, summary: String, input: TaskInput = .decoded, weight: Double = 1,
        canSample: Bool = true, pairsWithID: Bool = true, maskRange: (Double, Double)? = nil,
        _ type: O.Type, options: [TaskOption], make: @escaping (Int, O, [String: TaskValue]) throws -> ReconstructionTask
    ) -> TaskKind {
        TaskKind(name: name, className: className, summary: summary, input: input, defaultWeight: weight,
                 canSample: canSample, pairsWithID: pairsWithID, maskRange: maskRange, options: options,
                 build: { width, o, values in try make(width, o as! O, values) }, defaults: { O() })
    }
}

extension TaskOption {
    static func integer<O: TaskOptions>(_ name: String, _ path: WritableKeyPath<O, Int>, _ doc: String) -> TaskOption {
        TaskOption(name: name, kind: .integer, doc: doc, defaultValue: .integer(O()[keyPath: path]),
                   get: { ($0 as? O).map { .integer($0[keyPath: path]) } },
                   set: { o, v in
                       guard case .integer(let i) = v else { throw TensorError("option '\(name)' must be an integer") }
                       var typed = o as! O
                       typed[keyPath: path] = i
                       o = typed
                   })
    }

    static func number<O: TaskOptions>(_ name: String, _ path: WritableKeyPath<O, Double>, _ doc: String) -> TaskOption {
        TaskOption(name: name, kind: .number, doc: doc, defaultValue: .number(O()[keyPath: path]),
                   get: { ($0 as? O).map { .number($0[keyPath: path]) } },
                   set: { o, v in
                       var typed = o as! O
                       switch v {
                       case .number(let d): typed[keyPath: path] = d
                       case .integer(let i): typed[keyPath: path] = Double(i)
                       default: throw TensorError("option '\(name)' must be a number")
                       }
                       o = typed
                   })
    }

    /// A required value that is not part of the Options (centroids, a tokenizer).
    static func required(_ name: String, _ kind: Kind, _ doc: String) -> TaskOption {
        TaskOption(name: name, kind: kind, doc: doc, defaultValue: nil, get: { _ in nil }, set: { _, _ in })
    }
}

/// The built-in tasks, in the order the docs list them.
///
/// ```swift
/// for kind in TaskCatalogue.kinds { print(kind.name, kind.options.map(\.name)) }
/// let id = try TaskCatalogue.kind("id")!.make(width: 128, values: [:])
/// ```
public enum TaskCatalogue {
    public static let kinds: [TaskKind] = [
        .define("id", className: "ID", summary: "particle identification: Linear -> 8 logits, cross-entropy with label smoothing 0.1",
                weight: 0.3, pairsWithID: false, IDTask.Options.self, options: [
                    .integer("classes", \IDTask.Options.classes, "particle types"),
                    .number("label_smoothing", \IDTask.Options.labelSmoothing, "label smoothing of the cross-entropy"),
                ], make: { width, o, _ in try IDTask(inputDim: width, options: o) }),
        .define("reg", className: "Regression", summary: "direct regression of the 7 preprocessed features, L1 loss",
                RegressionTask.Options.self, options: [
                    .integer("features", \RegressionTask.Options.features, "continuous features per particle"),
                ], make: { width, o, _ in try RegressionTask(inputDim: width, options: o) }),
        .define("kmeans", className: "KMeans",
                summary: "classification of the nearest K-means centroid (centroids from mpm.kmeans.fit), smoothing 0.1",
                KMeansTask.Options.self, options: [
                    .required("centroids", .tensor, "a [K, 7] tensor from mpm.kmeans.fit"),
                    .number("label_smoothing", \KMeansTask.Options.labelSmoothing, "label smoothing of the cross-entropy"),
                ], make: { width, o, values in
                    guard case .tensor(let c)? = values["centroids"] else {
                        throw TensorError("tasks.kmeans: option 'centroids' must be a tensor")
                    }
                    return try KMeansTask(inputDim: width, centroids: c, options: o)
                }),
        .define("vqvae", className: "VQVAE",
                summary: "classification of the code a trained mpm.tasks.VQTokenizer gives each dropped particle",
                canSample: false, VQVAETask.Options.self, options: [
                    .required("tokenizer", .tokenizer, "a trained mpm.tasks.VQTokenizer"),
                    .number("label_smoothing", \VQVAETask.Options.labelSmoothing, "label smoothing of the cross-entropy"),
                ], make: { width, o, values in
                    guard case .tokenizer(let t)? = values["tokenizer"] else {
                        throw TensorError("tasks.vqvae: option 'tokenizer' must be a trained mpm.tasks.VQTokenizer")
                    }
                    return try VQVAETask(inputDim: width, tokenizer: t, options: o)
                }),
        .define("flow", className: "Flow", summary: "conditional rational-quadratic spline flow, negative log-likelihood",
                FlowTask.Options.self, options: [
                    .integer("features", \FlowTask.Options.features, "continuous features per particle"),
                    .integer("context_dim", \FlowTask.Options.contextDim, "width of the context Linear(input_dim -> context_dim)"),
                    .integer("couplings", \FlowTask.Options.couplings, "spline coupling blocks"),
                    .integer("width", \FlowTask.Options.width, "width of each coupling's residual network"),
                    .integer("blocks", \FlowTask.Options.blocks, "residual blocks per coupling"),
                    .integer("bins", \FlowTask.Options.spline.bins, "spline bins"),
                    .number("tail_bound", \FlowTask.Options.spline.tailBound, "spline interval [-B, B], linear tails outside"),
                    .number("noise", \FlowTask.Options.noise, "training noise on the impact parameters"),
                ], make: { width, o, _ in try FlowTask(inputDim: width, options: o) }),
        .define("cfm", className: "CFM", summary: "conditional flow matching: logit-normal t, velocity x - eps, MSE; samples by ODE",
                CFMTask.Options.self, options: [
                    .integer("features", \CFMTask.Options.features, "continuous features per particle"),
                    .integer("context_dim", \CFMTask.Options.contextDim, "width of the context Linear(input_dim -> context_dim)"),
                    .integer("time_dim", \CFMTask.Options.timeDim, "cosine embedding of t"),
                    .integer("hidden", \CFMTask.Options.hidden, "hidden units of the velocity MLP"),
                    .integer("depth", \CFMTask.Options.depth, "hidden layers of the velocity MLP"),
                ], make: { width, o, _ in try CFMTask(inputDim: width, options: o) }),
        .define("ssfm", className: "SSFM",
                summary: "set-to-set flow matching: time-conditioned decoder cross-attending to the encoder output",
                input: .encoded, pairsWithID: false, maskRange: (0.2, 1.0), SSFMTask.Options.self, options: [
                    .integer("features", \SSFMTask.Options.features, "continuous features per particle"),
                    .integer("types", \SSFMTask.Options.types, "particle types (one-hot)"),
                    .integer("dim", \SSFMTask.Options.dim, "decoder width"),
                    .integer("depth", \SSFMTask.Options.depth, "decoder blocks"),
                    .integer("heads", \SSFMTask.Options.heads, "attention heads"),
                    .integer("time_dim", \SSFMTask.Options.timeDim, "cosine embedding of t"),
                    .integer("context_dim", \SSFMTask.Options.contextDim, "width of the time conditioning"),
                ], make: { width, o, _ in try SSFMTask(encoderDim: width, options: o) }),
    ]

    /// The task named `name` ("cfm"), or nil.
    public static func kind(_ name: String) -> TaskKind? { kinds.first { $0.name == name } }

    /// The names, for error messages: "id, reg, kmeans, vqvae, flow, cfm, ssfm".
    public static var names: String { kinds.map(\.name).joined(separator: ", ") }
}
