import Foundation

/// PyTorch-style printing: `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], requires_grad=True)`.
/// More than 1000 elements print the first and last 3 entries of each dim around `...`; a summarised
/// print formats (and sizes its columns from) only the elements it shows, so a [51610, 128] tensor
/// prints in milliseconds.
extension Tensor: CustomStringConvertible {
    public var description: String {
        let body: String
        if shape.contains(0) {
            // Rendered without walking the dims: the others may be huge ([2^62, 0] is a valid view).
            body = String(repeating: "[", count: Swift.max(dim, 1)) + String(repeating: "]", count: Swift.max(dim, 1))
        } else {
            let summarize = numel > 1000
            let strides = Tensor.contiguousStrides(shape)
            let shown = summarize ? Tensor.shownOffsets(shape: shape, strides: strides) : nil
            let formatted = Tensor.formatElements(contiguous(), summarize: summarize, only: shown)
            var lookup: [Int: Int] = [:]
            if let shown { for (k, o) in shown.enumerated() { lookup[o] = k } }
            body = Tensor.render({ o in shown == nil ? formatted[o] : formatted[lookup[o] ?? 0] }, shape: shape, dim: 0, offset: 0,
                                 strides: strides, summarize: summarize, indent: 7)
        }
        var extras: [String] = []
        if shape.contains(0) && dim > 1 { extras.append("size=(\(shape.map(String.init).joined(separator: ", ")))") }
        if dtype != .f32 { extras.append("dtype=\(dtype.name)") }
        if let fn = gradFn { extras.append("grad_fn=<\(fn.name)>") } else if requiresGrad { extras.append("requires_grad=True") }
        return "tensor(" + ([body] + extras).joined(separator: ", ") + ")"
    }

    /// Flat (contiguous) offsets of the elements a summarised print shows: per dim the first and
    /// last 3 indices when the dim is longer than 6, every index otherwise.
    static func shownOffsets(shape: [Int], strides: [Int]) -> [Int] {
        var offsets = [0]
        for (d, n) in shape.enumerated() {
            let idx = n > 6 ? [0, 1, 2, n - 3, n - 2, n - 1] : Array(0..<n)
            offsets = offsets.flatMap { o in idx.map { o + $0 * strides[d] } }
        }
        return offsets
    }

    /// Formats every element (or, with `only`, just the elements at those flat offsets) to a
    /// common width; the number style (fixed, integral, scientific) is chosen from the same elements.
    static func formatElements(_ t: Tensor, summarize: Bool, only: [Int]? = nil) -> [String] {
        func pick<T>(_ a: [T]) -> [T] { only.map { $0.map { a[$0] } } ?? a }
        switch t.dtype {
        case .bool: return pad(pick(t.toBoolArray()).map { $0 ? "True" : "False" })
        case .i64: return pad(pick(t.toInt64Array()).map { String($0) })
        case .f32:
            let v = pick(t.toFloatArray())
            let finite = v.filter { $0.isFinite }
            let absMax = finite.map { Swift.abs($0) }.max() ?? 0
            let absMin = finite.filter { $0 != 0 }.map { Swift.abs($0) }.min() ?? 0
            let integral = finite.allSatisfy { $0.rounded() == $0 }
            let sci = absMax >= 1e8 || (absMin > 0 && absMin < 1e-4) || (absMin > 0 && absMax / absMin > 1000 && !integral)
            return pad(v.map { x in
                if x.isNaN { return "nan" }
                if x.isInfinite { return x > 0 ? "inf" : "-inf" }
                if integral && !sci { return String(format: "%.0f.", Double(x)) }
                return sci ? String(format: "%.4e", Double(x)) : String(format: "%.4f", Double(x))
            })
        }
    }

    private static func pad(_ s: [String]) -> [String] {
        let w = s.map { $0.count }.max() ?? 0
        return s.map { String(repeating: " ", count: w - $0.count) + $0 }
    }

    private static func render(_ s: (Int) -> String, shape: [Int], dim d: Int, offset: Int, strides: [Int],
                               summarize: Bool, indent: Int) -> String {
        if shape.isEmpty { return s(0).trimmingCharacters(in: .whitespaces) }
        let n = shape[d]
        let idx: [Int?] = summarize && n > 6 ? [0, 1, 2, nil, n - 3, n - 2, n - 1] : (0..<n).map { $0 }
        if d == shape.count - 1 {
            return "[" + idx.map { $0.map { s(offset + $0 * strides[d]) } ?? "..." }.joined(separator: ", ") + "]"
        }
        let sep = "," + String(repeating: "\n", count: shape.count - 1 - d) + String(repeating: " ", count: indent + d + 1)
        return "[" + idx.map { i in
            i.map { render(s, shape: shape, dim: d + 1, offset: offset + $0 * strides[d], strides: strides,
                           summarize: summarize, indent: indent) } ?? "..."
        }.joined(separator: sep) + "]"
    }
}
