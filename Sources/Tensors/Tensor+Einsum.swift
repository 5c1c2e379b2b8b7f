/// Einstein summation (torch.einsum) for the common patterns, composed from differentiable
/// views, `sum` and `bmm`, so autograd needs no extra backward code.
///
/// Supported: explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`: the output is the letters that
/// appear once, sorted) equations over one or more operands, and `...` for leading dims that
/// broadcast as in torch.einsum (`"...ij,...jk->...ik"`; implicit output puts them first).
/// Several operands are contracted left to right. Not supported (a clear error is thrown): a
/// letter repeated inside one operand (diagonals such as `"ii->i"`).

extension Tensor {
    /// Einstein summation over `operands` as described by `equation`.
    /// ```swift
    /// let c = try Tensor.einsum("ij,jk->ik", [a, b])          // matmul
    /// let s = try Tensor.einsum("bhid,bhjd->bhij", [q, k])    // attention scores
    /// ```
    public static func einsum(_ equation: String, _ operands: [Tensor]) throws -> Tensor {
        let eq = equation.filter { !$0.isWhitespace }
        let sides = eq.components(separatedBy: "->")
        guard sides.count <= 2 else {
            throw TensorError("einsum: equation \"\(equation)\" has more than one '->'")
        }
        var termStrings = sides[0].components(separatedBy: ",")
        var explicitOutput = sides.count == 2 ? sides[1] : nil
        guard !operands.isEmpty else { throw TensorError("einsum: expected at least one operand") }
        guard termStrings.count == operands.count else {
            throw TensorError("einsum: equation \"\(equation)\" has \(termStrings.count) operand term(s) but \(operands.count) tensor(s) were given")
        }
        var operands = operands
        if eq.contains(".") {
            (termStrings, explicitOutput, operands) = try expandEllipsis(termStrings, explicitOutput, operands, equation: equation)
        }
        let terms = termStrings.map { Array($0) }
        var sizes: [Character: Int] = [:]
        var counts: [Character: Int] = [:]
        for (k, (term, t)) in zip(terms, operands).enumerated() {
            for c in term where !(c.isASCII && c.isLetter) {
                throw TensorError("einsum: invalid character '\(c)' in \"\(equation)\" (subscripts must be letters a-z, A-Z)")
            }
            guard term.count == t.dim else {
                throw TensorError("einsum: operand \(k + 1) has \(t.dim) dims (shape \(formatShape(t.shape))) but its subscripts \"\(String(term))\" name \(term.count)")
            }
            guard Set(term).count == term.count else {
                throw TensorError("einsum: repeated subscript in \"\(String(term))\" (operand \(k + 1)): diagonals are not supported")
            }
            for (d, c) in term.enumerated() {
                if let s = sizes[c], s != t.shape[d] {
                    throw TensorError("einsum: subscript '\(c)' has size \(s) in an earlier dim but size \(t.shape[d]) in operand \(k + 1) (shape \(formatShape(t.shape)))")
                }
                sizes[c] = t.shape[d]
                counts[c, default: 0] += 1
            }
        }
        let output: [Character]
        if let explicitOutput {
            output = Array(explicitOutput)
            for c in output {
                guard c.isASCII && c.isLetter else {
                    throw TensorError("einsum: invalid character '\(c)' in the output of \"\(equation)\"")
                }
                guard sizes[c] != nil else {
                    throw TensorError("einsum: output subscript '\(c)' does not appear in any operand of \"\(equation)\"")
                }
            }
            guard Set(output).count == output.count else {
                throw TensorError("einsum: repeated subscript in the output \"\(String(output))\"")
            }
        } else {
            output = counts.filter { $0.value == 1 }.map(\.key).sorted()
        }

        if operands.count == 1 { return try reduceTerm(operands[0], terms[0], to: output) }
        var acc = operands[0], accLetters = terms[0]
        for k in 1..<operands.count {
            let later = Set(output).union(terms[(k + 1)...].joined())
            let target: [Character]
            if k == operands.count - 1 {
                target = output
            } else {
                var seen = Set<Character>()
                target = (accLetters + terms[k]).filter { later.contains($0) && seen.insert($0).inserted }
            }
            acc = try contractPair(acc, accLetters, operands[k], terms[k], to: target, sizes: sizes)
            accLetters = target
        }
        return acc
    }

