import CLua
import CSupport
import MPM
import Tensors

/// `mpm.metrics`: classification, ROC and clustering metrics (Swift kernels in
/// Sources/MPM/Metrics). Class numbers count from 1 here; binary labels are 0/1 or booleans.
/// Every input is a tensor or a plain Lua table of numbers (or booleans).
enum MetricsBinding {
    static func register(_ lua: LuaState, in table: Int32) {
        lua.register("accuracy", in: table, doc: """
            mpm.metrics.accuracy(pred, labels) -> number
            The fraction of samples whose predicted class equals the label. pred is class numbers
            [N] (counting from 1) or scores [N, C], C >= 2 (the first largest score of a row is its
            class); labels are class numbers [N] counting from 1 (with scores, within 1..C: a label
            the scores cannot predict is an error, as is an empty or NaN input).
            """) { lua in
            lua.push(try Metrics.accuracy(try input(lua, 1, "accuracy", "pred"), try input(lua, 2, "accuracy", "labels"), classBase: .one))
            return 1
        }
        lua.register("balanced_accuracy", in: table, doc: """
            mpm.metrics.balanced_accuracy(pred, labels) -> number
            The mean per-class recall over the classes present in labels (scikit-learn's
            balanced_accuracy_score); classes only predicted, never true, do not count. pred and
            labels as in mpm.metrics.accuracy.
            """) { lua in
            let f = "balanced_accuracy"
            lua.push(try Metrics.balancedAccuracy(try input(lua, 1, f, "pred"), try input(lua, 2, f, "labels"), classBase: .one))
            return 1
        }
        lua.register("confusion_matrix", in: table, doc: """
            mpm.metrics.confusion_matrix(pred, labels [, classes]) -> int64 [C, C]
            cm[i][j] counts the samples of true class i predicted as class j (rows = truth,
            columns = prediction, both counting from 1). C = classes when given (a larger class
            is an error), else the largest class seen in pred or labels (at least the C of
            scores [N, C]).
            """) { lua in
            let f = "confusion_matrix"
            let classes = lua.isNoneOrNil(3) ? nil : try lua.integer(3)
            lua.push(try Metrics.confusionMatrix(try input(lua, 1, f, "pred"), try input(lua, 2, f, "labels"),
                                            classes: classes, classBase: .one))
            return 1
        }
        lua.register("roc_curve", in: table, doc: """
            mpm.metrics.roc_curve(scores, labels) -> fpr, tpr, thresholds
            The ROC curve of binary scores [N] (higher = signal) against labels [N] (0/1 or
            booleans, 1 = signal), as float32 tensors [M]: the points of scikit-learn's
            roc_curve(drop_intermediate=False): one per distinct score, thresholds descending,
            the first point (0, 0) at threshold +inf. Both classes must be present.
            """) { lua in
            let f = "roc_curve"
            let curve = try Metrics.rocCurve(scores: try input(lua, 1, f, "scores"), labels: try input(lua, 2, f, "labels"))
            let (fpr, tpr, thresholds) = try curve.tensors()
            lua.push(fpr)
            lua.push(tpr)
            lua.push(thresholds)
            return 3
        }
        lua.register("roc_auc", in: table, doc: """
            mpm.metrics.roc_auc(scores, labels) -> number
            The area under the ROC curve (scikit-learn's roc_auc_score): the probability that a
            random signal sample outscores a random background one, tied scores counting half.
            An error when labels hold only one class.
            """) { lua in
            let f = "roc_auc"
            lua.push(try Metrics.rocAUC(scores: try input(lua, 1, f, "scores"), labels: try input(lua, 2, f, "labels")))
            return 1
        }
        lua.register("sic", in: table, doc: """
            mpm.metrics.sic(scores, labels [, {fpr = 0.01}]) -> sic, tpr, fpr
            The significance improvement of MPMv2's CWoLa protocol: tpr / sqrt(fpr + 1e-12) at the
            ROC point (of mpm.metrics.roc_curve) whose fpr is closest to the target fpr (the
            first such point on a tie), with that point's tpr and fpr.
            """) { lua in
            let f = "sic"
            try lua.checkOptions(3, allowed: ["fpr"], function: f)
            let target = try lua.option(3, "fpr", lua.number) ?? 0.01
            let p = try Metrics.sic(scores: try input(lua, 1, f, "scores"), labels: try input(lua, 2, f, "labels"), fpr: target)
            lua.push(p.sic)
            lua.push(p.tpr)
            lua.push(p.fpr)
            return 3
        }
        lua.register("rejection", in: table, doc: """
            mpm.metrics.rejection(scores, labels [, {efficiency = 0.5}]) -> rejection, tpr, fpr
            The background rejection 1/fpr at the ROC point whose tpr (signal efficiency) is
            closest to efficiency (the first such point on a tie), with that point's tpr and fpr;
            math.huge (inf) when no background passes there (fpr = 0).
            """) { lua in
            let f = "rejection"
            try lua.checkOptions(3, allowed: ["efficiency"], function: f)
            let target = try lua.option(3, "efficiency", lua.number) ?? 0.5
            let p = try Metrics.rejection(scores: try input(lua, 1, f, "scores"), labels: try input(lua, 2, f, "labels"),
                                      efficiency: target)
            lua.push(p.rejection)
            lua.push(p.tpr)
            lua.push(p.fpr)
            return 3
        }
        lua.register("adjusted_rand_index", in: table, doc: """
            mpm.metrics.adjusted_rand_index(truth, pred) -> number
            The adjusted Rand index of two labellings [N] of the same points (scikit-learn's
            adjusted_rand_score): 1 for identical partitions, about 0 for independent ones.
            Labels are any integers; only which points share a label matters. Identical
            partitions (one cluster each, all singletons, a single point) give 1.0.
            """) { lua in
            let f = "adjusted_rand_index"
            lua.push(try Metrics.adjustedRandIndex(try input(lua, 1, f, "truth"), try input(lua, 2, f, "pred")))
            return 1
        }
    }

