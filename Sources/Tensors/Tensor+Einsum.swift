/// Einstein summation (torch.einsum) for the common patterns, composed from differentiable
/// views, `sum` and `bmm`, so autograd needs no extra backward code.
///
/// Supported: explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`: the output is the letters that
/// appear once, sorted) equations over one or more operands. Several operands are contracted
/// left to right. Not supported (a clear error is thrown): `...` ellipsis and a letter repeated
/// inside one operand (diagonals such as `"ii->i"`).

extension Tensor {
    /// Einstein summation over `operands` as described by `equation`.
    /// ```swift
    /// let c = try Tensor.einsum("ij,jk->ik", [a, b])          // matmul
    /// let s = try Tensor.einsum("bhid,bhjd->bhij", [q, k])    // attention scores
    /// ```
    public static func einsum(_ equation: String, _ operands: [Tensor]) throws -> Tensor {
        let eq = equation.filter { !$0.isWhitespace }
        guard !eq.contains(".") else {
            throw TensorError("einsum: '...' (ellipsis) is not supported in \"\(equation)\"")
        }
        let sides = eq.components(separatedBy: "->")
        guard sides.count <= 2 else {
            throw TensorError("einsum: equation \"\(equation)\" has more than one '->'")
        }
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        guard !operands.isEmpty else { throw TensorError("einsum: expected at least one operand") }
        guard terms.count == operands.count else {
            throw TensorError("einsum: equation \"\(equation)\" has \(terms.count) operand term(s) but \(operands.count) tensor(s) were given")
        }
        var sizes: [Character: Int] = [:]
        var counts: [Character: Int] = [:]
        for (k, (term, t)) in zip(terms, operands).enumerated() {
            for c in term where !(c.isASCII && c.isLetter) {
                throw TensorError("einsum: invalid character '\(c)' in \"\(equation)\" (subscripts must be letters a-z, A-Z)")
            }
            guard term.count == t.dim else {
                throw TensorError("einsum: operand \(k + 1) has \(t.dim) dims (shape \(shapeString(t.shape))) but its subscripts \"\(String(term))\" name \(term.count)")
            }
            guard Set(term).count == term.count else {
                throw TensorError("einsum: repeated subscript in \"\(String(term))\" (operand \(k + 1)): diagonals are not supported")
            }
            for (d, c) in term.enumerated() {
                if let s = sizes[c], s != t.shape[d] {
                    throw TensorError("einsum: subscript '\(c)' has size \(s) in an earlier dim but size \(t.shape[d]) in operand \(k + 1) (shape \(shapeString(t.shape)))")
                }
                sizes[c] = t.shape[d]
                counts[c, default: 0] += 1
            }
        }
        let output: [Character]
        if sides.count == 2 {
            output = Array(sides[1])
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
