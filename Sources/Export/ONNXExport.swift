import Foundation
import JetData
import MPM
import NN

/// ONNX files of what mpmlua trains, for ONNX Runtime and the experiments' software
/// (docs/export.md): a backbone (per-particle, register and pooled outputs) or a fine-tuned
/// classifier (backbone + class-attention head, or the head alone on the inputs), opset 17, fp32,
/// with weaver's padded inputs and dynamic batch and particle axes:
///
/// | input | type, shape | meaning |
/// |---|---|---|
/// | `features` | float [batch, particles, 7] | preprocessed pt, deta, dphi, d0, d0err, dz, dzerr |
/// | `types` | int64 [batch, particles] | particle type, 0-based as in the data files (0 photon ... 7 antimuon) |
/// | `mask` | bool [batch, particles] | true for real particles; padding never changes a real one's output |
///
/// The preprocessing stays outside the graph: the fitted preprocessing file is copied beside the
/// model (`NAME.preprocessing.h5`) and named in the model's metadata.
///
/// ```swift
/// let (network, preprocessing) = try ONNXExport.load(record: "runs/jc/model.h5")
/// var o = ONNXExport.Options(); o.preprocessing = preprocessing
/// let written = try ONNXExport.write(network, to: "jc.onnx", options: o)
/// ```
public enum ONNXExport {
    /// What can be exported.
    public enum Network {
        /// The encoder: outputs `particles` [batch, particles, D] (zeros at padding), `registers`
        /// [batch, R, D] (when R > 0) and `pooled` [batch, D] (the mean over real particles).
        case backbone(MPMBackbone)
        /// A fine-tuned classifier: outputs `logits` and `scores` [batch, classes] (softmax, or the
        /// sigmoid of the one logit of a binary head). Without a backbone the head reads the
        /// features and a one-hot of the type, as mpm.backbone.inputs does.
        case classifier(backbone: MPMBackbone?, head: ClassAttentionClassifier, classNames: [String])
        /// A per-particle head (vertexing, track identification) on the backbone's particle
        /// outputs, or without a backbone on the inputs. PerTrackMLP: `logits` and `scores`
        /// (softmax) [batch, particles, outputs]. EdgeHead: `edge_logits` and `edge_scores`
        /// (sigmoid) [batch, particles, particles], G(|F(z_i) - F(z_j)|) for every pair (i, j);
        /// the vertexing protocol reads i < j. Rows and columns of padded slots mean nothing.
        case particleHead(backbone: MPMBackbone?, head: Module, classNames: [String])
    }

    public struct Options {
        /// Replace an existing file (and its preprocessing file) instead of refusing.
        public var overwrite = false
        /// A preprocessing file to copy beside the model, or nil for none.
        public var preprocessing: String?
        /// The producer version written into the model (mpmlua's version).
        public var producerVersion = ""
        public init() {}
    }

    /// What an export wrote.
    public struct Written {
        public let path: String
        public let bytes: Int
        /// The preprocessing file copied beside the model, or nil.
        public let preprocessing: String?
    }

    /// The modules a network may be made of; anything else is refused with its path.
    static let knownTypes: [Module.Type] = [
        MPMBackbone.self, ClassAttentionClassifier.self, Linear.self, Embedding.self, TransformerEncoder.self,
        ModuleList.self, TransformerLayer.self, LayerNorm.self, MultiheadAttention.self, SwiGLU.self, LayerScale.self,
        ClassAttentionPooling.self, PerTrackMLP.self, EdgeHead.self, MLP.self, Sequential.self, Activation.self, Dropout.self,
    ]
    /// The networks the exporter knows, for messages.
    public static let knownModules = ["MPMBackbone", "ClassAttentionClassifier, PerTrackMLP, EdgeHead (alone or on an MPMBackbone)"]

    /// The network of `head` on `backbone` (nil: on the inputs), or the refusal naming the head.
    ///
    /// ```swift
    /// let network = try ONNXExport.network(backbone: bb, head: fit.head)
    /// ```
    public static func network(backbone: MPMBackbone?, head: Module, classNames: [String] = []) throws -> Network {
        switch head {
        case let classifier as ClassAttentionClassifier: return .classifier(backbone: backbone, head: classifier, classNames: classNames)
        case is PerTrackMLP, is EdgeHead: return .particleHead(backbone: backbone, head: head, classNames: classNames)
        default: throw unknown(head.typeName, at: backbone == nil ? "" : "head")
        }
    }