    /// Per-particle metrics: vertex finding from pair decisions, balanced accuracy per group.
    static func registerPairs(_ lua: LuaState, in table: Int32) {
        lua.register("adjusted_rand_index_reference", in: table, doc: """
            mpm.metrics.adjusted_rand_index_reference(pair_scores, truth) -> number
            The MPMv2 reference code's own ARI of one set of n points (not scikit-learn's): pair_scores
            [n(n-1)/2] are logits (or booleans) of the pairs i < j in the layout of mpm.set_pairs, a pair
            being "together" when its score is > 0; truth [n] labels. RI = share of pairs whose decision
            matches the truth (no transitive closure); E = b g + (1-b)(1-g) with b = B(n-1)/B(n) (Bell
            numbers) and g = sum_v C(n_v,2)/C(n,2); ARI = (RI - E)/(1 - E). n = 1 (no pairs) gives 1.0;
            1 - E = 0 cannot happen for n >= 2 (it would give 1.0 when RI = 1, else 0.0).
            """) { lua in
            let f = "adjusted_rand_index_reference"
            lua.push(try Metrics.referenceAdjustedRandIndex(pairScores: try input(lua, 1, f, "pair_scores"),
                                                            truth: try input(lua, 2, f, "truth")))
            return 1
        }
        lua.register("connected_components", in: table, doc: """
            mpm.metrics.connected_components(pair_scores, n) -> int64 [n]
            The partition of n points whose pairs i < j (layout of mpm.set_pairs) with score > 0 are
            edges, into connected components: cluster labels 1, 2, ... in order of first appearance.
            """) { lua in
            let f = "connected_components"
            lua.push(try Metrics.connectedComponents(pairScores: try input(lua, 1, f, "pair_scores"),
                                                     points: try lua.integer(2), base: .one))
            return 1
        }
        lua.register("pair_partition", in: table, doc: """
            mpm.metrics.pair_partition(pair_scores, truth, offsets) -> ari [B], ari_reference [B], clusters [T]
            Vertex finding over a packed batch: pair_scores [P] (an EdgeHead's logits, layout of
            mpm.set_pairs over offsets), truth [T] (vertex ids), offsets [B+1]. Per set: the standard ARI
            (mpm.metrics.adjusted_rand_index) of the connected components of the pairs with score > 0,
            and the reference ARI (mpm.metrics.adjusted_rand_index_reference), as float32 tensors; sets of
            one point give 1.0 for both. clusters: each point's component inside its set, from 1.
            """) { lua in
            let f = "pair_partition"
            let r = try Metrics.pairPartition(pairScores: try input(lua, 1, f, "pair_scores"), truth: try input(lua, 2, f, "truth"),
                                              offsets: try lua.tensor(3))
            lua.push(try Tensor(r.ari.map { Float($0) }, shape: [r.ari.count]))
            lua.push(try Tensor(r.ariReference.map { Float($0) }, shape: [r.ariReference.count]))
            lua.push(try Tensor(r.clusters.map { $0 + 1 }, shape: [r.clusters.count]))
            return 3
        }
        lua.register("balanced_accuracy_by_group", in: table, doc: """
            mpm.metrics.balanced_accuracy_by_group(pred, labels, groups) -> values, counts
            mpm.metrics.balanced_accuracy within each group of samples: groups [N] integers (e.g. the
            track multiplicity of each track's jet); pred and labels as in mpm.metrics.accuracy.
            values[g] is the balanced accuracy of group g, counts[g] its number of samples.
            """) { lua in
            let f = "balanced_accuracy_by_group"
            let scores = try Metrics.balancedAccuracyByGroup(try input(lua, 1, f, "pred"), try input(lua, 2, f, "labels"),
                                                             groups: try input(lua, 3, f, "groups"), classBase: .one)
            for pick in [true, false] {
                lua.newTable(hash: Int32(scores.count))
                for s in scores {
                    if pick { lua.push(s.value) } else { lua.push(s.count) }
                    lua_rawseti(lua.state, -2, lua_Integer(s.group))
                }
            }
            return 2
        }
    }

    /// Argument `index` as a tensor: a tensor, or a plain table of numbers or booleans.
    private static func input(_ lua: LuaState, _ index: Int32, _ function: String, _ name: String) throws -> Tensor {
        guard lua.type(index) == LUA_TTABLE, try tensorClass.test(lua, index) == nil else { return try lua.tensor(index) }
        do {
            let literal = try TensorLiteral.read(lua, index)
            return try literal.tensor(dtype: literal.dtype)
        } catch LuaError.argument(_, let message) {
            let problem = message.hasPrefix("tensor: ") ? String(message.dropFirst(8)) : message
            throw LuaError.argument(index, "\(function): \(name): \(problem)")
        }
    }
}
