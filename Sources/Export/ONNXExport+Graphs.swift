import Foundation
import JetData
import MPM
import NN

/// The graphs of the networks on padded inputs (ONNXExport's table). Registers are prepended to
/// every set as the packed encoder does; the key bias masks padded particles out of every
/// attention, registers are never masked.
extension ONNXExport {
    /// The graph of `network`, its modules checked first.
    ///
    /// ```swift
    /// let graph = try ONNXExport.graph(.backbone(backbone))
    /// ```
    public static func graph(_ network: Network) throws -> ONNXGraph {
        let g = ONNXGraph()
        let batch = ONNXGraph.Dim.named("batch"), particles = ONNXGraph.Dim.named("particles")
        g.input("features", .float, [batch, particles, .fixed(JetSchema.featureCount)])
        g.input("types", .int64, [batch, particles])
        g.input("mask", .bool, [batch, particles])
        g.metadata = [
            ("mpm.inputs", "features float [batch, particles, 7] preprocessed (\(JetSchema.featureNames.joined(separator: ", "))); "
                + "types int64 [batch, particles] 0-based (\(JetSchema.particleTypes.joined(separator: ", "))); "
                + "mask bool [batch, particles], true for real particles"),
        ]
        // [1] = the batch size, for shapes that grow with it.
        let batchSize = g.op("Shape", ["features"], name: "batch", [("start", .int(0)), ("end", .int(1))])
        let particleBias = g.op("Where", ["mask", g.constant([0], shape: [], name: "zero"),
                                          g.constant([ONNXGraph.maskedScore], shape: [], name: "masked_score")], name: "particle_bias")
        switch network {
        case .backbone(let bb):
            try check(bb, prefix: "")
            let (h, _) = try encode(g, bb, prefix: "", batchSize: batchSize, particleBias: particleBias)
            let d = bb.config.encoderDim, r = bb.config.registers
            let keep = g.op("Unsqueeze", [g.op("Cast", ["mask"], name: "mask_float", [("to", .int(Int64(ONNXGraph.DataType.float.rawValue)))]),
                                          g.constant([2], name: "last_axis")], name: "mask_float")
            let real = g.op("Mul", [g.op("Slice", [h, g.constant([r], name: "registers_end"), g.constant([Int(Int64.max)], name: "end"),
                                                   g.constant([1], name: "set_axis")], name: "particles"), keep], name: "particles")
            let count = g.op("Max", [g.op("ReduceSum", [keep, g.constant([1], name: "set_axis")], name: "pooled"),
                                     g.constant([1], shape: [], name: "one")], name: "pooled")
            let pooled = g.op("Div", [g.op("ReduceSum", [real, g.constant([1], name: "set_axis")], name: "pooled", [("keepdims", .int(0))]),
                                      g.op("Reshape", [count, g.constant([-1, 1], name: "column")], name: "pooled")], name: "pooled")
            g.output(real, as: "particles", .float, [batch, particles, .fixed(d)])
            if r > 0 {
                let regs = g.op("Slice", [h, g.constant([0], name: "start"), g.constant([r], name: "registers_end"),
                                          g.constant([1], name: "set_axis")], name: "registers")
                g.output(regs, as: "registers", .float, [batch, .fixed(r), .fixed(d)])
            }
            g.output(pooled, as: "pooled", .float, [batch, .fixed(d)])
        case .classifier(let bb, let head, let names):
            try check(head, prefix: "head")
            var x: String, bias: String
            if let bb {
                try check(bb, prefix: "backbone")
                (x, bias) = try encode(g, bb, prefix: "backbone.", batchSize: batchSize, particleBias: particleBias)
            } else {
                x = try bareInputs(g, width: head.inputDim)
                bias = g.op("Unsqueeze", [particleBias, g.constant([1, 2], name: "head_axes")], name: "key_bias")
            }
            let logits = try classify(g, head, x: x, keyBias: bias, batchSize: batchSize, path: "head")
            let scores = head.classes == 1 ? g.op("Sigmoid", [logits], name: "scores")
                : g.op("Softmax", [logits], name: "scores", [("axis", .int(-1))])
            g.output(logits, as: "logits", .float, [batch, .fixed(head.classes)])
            g.output(scores, as: "scores", .float, [batch, .fixed(head.classes)])
            try classNames(g, names)
        case .particleHead(let bb, let head, let names):
            try classNames(g, names)
            try check(head, prefix: "head")
            var x: String
            if let bb {
                try check(bb, prefix: "backbone")
                let h = try encode(g, bb, prefix: "backbone.", batchSize: batchSize, particleBias: particleBias).0
                x = g.op("Slice", [h, g.constant([bb.config.registers], name: "registers_end"), g.constant([Int(Int64.max)], name: "end"),
                                   g.constant([1], name: "set_axis")], name: "backbone.particles")
            } else {
                x = try bareInputs(g, width: (head as? PerTrackMLP)?.inputDim ?? (head as? EdgeHead)?.inputDim ?? 0)
            }
            if let tracks = head as? PerTrackMLP {
                let logits = try g.mlp(x, tracks.mlp, path: "head.mlp")
                g.output(logits, as: "logits", .float, [batch, particles, .fixed(tracks.outputs)])
                g.output(g.op("Softmax", [logits], name: "scores", [("axis", .int(-1))]), as: "scores", .float,
                         [batch, particles, .fixed(tracks.outputs)])
            } else if let edges = head as? EdgeHead {
                let f = try g.mlp(x, edges.embedding.mlp, path: "head.embedding.mlp")
                let pairs = g.op("Abs", [g.op("Sub", [g.op("Unsqueeze", [f, g.constant([2], name: "row_axis")], name: "head.pairs"),
                                                      g.op("Unsqueeze", [f, g.constant([1], name: "column_axis")], name: "head.pairs")],
                                              name: "head.pairs")], name: "head.pairs")       // [B, N, N, H]: |F(z_i) - F(z_j)|
                let logits = g.op("Squeeze", [try g.linear(pairs, edges.output, path: "head.output"), g.constant([-1], name: "last_axis")],
                                  name: "edge_logits")
                g.output(logits, as: "edge_logits", .float, [batch, particles, particles])
                g.output(g.op("Sigmoid", [logits], name: "edge_scores"), as: "edge_scores", .float, [batch, particles, particles])
            }
        }
        return g
    }

