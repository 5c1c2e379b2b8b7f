/// Generic elementwise kernels over strided, broadcast operands. Each takes the op as an
/// inlined closure, so the specialised loop compiles to the same code as a hand-written one;
/// the unit-stride branches are the ones the optimiser vectorises.

/// out[i] = op(a[i], b[i]) over `out.shape`, with `a` and `b` broadcast to it.
@inline(__always)
func binaryKernel<A, B, R>(_ a: Tensor, _ b: Tensor, into out: Tensor, _ op: (A, B) -> R) {
    let shape = out.shape
    let plan = StridedPlan(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
    let po = out.pointer(R.self), pa = a.pointer(A.self), pb = b.pointer(B.self)
    let so = plan.inner[0], sa = plan.inner[1], sb = plan.inner[2]
    plan.run { r, j0, j1 in
        let o = po + plan.base(r, 0), x = pa + plan.base(r, 1), y = pb + plan.base(r, 2)
        if so == 1 && sa == 1 && sb == 1 {
            for j in j0..<j1 { o[j] = op(x[j], y[j]) }
        } else if so == 1 && sa == 1 && sb == 0 {
            let v = y[0]
            for j in j0..<j1 { o[j] = op(x[j], v) }
        } else if so == 1 && sa == 0 && sb == 1 {
            let v = x[0]
            for j in j0..<j1 { o[j] = op(v, y[j]) }
        } else {
            for j in j0..<j1 { o[j * so] = op(x[j * sa], y[j * sb]) }
        }
    }
}

/// out[i] = op(a[i]) with `a` broadcast to `out.shape`.
@inline(__always)
func unaryKernel<A, R>(_ a: Tensor, into out: Tensor, _ op: (A) -> R) {
    let shape = out.shape
    let plan = StridedPlan(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape)])
    let po = out.pointer(R.self), pa = a.pointer(A.self)
    let so = plan.inner[0], sa = plan.inner[1]
    plan.run { r, j0, j1 in
        let o = po + plan.base(r, 0), x = pa + plan.base(r, 1)
        if so == 1 && sa == 1 {
            for j in j0..<j1 { o[j] = op(x[j]) }
        } else {
            for j in j0..<j1 { o[j * so] = op(x[j * sa]) }
        }
    }
}

/// out[i] = op(a[i], b[i], c[i]) with all three broadcast to `out.shape`.
@inline(__always)
func ternaryKernel<A, B, C, R>(_ a: Tensor, _ b: Tensor, _ c: Tensor, into out: Tensor, _ op: (A, B, C) -> R) {
    let shape = out.shape
    let plan = StridedPlan(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape),
                                                   b.broadcastStrides(to: shape), c.broadcastStrides(to: shape)])
    let po = out.pointer(R.self), pa = a.pointer(A.self), pb = b.pointer(B.self), pc = c.pointer(C.self)
    let so = plan.inner[0], sa = plan.inner[1], sb = plan.inner[2], sc = plan.inner[3]
    plan.run { r, j0, j1 in
        let o = po + plan.base(r, 0), x = pa + plan.base(r, 1), y = pb + plan.base(r, 2), z = pc + plan.base(r, 3)
        if so == 1 && sa == 1 && sb == 1 && sc == 1 {
            for j in j0..<j1 { o[j] = op(x[j], y[j], z[j]) }
        } else {
            for j in j0..<j1 { o[j * so] = op(x[j * sa], y[j * sb], z[j * sc]) }
        }
    }
}

extension Tensor {
    /// A fresh f32 tensor of `shape` with out[i] = f(a[i], b[i], c[i]) (backward helper).
    static func map3(_ shape: [Int], _ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape, dtype: .f32)
        ternaryKernel(a, b, c, into: out, f)
        return out
    }

    /// A fresh f32 tensor of `shape` with out[i] = f(a[i], b[i]) (backward helper).
    static func map2(_ shape: [Int], _ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape, dtype: .f32)
        binaryKernel(a, b, into: out, f)
        return out
    }

    /// A 0-d tensor for a scalar operand: float32 next to a float tensor or for a fractional
    /// value, else int64 (so `ints + 1` stays int64, `ints * 0.5` becomes float32).
    func scalarOperand(_ s: Double) -> Tensor {
        if dtype == .f32 || s.rounded() != s || Swift.abs(s) > 9e15 { return Tensor.filled([], value: s, dtype: .f32) }
        return Tensor.filled([], value: s, dtype: .i64)
    }
}
