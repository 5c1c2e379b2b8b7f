import Foundation
import JetData
import MPM
import NN

/// Networks from the records mpmlua saves, without a Lua state: a backbone record
/// (model:save_backbone) or a fine-tuned network (mpm.downstream.save_model, OUT/model.h5: a
/// head of type ClassAttentionClassifier {dim, classes}, PerTrackMLP {dim, classes = outputs}
/// or EdgeHead {dim}, with its state, on a saved backbone or on the inputs).
extension ONNXExport {
    /// The network saved at `path` and the preprocessing file it expects (the record's, found
    /// as saved or beside the record, as mpm.load_backbone finds it), or nil when it names none.
    ///
    /// ```swift
    /// let (network, preprocessing) = try ONNXExport.load(record: "runs/jc/model.h5")
    /// ```
    public static func load(record path: String) throws -> (Network, preprocessing: String?) {
        let record: Record
        do {
            record = try Record.load(.finetunedModel, from: path)
        } catch let e as DataError where e.message.hasSuffix("it holds a saved \(RecordKind.backbone.noun))") {
            let (backbone, saved) = try MPMBackbone.load(record: path)
            return (.backbone(backbone), try preprocessing(saved["preprocessing"], record: path))
        }
        guard case .table(let saved)? = record["head"] else { throw ExportError("\(path): the fine-tuned model has no head") }
        func field(_ name: String) -> ValueFile.Node? { saved.first(where: { $0.0 == .string(name) })?.1 }
        guard case .string(let type)? = field("type") else { throw unknown("a head of no type", at: "head") }
        guard case .int(let dim)? = field("dim"), let state = field("state") else {
            throw ExportError("\(path): the head record lacks dim or state")
        }
        func classes() throws -> Int {
            guard case .int(let n)? = field("classes") else { throw ExportError("\(path): the \(type) record lacks classes") }
            return Int(n)
        }
        let head: Module
        switch type {
        case "ClassAttentionClassifier": head = try ClassAttentionClassifier(inputDim: Int(dim), classes: try classes())
        case "PerTrackMLP": head = try PerTrackMLP(inputDim: Int(dim), outputs: try classes())
        case "EdgeHead": head = try EdgeHead(inputDim: Int(dim))
        default: throw unknown(type, at: "head")
        }
        try head.loadStateDict(ValueFile.stateDict(state), strict: true)
        var backbone: MPMBackbone?
        if case .table(let parts)? = record["backbone"] {
            func part(_ name: String) -> ValueFile.Node? { parts.first(where: { $0.0 == .string(name) })?.1 }
            guard let config = part("config"), let weights = part("state") else { throw ExportError("\(path): the backbone record lacks config or state") }
            let bb = try MPMBackbone(config: try MPMConfig(node: config, source: path))
            try bb.loadStateDict(ValueFile.stateDict(weights), strict: true)
            backbone = bb
        }
        return (try network(backbone: backbone, head: head, classNames: names(record["class_names"])),
                try preprocessing(record["preprocessing"], record: path))
    }

    /// Class names saved as a list or as one comma-separated string.
    static func names(_ node: ValueFile.Node?) -> [String] {
        switch node {
        case .string(let s)?: return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        case .table(let entries)?:
            let listed = entries.compactMap { entry -> (Int64, String)? in
                if case .int(let i) = entry.0, case .string(let s) = entry.1 { return (i, s) } else { return nil }
            }
            return listed.sorted { $0.0 < $1.0 }.map(\.1)
        default: return []
        }
    }

    static func preprocessing(_ node: ValueFile.Node?, record: String) throws -> String? {
        guard case .string(let saved)? = node, !saved.isEmpty else { return nil }
        if FileKind.of(saved) == .file { return saved }
        let url = URL(fileURLWithPath: record).deletingLastPathComponent().appendingPathComponent(URL(fileURLWithPath: saved).lastPathComponent)
        if FileKind.of(url.path) == .file { return url.path }
        throw ExportError("\(record) names the preprocessing file \(saved), which is missing (export with preprocessing = false to leave it out)")
    }
}