    /// The class names as a JSON list in the metadata (`mpm.class_names`), when there are any.
    static func classNames(_ g: ONNXGraph, _ names: [String]) throws {
        if names.isEmpty { return }
        let json = try JSONSerialization.data(withJSONObject: names)
        g.metadata.append(("mpm.class_names", String(decoding: json, as: UTF8.self)))
    }

    /// What a head reads without a backbone: the features and a one-hot of the type [B, N, 15].
    static func bareInputs(_ g: ONNXGraph, width: Int) throws -> String {
        let expected = JetSchema.featureCount + JetSchema.particleTypes.count
        guard width == expected else {
            throw ExportError("the head reads \(width) inputs, but without a backbone it gets \(expected) (features and a one-hot type)")
        }
        let oneHot = g.op("OneHot", [safeTypes(g), g.constant([JetSchema.particleTypes.count], name: "type_count"),
                                     g.constant([0, 1], shape: [2], name: "one_hot_values")], name: "one_hot_types")
        return g.op("Concat", ["features", oneHot], name: "inputs", [("axis", .int(-1))])
    }

    /// Types of padded slots set to 0, so a lookup never reads out of range (padding is masked).
    static func safeTypes(_ g: ONNXGraph) -> String {
        g.op("Where", ["mask", "types", g.constant([0], name: "type_zero")], name: "safe_types")
    }

    /// The backbone's encoder output with the registers in front [B, R + N, D], and the key
    /// bias of that layout [B, 1, 1, R + N].
    static func encode(_ g: ONNXGraph, _ bb: MPMBackbone, prefix p: String, batchSize: String,
                       particleBias: String) throws -> (String, String) {
        let embedded = g.op("Gather", [try g.weight(p + "type_embedding.weight", bb.typeEmbedding.weight), safeTypes(g)],
                            name: p + "type_embedding", [("axis", .int(0))])
        var h = g.op("Add", [try g.linear("features", bb.featureEmbedding, path: p + "feature_embedding"), embedded], name: p + "embedding")
        var bias = particleBias
        let encoder = bb.encoder, d = bb.config.encoderDim
        if let registers = encoder.registers {
            let r = encoder.registerCount
            let shape = g.op("Concat", [batchSize, g.constant([r, d], name: p + "registers_shape")], name: p + "encoder.registers",
                             [("axis", .int(0))])
            let expanded = g.op("Expand", [try g.weight(p + "encoder.registers", registers), shape], name: p + "encoder.registers")
            h = g.op("Concat", [expanded, h], name: p + "encoder.registers", [("axis", .int(1))])
            let open = g.op("Expand", [g.constant([0], shape: [1, 1], name: p + "register_bias"),
                                       g.op("Concat", [batchSize, g.constant([r], name: p + "register_count")], name: p + "register_bias",
                                            [("axis", .int(0))])], name: p + "register_bias")
            bias = g.op("Concat", [open, particleBias], name: p + "key_bias", [("axis", .int(1))])
        }
        let keyBias = g.op("Unsqueeze", [bias, g.constant([1, 2], name: p + "key_bias_axes")], name: p + "key_bias")
        for (name, m) in encoder.layers.children {
            guard let layer = m as? TransformerLayer else { throw ONNXGraph.unknown(m, path: p + "encoder.layers." + name) }
            h = try g.transformerLayer(h, layer, keyBias: keyBias, path: p + "encoder.layers." + name)
        }
        if let n = encoder.finalNorm { h = try g.layerNorm(h, n, path: p + "encoder.final_norm") }
        return (h, keyBias)
    }

    /// The class-attention head's logits [B, classes] for the sets x [B, L, inputDim].
    static func classify(_ g: ONNXGraph, _ head: ClassAttentionClassifier, x: String, keyBias: String, batchSize: String,
                         path: String) throws -> String {
        let kv = try g.linear(x, head.input, path: path + ".input")
        let width = head.pool.dim
        let shape = g.op("Concat", [batchSize, g.constant([1, width], name: path + ".token_shape")], name: path + ".pool.token",
                         [("axis", .int(0))])
        var token = g.op("Expand", [try g.weight(path + ".pool.token", head.pool.token), shape], name: path + ".pool.token")
        for (name, m) in head.pool.layers.children {
            guard let layer = m as? TransformerLayer else { throw ONNXGraph.unknown(m, path: path + ".pool.layers." + name) }
            token = try g.transformerLayer(token, layer, kv: kv, keyBias: keyBias, path: path + ".pool.layers." + name)
        }
        let logits = try g.linear(try g.layerNorm(token, head.norm, path: path + ".norm"), head.output, path: path + ".output")
        return g.op("Reshape", [logits, g.constant([0, head.classes], name: path + ".logits_shape")], name: path + ".logits")
    }
}
