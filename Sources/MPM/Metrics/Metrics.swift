import Tensors

/// Evaluation metrics of the downstream protocols, checked against scikit-learn
/// (`tools/metrics_oracle.py`): classification (`accuracy`, `balancedAccuracy`,
/// `confusionMatrix`), binary ROC curves (`rocCurve`, `rocAUC`, `sic`, `rejection`) and
/// clustering (`adjustedRandIndex`). Inputs are tensors; every bad input (wrong shape, lengths
/// that differ, NaN scores, labels that are not class numbers or not 0/1, labels beyond the
/// columns of a score matrix, one-column scores, empty inputs) throws a `TensorError` whose
/// message names the function as Lua spells it (`roc_auc: ...`), never a trap.
///
/// Class numbers count from `classBase` (0 in Swift; the Lua binding passes 1); results that
/// are tensors (the confusion matrix) are indexed from 0 in Swift and from 1 in Lua.
///
/// ```swift
/// let auc = try Metrics.rocAUC(scores: Tensor([0.1, 0.4, 0.35, 0.8] as [Float]),
///                              labels: Tensor([false, false, true, true]))   // 0.75
/// ```
public enum Metrics {}

/// Reading and checking metric inputs: one-dimensional tensors of scores, binary labels, class
/// numbers or cluster labels, with messages in the caller's terms.
extension Metrics {
    /// The values of a 1-D tensor as Doubles (exact for f32, bool and i64 below 2^53).
    static func values(_ t: Tensor, _ function: String, _ name: String) throws -> [Double] {
        guard t.dim == 1 else { throw TensorError("\(function): \(name) must be 1-D, got shape \(formatShape(t.shape))") }
        switch t.dtype {
        case .f32: return t.withElements(as: Float.self) { $0.map(Double.init) }
        case .i64: return t.withElements(as: Int64.self) { $0.map(Double.init) }
        case .bool: return t.withElements(as: Bool.self) { $0.map { $0 ? 1 : 0 } }
        }
    }

    /// Scores of a binary classifier: 1-D, no NaN (infinities order like any other value).
    static func scores(_ t: Tensor, _ function: String) throws -> [Double] {
        let s = try values(t, function, "scores")
        if let i = s.firstIndex(where: { $0.isNaN }) {
            throw TensorError("\(function): scores contain NaN (the first at element \(i + 1) of \(s.count))")
        }
        return s
    }

    /// Binary labels: a bool tensor, or numbers that are all 0 or 1.
    static func binaryLabels(_ t: Tensor, _ function: String) throws -> [Bool] {
        let v = try values(t, function, "labels")
        if let bad = v.first(where: { $0 != 0 && $0 != 1 }) {
            throw TensorError("\(function): labels must be 0/1 or booleans, found \(number(bad))")
        }
        return v.map { $0 == 1 }
    }

    /// Integral values of a 1-D tensor (class numbers or cluster labels); f32 values must be
    /// whole numbers.
    static func integers(_ t: Tensor, _ function: String, _ name: String) throws -> [Int64] {
        guard t.dim == 1 else { throw TensorError("\(function): \(name) must be 1-D, got shape \(formatShape(t.shape))") }
        if t.dtype == .i64 { return t.withElements(as: Int64.self) { Array($0) } }
        let v = try values(t, function, name)
        if let bad = v.first(where: { $0.rounded() != $0 || Swift.abs($0) > 9.0e15 }) {
            throw TensorError("\(function): \(name) must be whole numbers, found \(number(bad))")
        }
        return v.map { Int64($0) }
    }

    /// Class numbers counting from `base`, returned counting from 0.
    static func classes(_ t: Tensor, base: IndexBase, _ function: String, _ name: String) throws -> [Int] {
        let v = try integers(t, function, name)
        if let bad = v.first(where: { $0 < Int64(base.value) }) {
            throw TensorError("\(function): \(name) must be class numbers counting from \(base), found \(bad)")
        }
        return v.map { Int($0) - base.value }
    }

    /// Predicted classes (counting from 0) from class numbers [N] counting from `base`, or from
    /// scores [N, C] (the first largest score of each row); `columns` is C for scores.
    static func predictions(_ t: Tensor, base: IndexBase, _ function: String) throws -> (classes: [Int], columns: Int?) {
        if t.dim == 1 { return (try classes(t, base: base, function, "pred"), nil) }
        guard t.dim == 2 else {
            throw TensorError("\(function): pred must be class numbers [N] or scores [N, C], got shape \(formatShape(t.shape))")
        }
        let c = t.shape[1]
        // One column predicts class 1 for every sample: the "accuracy" would be the share of
        // class 1, whatever the classifier does.
        guard c >= 2 else {
            throw TensorError("\(function): pred scores [N, C] need a column per class, at least 2, got shape \(formatShape(t.shape)) "
                              + "(a binary classifier's single score: use roc_auc, or pass the predicted classes)")
        }
        let hasNaN = t.dtype == .f32 && t.withElements(as: Float.self) { $0.contains { $0.isNaN } }
        if hasNaN { throw TensorError("\(function): pred scores contain NaN") }
        let predicted = (try t.argmax(dim: 1)).toIntArray()
        return (predicted, c)
    }

    /// Checks that two inputs have the same, non-zero length.
    static func sameLength(_ a: Int, _ aName: String, _ b: Int, _ bName: String, _ function: String) throws {
        guard a == b else { throw TensorError("\(function): \(aName) has \(a) values but \(bName) has \(b)") }
        guard a > 0 else { throw TensorError("\(function): \(aName) and \(bName) are empty") }
    }

    /// A value as messages print it: `2` rather than `2.0`.
    static func number(_ v: Double) -> String {
        v.rounded() == v && Swift.abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
