import JetData
import NN
import Tensors

/// A backbone record from Swift, without a Lua state: the file model:save_backbone writes
/// (`RecordKind.backbone`: `config` with mpm.MPM's option names, `state` the encoder's state
/// dict, plus any extra fields such as the trainer's task and preprocessing path).
///
/// ```swift
/// try model.backbone.saveRecord(to: "backbone.h5")
/// let (backbone, record) = try MPMBackbone.load(record: "runs/cfm/backbone.h5")
/// let particles = try backbone(features, types: types, offsets: offsets)
/// ```
extension MPMBackbone {
    /// Writes this backbone as a backbone record, with `extra` fields beside config and state.
    public func saveRecord(to path: String, extra: [(ValueFile.Key, ValueFile.Node)] = []) throws {
        try Record.save(.backbone, fields: [(.string("config"), config.node), (.string("state"), ValueFile.node(stateDict: self))] + extra,
                        to: path)
    }

    /// A backbone built from the config of the record at `path` with its saved state loaded
    /// (every name and shape must match), and the record itself (config and extra fields).
    public static func load(record path: String) throws -> (MPMBackbone, Record) {
        let record = try Record.load(.backbone, from: path)
        guard let configNode = record["config"], let state = record["state"] else {
            throw DataError("\(path): the backbone record has no \(record["config"] == nil ? "config" : "state")")
        }
        let backbone = try MPMBackbone(config: try MPMConfig(node: configNode, source: path))
        try backbone.loadStateDict(ValueFile.stateDict(state), strict: true)
        return (backbone, record)
    }
}

extension MPMConfig {
    /// The integer sizes by the names mpm.MPM{...} and saved records use.
    public static let integerFields: [(name: String, field: WritableKeyPath<MPMConfig, Int>)] = [
        ("input_features", \.inputFeatures), ("particle_types", \.particleTypes),
        ("encoder_dim", \.encoderDim), ("encoder_depth", \.encoderDepth), ("encoder_heads", \.encoderHeads),
        ("registers", \.registers), ("decoder_dim", \.decoderDim), ("decoder_depth", \.decoderDepth),
        ("decoder_heads", \.decoderHeads), ("mask_tokens", \.maskTokens),
    ]
    /// The real-valued settings by the same names.
    public static let numberFields: [(name: String, field: WritableKeyPath<MPMConfig, Double>)] = [
        ("ff_mult", \.ffMult), ("layerscale_init", \.layerscaleInit),
    ]

    /// The config as a saved table (model.config in Lua).
    public var node: ValueFile.Node {
        .table((Self.integerFields.map { (ValueFile.Key.string($0.name), ValueFile.Node.int(Int64(self[keyPath: $0.field]))) }
                + Self.numberFields.map { (.string($0.name), .double(self[keyPath: $0.field])) })
               .sorted { $0.0.name < $1.0.name })
    }

    /// The config saved in a record (`source` names the file in errors). As in Lua's
    /// mpm.MPM{...}, fields left out keep the `small` preset's values (a `preset` field picks
    /// another); an unknown name or a value of the wrong type is refused.
    public init(node: ValueFile.Node, source: String) throws {
        guard case .table(let entries) = node else { throw DataError("\(source): the saved config is not a table") }
        var presetName = "small"
        if case .string(let name)? = entries.first(where: { $0.0 == .string("preset") })?.1 { presetName = name }
        guard let preset = MPMConfig.preset(presetName) else {
            throw DataError("\(source): unknown preset '\(presetName)' in the saved config")
        }
        self = preset
        for (key, value) in entries where key != .string("preset") {
            if let field = Self.integerFields.first(where: { .string($0.name) == key })?.field {
                guard case .int(let v) = value, let size = Int(exactly: v) else {
                    throw DataError("\(source): the saved config's \(key.name) is not an integer")
                }
                self[keyPath: field] = size
            } else if let field = Self.numberFields.first(where: { .string($0.name) == key })?.field {
                switch value {
                case .double(let v): self[keyPath: field] = v
                case .int(let v): self[keyPath: field] = Double(v)
                default: throw DataError("\(source): the saved config's \(key.name) is not a number")
                }
            } else {
                throw DataError("\(source): the saved config has an unknown field '\(key.name)'")
            }
        }
        try validate()
    }
}