    /// The refusal of a module (or saved head) of type `typeName` at `path` ("" for the top).
    ///
    /// ```swift
    /// ONNXExport.unknown("PerTrackMLP", at: "head")   // cannot export PerTrackMLP at head (the exporter knows ...)
    /// ```
    public static func unknown(_ typeName: String, at path: String) -> ExportError {
        ExportError("cannot export \(typeName) at \(path.isEmpty ? "the top" : path) (the exporter knows "
                    + knownModules.joined(separator: ", ") + ")")
    }

    /// Refuses a module tree holding a module the exporter has no nodes for, naming the first
    /// one and its path below `prefix` ("head.mlp.layers.1").
    ///
    /// ```swift
    /// try ONNXExport.check(head, prefix: "head")   // cannot export AdaptiveLayerNorm at head.pool.layers.1.norm1 (...)
    /// ```
    public static func check(_ module: Module, prefix: String) throws {
        var unknown: (String, Module)?
        module.visit(prefix: prefix.isEmpty ? "" : prefix + ".") { path, m in
            if unknown == nil, !knownTypes.contains(where: { $0 == type(of: m) }) { unknown = (path, m) }
        }
        if let (path, m) = unknown {
            throw ONNXGraph.unknown(m, path: path.hasSuffix(".") ? String(path.dropLast()) : path)
        }
    }

    /// The path of the preprocessing file written beside the model at `path`.
    ///
    /// ```swift
    /// ONNXExport.preprocessingPath(for: "out/jc.onnx")   // "out/jc.preprocessing.h5"
    /// ```
    public static func preprocessingPath(for path: String) -> String {
        (path.hasSuffix(".onnx") ? String(path.dropLast(5)) : path) + ".preprocessing.h5"
    }

    /// Builds the graph of `network`, then writes it to `path` atomically (a temporary renamed
    /// over the name), with the preprocessing file beside it. Refused before anything is
    /// written: an existing file without `overwrite`, a folder that does not exist or cannot
    /// be written, NaN or infinite weights, a module the exporter does not know.
    ///
    /// ```swift
    /// var o = ONNXExport.Options(); o.overwrite = true
    /// let written = try ONNXExport.write(.backbone(backbone), to: "backbone.onnx", options: o)   // written.bytes
    /// ```
    public static func write(_ network: Network, to path: String, options: Options = Options()) throws -> Written {
        let side = options.preprocessing.map { _ in preprocessingPath(for: path) }
        for target in [path] + (side.map { [$0] } ?? []) {
            if let kind = FileKind.of(target) {
                guard kind == .file else { throw ExportError("\(target) is a \(kind.rawValue), not a file") }
                guard options.overwrite else { throw ExportError("\(target) exists (pass overwrite = true to replace it)") }
            }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileKind.of(folder) == .directory else { throw ExportError("cannot write \(path): no folder \(folder)") }
        guard access(folder, W_OK) == 0 else { throw ExportError("cannot write \(path): the folder \(folder) is not writable") }
        let graph = try self.graph(network)
        if let side { graph.metadata.append(("mpm.preprocessing", URL(fileURLWithPath: side).lastPathComponent)) }
        let bytes = try graph.serialized(name: graphName(network), producerVersion: options.producerVersion)
        // A new preprocessing file is removed again when the model cannot be written, so a
        // refused export leaves nothing new behind.
        var newSide: String?
        do {
            if let source = options.preprocessing, let side {
                guard let contents = FileManager.default.contents(atPath: source) else {
                    throw ExportError("cannot read the preprocessing file \(source)")
                }
                if FileKind.of(side) == nil { newSide = side }
                try AtomicFile.write(side, bytes: [UInt8](contents))
            }
            try AtomicFile.write(path, bytes: bytes)
        } catch {
            if let newSide { unlink(newSide) }
            if let e = error as? FileError { throw ExportError(e.description) }
            throw error
        }
        return Written(path: path, bytes: bytes.count, preprocessing: side)
    }

    static func graphName(_ network: Network) -> String {
        switch network {
        case .backbone: return "mpm_backbone"
        case .classifier: return "mpm_classifier"
        case .particleHead: return "mpm_particle_head"
        }
    }
}
