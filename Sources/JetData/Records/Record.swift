import Foundation

/// The kinds of record mpmlua writes: each is one file with one format tag and one version,
/// defined here once (docs/architecture.md, "Records"). A new field that old readers can ignore
/// keeps the version; a change that breaks them raises it, and `Record.load` refuses files newer
/// than it knows.
///
/// ```swift
/// RecordKind.backbone.format     // "mpm-backbone"
/// RecordKind(rawValue: "run")    // .run, the name Lua uses (mpm.records.load(path, "run"))
/// ```
public enum RecordKind: String, CaseIterable, Sendable {
    /// An MPM encoder: `config` (mpm.MPM's options) and `state`, plus the trainer's extra fields
    /// (task, preprocessing, data, seed, preset). Written by model:save_backbone.
    case backbone
    /// A pre-training run's settings (task, preset, seed, preprocessing, data, ...), run.h5.
    case run
    /// The resumable state of a training run (checkpoint.h5 of mpm.train.run).
    case trainCheckpoint = "train-checkpoint"
    /// The resumable state of a fine-tuning run (checkpoint.h5 of mpm.finetune.run).
    case finetuneCheckpoint = "finetune-checkpoint"
    /// A VQ-VAE tokenizer: `config` and `state`.
    case tokenizer
    /// Jet embeddings of mpm.explore: vectors, labels, kinematics, jet rows, classes, source.
    case embeddings
    /// A fine-tuned network: the backbone's config and state, the head's kind, config and state.
    case finetunedModel = "finetuned-model"

    /// The tag in the file's `format` field.
    public var format: String {
        switch self {
        case .backbone: return "mpm-backbone"
        case .run: return "mpm-run"
        case .trainCheckpoint: return "mpm-train-checkpoint"
        case .finetuneCheckpoint: return "mpm-finetune-checkpoint"
        case .tokenizer: return "mpm-vq-tokenizer"
        case .embeddings: return "mpm-embeddings"
        case .finetunedModel: return "mpm-finetuned-model"
        }
    }

    /// The version written now; files without a version field read as version 1.
    public var version: Int64 { 1 }

    /// What the user calls such a file, for messages ("x.h5 is not a saved MPM backbone").
    public var noun: String {
        switch self {
        case .backbone: return "MPM backbone"
        case .run: return "pre-training run"
        case .trainCheckpoint: return "training checkpoint"
        case .finetuneCheckpoint: return "fine-tuning checkpoint"
        case .tokenizer: return "VQ tokenizer"
        case .embeddings: return "embeddings file"
        case .finetunedModel: return "fine-tuned model"
        }
    }

    /// The kind whose tag is `format`, or nil.
    public init?(format: String) {
        guard let kind = Self.allCases.first(where: { $0.format == format }) else { return nil }
        self = kind
    }
}

/// A record: a value file (`ValueFile`, what mpm.save writes) whose root holds the kind's tag
/// in `format` and its version in `format_version`, next to the record's own fields. Loading
/// checks both, so a file of another kind is refused in the user's terms.
///
/// ```swift
/// try Record.save(.backbone, fields: [(.string("config"), config), (.string("state"), state)], to: "bb.h5")
/// let record = try Record.load(.backbone, from: "bb.h5")   // or "bb.h5 is not a saved MPM backbone (...)"
/// let state = ValueFile.stateDict(record["state"]!)
/// ```
public struct Record {
    public typealias Key = ValueFile.Key
    public typealias Node = ValueFile.Node

    /// The root fields that hold the kind's tag and version; a record's own fields may not use them.
    public static let formatField = "format"
    public static let versionField = "format_version"

    public let kind: RecordKind
    /// The version the file was written with (1 for files from before versions were written).
    public let version: Int64
    /// The record's own fields (without the tag and version), sorted by name.
    public let fields: [(Key, Node)]

    /// A record of `kind` holding `fields`, of the kind's current version unless read from an older file.
    public init(kind: RecordKind, version: Int64? = nil, fields: [(Key, Node)]) {
        self.kind = kind
        self.version = version ?? kind.version
        self.fields = fields
    }

    /// The field named `name`, or nil.
    public subscript(name: String) -> Node? {
        fields.first(where: { $0.0 == .string(name) })?.1
    }

    /// Writes a record of `kind` with `fields` to `path` atomically (as `ValueFile.save`).
    public static func save(_ kind: RecordKind, fields: [(Key, Node)], to path: String) throws {
        for (key, _) in fields where key == .string(formatField) || key == .string(versionField) {
            throw DataError("the field '\(key.name)' of a record is reserved (the record's kind sets it)")
        }
        let tagged = fields + [(.string(formatField), .string(kind.format)), (.string(versionField), .int(kind.version))]
        try ValueFile.save(.table(tagged.sorted { $0.0.name < $1.0.name }), to: path)
    }

    /// Writes `record` to `path` (its kind's tag and current version).
    public func save(to path: String) throws {
        try Self.save(kind, fields: fields, to: path)
    }

    /// Reads a record of `kind` from `path`. A file of another kind, a file mpm.save wrote
    /// without a kind, an HDF5 file mpm.save did not write and a version newer than this
    /// mpmlua reads are refused with one line naming the file and what it holds instead.
    public static func load(_ kind: RecordKind, from path: String) throws -> Record {
        func refuse(_ holds: String) -> DataError {
            DataError("\(path) is not a saved \(kind.noun) (\(holds))")
        }
        guard try ValueFile.isValueFile(path) else { throw refuse("it is an HDF5 file that mpm.save did not write") }
        guard case .table(let entries) = try ValueFile.load(path) else { throw refuse("it holds a single value") }
        var fields: [(Key, Node)] = [], tag: Node?, version: Node?
        for (key, node) in entries {
            switch key {
            case .string(formatField): tag = node
            case .string(versionField): version = node
            default: fields.append((key, node))
            }
        }
        guard case .string(let format)? = tag else { throw refuse("it holds values with no record format") }
        guard format == kind.format else {
            if let other = RecordKind(format: format) { throw refuse("it holds a saved \(other.noun)") }
            throw refuse("it holds format '\(format)'")
        }
        let number: Int64
        switch version {
        case nil: number = 1
        case .int(let v)?: number = v
        default: throw DataError("\(path): the record's \(versionField) is not an integer")
        }
        guard number >= 1 && number <= kind.version else {
            throw DataError("\(path) is a saved \(kind.noun) of version \(number); this mpmlua reads versions 1...\(kind.version)")
        }
        return Record(kind: kind, version: number, fields: fields)
    }
}
