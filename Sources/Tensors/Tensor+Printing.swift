import Foundation

/// PyTorch-style printing: `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], requires_grad=True)`.
/// More than 1000 elements print the first and last 3 entries of each dim around `...`.
extension Tensor: CustomStringConvertible {
    public var description: String {
        let body: String
        if shape.contains(0) {
            // Rendered without walking the dims: the others may be huge ([2^62, 0] is a valid view).
            body = String(repeating: "[", count: Swift.max(dim, 1)) + String(repeating: "]", count: Swift.max(dim, 1))
        } else {
            let summarize = numel > 1000
            // Summarised, only the shown elements are gathered and formatted (as PyTorch's
            // get_summarized_data): a [50000, 128] tensor formats 36 numbers, not 6.4 million.
            let shown = summarize ? Tensor.summarized(detach()) : contiguous()
            let strings = Tensor.formatElements(shown, summarize: summarize)
            Tensor.lastFormattedCount = strings.count
            body = Tensor.render(strings, shape: shape, dim: 0, offset: 0,
                                 strides: Tensor.contiguousStrides(shown.shape), summarize: summarize, indent: 7)
        }
        var extras: [String] = []
        if shape.contains(0) && dim > 1 { extras.append("size=(\(shape.map(String.init).joined(separator: ", ")))") }
        if dtype != .f32 { extras.append("dtype=\(dtype.name)") }
        if let fn = gradFn { extras.append("grad_fn=<\(fn.name)>") } else if requiresGrad { extras.append("requires_grad=True") }
        return "tensor(" + ([body] + extras).joined(separator: ", ") + ")"
    }

    /// How many elements the last `description` formatted (tests check that a summarised print
    /// formats only what it shows).
    public nonisolated(unsafe) static var lastFormattedCount = 0

    /// The first and last 3 entries of every dim longer than 6, joined: what a summarised
    /// print shows, as a small contiguous tensor.
    static func summarized(_ t: Tensor) -> Tensor {
        var out = t
        for d in 0..<t.dim where t.shape[d] > 6 {
            let n = t.shape[d]
            if let head = try? out.narrow(d, start: 0, length: 3), let tail = try? out.narrow(d, start: n - 3, length: 3),
               let joined = try? Tensor.cat([head, tail], dim: d) {
                out = joined
            }
        }
        return out.contiguous()
    }

    /// Formats every element (or only the shown ones' neighbourhood when summarising) to a common width.
    static func formatElements(_ t: Tensor, summarize: Bool) -> [String] {
        switch t.dtype {
        case .bool: return pad(t.toBoolArray().map { $0 ? "True" : "False" })
        case .i64: return pad(t.toInt64Array().map { String($0) })
        case .f32:
            let v = t.toFloatArray()
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

    private static func render(_ s: [String], shape: [Int], dim d: Int, offset: Int, strides: [Int],
                               summarize: Bool, indent: Int) -> String {
        if shape.isEmpty { return s.first?.trimmingCharacters(in: .whitespaces) ?? "" }
        let n = shape[d]
        // Summarised, `s` holds only the shown entries: a long dim's last three sit at 3, 4, 5.
        let idx: [Int?] = summarize && n > 6 ? [0, 1, 2, nil, 3, 4, 5] : (0..<n).map { $0 }
        if d == shape.count - 1 {
            return "[" + idx.map { $0.map { s[offset + $0 * strides[d]] } ?? "..." }.joined(separator: ", ") + "]"
        }
        let sep = "," + String(repeating: "\n", count: shape.count - 1 - d) + String(repeating: " ", count: indent + d + 1)
        return "[" + idx.map { i in
            i.map { render(s, shape: shape, dim: d + 1, offset: offset + $0 * strides[d], strides: strides,
                           summarize: summarize, indent: indent) } ?? "..."
        }.joined(separator: sep) + "]"
    }
}
