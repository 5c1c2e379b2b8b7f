import Foundation

/// PyTorch-style printing: `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], requires_grad=True)`.
/// More than 1000 elements print the first and last 3 entries of each dim around `...`; a summarised
/// print reads, formats (and sizes its columns from) only the elements it shows, straight from the
/// view's storage: a [2000000, 64] tensor, or an expanded view of any size, prints at once and
/// copies nothing.
extension Tensor: CustomStringConvertible {
    public var description: String {
        let body: String
        if shape.contains(0) {
            // Rendered without walking the dims: the others may be huge ([2^62, 0] is a valid view).
            body = String(repeating: "[", count: Swift.max(dim, 1)) + String(repeating: "]", count: Swift.max(dim, 1))
        } else {
            let summarize = numel > 1000
            let shown = Tensor.shownOffsets(shape: shape, strides: strides, summarize: summarize)
            let formatted = formatElements(at: shown)
            var lookup: [Int: Int] = [:]
            for (k, o) in shown.enumerated() { lookup[o] = k }
            body = Tensor.render({ o in formatted[lookup[o] ?? 0] }, shape: shape, dim: 0, offset: 0,
                                 strides: strides, summarize: summarize, indent: 7)
        }
        var extras: [String] = []
        if shape.contains(0) && dim > 1 { extras.append("size=(\(shape.map(String.init).joined(separator: ", ")))") }
        if dtype != .f32 { extras.append("dtype=\(dtype.name)") }
        if let fn = gradFn { extras.append("grad_fn=<\(fn.name)>") } else if requiresGrad { extras.append("requires_grad=True") }
        return "tensor(" + ([body] + extras).joined(separator: ", ") + ")"
    }

    /// Offsets from the first element (with the view's `strides`) of the elements a print shows:
    /// every element, or when summarising, per dim the first and last 3 indices of a dim longer
    /// than 6.
    static func shownOffsets(shape: [Int], strides: [Int], summarize: Bool) -> [Int] {
        var offsets = [0]
        for (d, n) in shape.enumerated() {
            let idx = summarize && n > 6 ? [0, 1, 2, n - 3, n - 2, n - 1] : Array(0..<n)
            offsets = offsets.flatMap { o in idx.map { o + $0 * strides[d] } }
        }
        return offsets
    }

    /// Formats the elements at these offsets from the first element to a common width; the
    /// number style (fixed, integral, scientific) is chosen from the same elements.
    func formatElements(at offsets: [Int]) -> [String] {
        switch dtype {
        case .bool:
            let p = pointer(Bool.self)
            return Tensor.pad(offsets.map { p[$0] ? "True" : "False" })
        case .i64:
            let p = pointer(Int64.self)
            return Tensor.pad(offsets.map { String(p[$0]) })
        case .f32:
            let p = pointer(Float.self)
            let v = offsets.map { p[$0] }
            let finite = v.filter { $0.isFinite }
            let absMax = finite.map { Swift.abs($0) }.max() ?? 0
            let absMin = finite.filter { $0 != 0 }.map { Swift.abs($0) }.min() ?? 0
            let integral = finite.allSatisfy { $0.rounded() == $0 }
            let sci = absMax >= 1e8 || (absMin > 0 && absMin < 1e-4) || (absMin > 0 && absMax / absMin > 1000 && !integral)
            return Tensor.pad(v.map { x in
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