    /// Rewrites `...` as letters the equation does not use, right-aligned across operands so that
    /// the ellipsis dims broadcast (size-1 dims are expanded), and makes an implicit output
    /// explicit: the ellipsis letters, then the other letters that appear once, sorted.
    private static func expandEllipsis(_ terms: [String], _ explicitOutput: String?, _ operands: [Tensor],
                                       equation: String) throws -> ([String], String, [Tensor]) {
        for term in terms + [explicitOutput ?? ""]
        where term.replacingOccurrences(of: "...", with: "").contains(".") || term.components(separatedBy: "...").count > 2 {
            throw TensorError("einsum: \"\(equation)\" has a '.' that is not part of one '...' per term")
        }
        // Where each operand's ellipsis starts and how many dims it covers; their broadcast shape.
        var starts = [Int](repeating: 0, count: terms.count), spans = starts
        var ellipsisShape: [Int] = []
        for (k, (term, t)) in zip(terms, operands).enumerated() where term.contains("...") {
            let named = term.count - 3
            guard t.dim >= named else {
                throw TensorError("einsum: operand \(k + 1) has \(t.dim) dims (shape \(formatShape(t.shape))) but its subscripts \"\(term)\" name \(named) besides '...'")
            }
            starts[k] = term.distance(from: term.startIndex, to: term.range(of: "...")!.lowerBound)
            spans[k] = t.dim - named
            ellipsisShape = try broadcastShapes(ellipsisShape, Array(t.shape[starts[k]..<(starts[k] + spans[k])]), op: "einsum '...'")
        }
        let used = Set(terms.joined() + (explicitOutput ?? ""))
        let unused = (Array("abcdefghijklmnopqrstuvwxyz") + Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")).filter { !used.contains($0) }
        guard unused.count >= ellipsisShape.count else {
            throw TensorError("einsum: \"\(equation)\" leaves too few unused letters for its '...' dims")
        }
        let letters = Array(unused.prefix(ellipsisShape.count))
        var expanded = operands
        var newTerms: [String] = []
        for (k, term) in terms.enumerated() {
            guard term.contains("...") else { newTerms.append(term); continue }
            let mine = letters.suffix(spans[k])
            newTerms.append(term.replacingOccurrences(of: "...", with: String(mine)))
            // Size-1 ellipsis dims take the broadcast size.
            var target = operands[k].shape
            for (j, size) in ellipsisShape.suffix(spans[k]).enumerated() { target[starts[k] + j] = size }
            if target != operands[k].shape { expanded[k] = try operands[k].expand(target) }
        }
        let output: String
        if let explicitOutput {
            output = explicitOutput.replacingOccurrences(of: "...", with: String(letters))
        } else {
            var counts: [Character: Int] = [:]
            for c in terms.joined() where c != "." { counts[c, default: 0] += 1 }
            output = String(letters) + String(counts.filter { $0.value == 1 }.map(\.key).sorted())
        }
        return (newTerms, output, expanded)
    }

    /// One operand: sum over letters missing from `output`, then permute to its order.
    private static func reduceTerm(_ t: Tensor, _ letters: [Character], to output: [Character]) throws -> Tensor {
        let drop = letters.indices.filter { !output.contains(letters[$0]) }
        var x = t
        if !drop.isEmpty { x = try x.sum(dims: drop) }
        let kept = letters.filter { output.contains($0) }
        if kept.isEmpty { return x }
        return try x.permute(output.map { kept.firstIndex(of: $0)! })
    }

    /// Two operands: sum letters only one side needs, then [batch, M, K] x [batch, K, N] via bmm.
    private static func contractPair(_ a0: Tensor, _ la0: [Character], _ b0: Tensor, _ lb0: [Character],
                                     to output: [Character], sizes: [Character: Int]) throws -> Tensor {
        // Letters of one side that the other side and the output lack are summed away first.
        let aKeep = la0.filter { output.contains($0) || lb0.contains($0) }
        let bKeep = lb0.filter { output.contains($0) || la0.contains($0) }
        let a = try reduceTerm(a0, la0, to: aKeep), b = try reduceTerm(b0, lb0, to: bKeep)
        let batch = output.filter { aKeep.contains($0) && bKeep.contains($0) }
        let aFree = output.filter { aKeep.contains($0) && !bKeep.contains($0) }
        let bFree = output.filter { bKeep.contains($0) && !aKeep.contains($0) }
        let contracted = aKeep.filter { bKeep.contains($0) && !output.contains($0) }
        func size(_ ls: [Character]) -> Int { ls.reduce(1) { $0 * sizes[$1]! } }
        let nb = size(batch), m = size(aFree), n = size(bFree), k = size(contracted)
        let ap = try a.permute((batch + aFree + contracted).map { aKeep.firstIndex(of: $0)! }).reshape([nb, m, k])
        let bp = try b.permute((batch + contracted + bFree).map { bKeep.firstIndex(of: $0)! }).reshape([nb, k, n])
        let resultLetters = batch + aFree + bFree
        let r = try ap.bmm(bp).reshape(resultLetters.map { sizes[$0]! })
        if resultLetters.isEmpty { return r }
        return try r.permute(output.map { resultLetters.firstIndex(of: $0)! })
    }
}
