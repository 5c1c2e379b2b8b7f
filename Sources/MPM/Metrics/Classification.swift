import Tensors

/// Multi-class classification metrics: accuracy, balanced accuracy (scikit-learn's
/// `balanced_accuracy_score`) and the confusion matrix. `predictions` is either class numbers
/// [N] or scores [N, C], of which the first largest of each row is the predicted class (column
/// j is class `classBase + j`); `labels` are class numbers [N]. Class numbers count from
/// `classBase` (0 in Swift, 1 from Lua) and may be i64, bool or whole f32 values.
///
/// ```swift
/// let logits = try Tensor.randn([100, 3])
/// let labels = try Tensor((0..<100).map { Int64($0 % 3) }, shape: [100])
/// let acc = try Metrics.accuracy(logits, labels)
/// let cm = try Metrics.confusionMatrix(logits, labels)        // int64 [3, 3], rows = truth
/// ```
extension Metrics {
    /// Predicted and true classes (counting from 0), checked to be the same, non-zero length;
    /// `columns` is C when the predictions are scores [N, C], and then every label must be one
    /// of those C classes: a label the scores cannot predict means labels and scores belong to
    /// different problems, and the accuracy would be a number without meaning.
    static func classPairs(_ predictions: Tensor, _ labels: Tensor, base: IndexBase,
                           _ function: String) throws -> (pred: [Int], truth: [Int], columns: Int?) {
        let (pred, columns) = try Metrics.predictions(predictions, base: base, function)
        let truth = try classes(labels, base: base, function, "labels")
        try sameLength(pred.count, "pred", truth.count, "labels", function)
        if let columns, let top = truth.max(), top >= columns {
            throw TensorError("\(function): labels hold class \(base.shown(top)) but pred has scores for \(columns) classes "
                              + "(\(base.shown(0))..\(base.shown(columns - 1)))")
        }
        return (pred, truth, columns)
    }

    /// The fraction of predictions equal to the label.
    public static func accuracy(_ predictions: Tensor, _ labels: Tensor, classBase: IndexBase = .zero) throws -> Double {
        let (pred, truth, _) = try classPairs(predictions, labels, base: classBase, "accuracy")
        return Double(zip(pred, truth).lazy.filter { $0 == $1 }.count) / Double(pred.count)
    }

    /// The mean over the classes present in `labels` of the recall (the fraction of that class's
    /// samples predicted as it), as scikit-learn's `balanced_accuracy_score`; classes that are
    /// only predicted, never true, do not count.
    public static func balancedAccuracy(_ predictions: Tensor, _ labels: Tensor, classBase: IndexBase = .zero) throws -> Double {
        let (pred, truth, _) = try classPairs(predictions, labels, base: classBase, "balanced_accuracy")
        return balancedAccuracy(pred, truth)
    }

    /// Mean recall over the classes present in `truth` (0-based class numbers, same length).
    static func balancedAccuracy(_ pred: [Int], _ truth: [Int]) -> Double {
        var support: [Int: Int] = [:], hits: [Int: Int] = [:]
        for (p, t) in zip(pred, truth) {
            support[t, default: 0] += 1
            if p == t { hits[t, default: 0] += 1 }
        }
        let recalls = support.keys.sorted().map { Double(hits[$0] ?? 0) / Double(support[$0]!) }
        return recalls.reduce(0, +) / Double(recalls.count)
    }

    /// The int64 [C, C] confusion matrix: entry (i, j) counts the samples of true class i
    /// predicted as class j (counting from 0). C is `classes` when given (a larger class
    /// number is an error), otherwise the largest class seen in the predictions or the labels
    /// (and at least the C of scores [N, C]).
    public static func confusionMatrix(_ predictions: Tensor, _ labels: Tensor, classes: Int? = nil,
                                       classBase: IndexBase = .zero) throws -> Tensor {
        let function = "confusion_matrix"
        let (pred, truth, columns) = try classPairs(predictions, labels, base: classBase, function)
        let top = Swift.max(pred.max()!, truth.max()!), limit = 1 << 15
        let c: Int
        if let classes {
            guard classes >= 1 else { throw TensorError("\(function): classes must be at least 1, got \(classes)") }
            guard top < classes else { throw TensorError("\(function): class \(classBase.shown(top)) found but classes = \(classes)") }
            if let columns, columns > classes {
                throw TensorError("\(function): pred has \(columns) score columns but classes = \(classes)")
            }
            c = classes
        } else {
            guard top < limit else { throw TensorError("\(function): class \(classBase.shown(top)) is too large for a dense [C, C] matrix") }
            c = Swift.max(top + 1, columns ?? 0)
        }
        guard c <= limit else { throw TensorError("\(function): \(c) classes are too many for a dense [C, C] matrix (at most \(limit))") }
        return try Tensor.make([c, c], Int64.self) { p, count in
            p.initialize(repeating: 0, count: count)
            for (t, q) in zip(truth, pred) { p[t * c + q] += 1 }
        }
    }
}
