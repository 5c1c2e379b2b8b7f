/// Generic elementwise kernels over strided, broadcast operands.
///
/// The elementwise function is passed as a value of its own type (an `Elementwise1/2/3`
/// struct), not as a closure: the kernel is then specialised for that type, the function is
/// inlined into the loop and the unit-stride loops vectorise. A closure argument ends up
/// captured by the parallel worker closure and called indirectly for every element, ten
/// times slower on `add`.

/// A function of one element, as a type the kernels specialise on.
protocol Elementwise1 {
    associatedtype A
    associatedtype R
    func callAsFunction(_ a: A) -> R
}

/// A function of two elements, as a type the kernels specialise on.
protocol Elementwise2 {
    associatedtype A
    associatedtype B
    associatedtype R
    func callAsFunction(_ a: A, _ b: B) -> R
}

/// A function of three elements, as a type the kernels specialise on.
protocol Elementwise3 {
    associatedtype A
    associatedtype B
    associatedtype C
    associatedtype R
    func callAsFunction(_ a: A, _ b: B, _ c: C) -> R
}

/// out[i] = f(a[i], b[i]) over `out.shape`, with `a` and `b` broadcast to it.
@inline(__always)
func binaryKernel<F: Elementwise2>(_ a: Tensor, _ b: Tensor, into out: Tensor, _ f: F) {
    let shape = out.shape
    let plan = StridedPlan(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
    let po = out.pointer(F.R.self), pa = a.pointer(F.A.self), pb = b.pointer(F.B.self)
    let so = plan.inner[0], sa = plan.inner[1], sb = plan.inner[2]
    plan.run { off, j0, j1 in
        let o = po + off[0], x = pa + off[1], y = pb + off[2]
        // In-place forms (out is a) get loops that read through `o` itself: LLVM vectorises only
        // after a runtime check that out and inputs do not overlap, which exact aliasing fails,
        // while a read and write through one pointer needs no check.
        if so == 1 && sa == 1 && sb == 1 {
            if UnsafeRawPointer(o) == UnsafeRawPointer(x) {
                let xo = UnsafeRawPointer(o).assumingMemoryBound(to: F.A.self)
                for j in j0..<j1 { o[j] = f(xo[j], y[j]) }
            } else {
                for j in j0..<j1 { o[j] = f(x[j], y[j]) }
            }
        } else if so == 1 && sa == 1 && sb == 0 {
            // A scalar or a column ([T, 1] against [T, D]) on the right.
            let v = y[0]
            if UnsafeRawPointer(o) == UnsafeRawPointer(x) {
                let xo = UnsafeRawPointer(o).assumingMemoryBound(to: F.A.self)
                for j in j0..<j1 { o[j] = f(xo[j], v) }
            } else {
                for j in j0..<j1 { o[j] = f(x[j], v) }
            }
        } else if so == 1 && sa == 0 && sb == 1 {
            let v = x[0]
            for j in j0..<j1 { o[j] = f(v, y[j]) }
        } else {
            for j in j0..<j1 { o[j * so] = f(x[j * sa], y[j * sb]) }
        }
    }
}

/// out[i] = f(a[i]) with `a` broadcast to `out.shape`.
@inline(__always)
func unaryKernel<F: Elementwise1>(_ a: Tensor, into out: Tensor, _ f: F) {
    let shape = out.shape
    let plan = StridedPlan(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape)])
    let po = out.pointer(F.R.self), pa = a.pointer(F.A.self)
    let so = plan.inner[0], sa = plan.inner[1]
    plan.run { off, j0, j1 in
        let o = po + off[0], x = pa + off[1]
        if so == 1 && sa == 1 && UnsafeRawPointer(o) == UnsafeRawPointer(x) {
            let xo = UnsafeRawPointer(o).assumingMemoryBound(to: F.A.self)   // in place, as in binaryKernel
            for j in j0..<j1 { o[j] = f(xo[j]) }
        } else if so == 1 && sa == 1 {
            for j in j0..<j1 { o[j] = f(x[j]) }
        } else {
            for j in j0..<j1 { o[j * so] = f(x[j * sa]) }
        }
    }
}

/// out[i] = f(a[i], b[i], c[i]) with all three broadcast to `out.shape`.
@inline(__always)
func ternaryKernel<F: Elementwise3>(_ a: Tensor, _ b: Tensor, _ c: Tensor, into out: Tensor, _ f: F) {
    let shape = out.shape
    let plan = StridedPlan(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape),
                                                   b.broadcastStrides(to: shape), c.broadcastStrides(to: shape)])
    let po = out.pointer(F.R.self), pa = a.pointer(F.A.self), pb = b.pointer(F.B.self), pc = c.pointer(F.C.self)
    let so = plan.inner[0], sa = plan.inner[1], sb = plan.inner[2], sc = plan.inner[3]
    plan.run { off, j0, j1 in
        let o = po + off[0], x = pa + off[1], y = pb + off[2], z = pc + off[3]
        if so == 1 && sa == 1 && sb == 1 && sc == 1 {
            for j in j0..<j1 { o[j] = f(x[j], y[j], z[j]) }
        } else if so == 1 && sa == 1 && sb == 0 && sc == 1 {
            // A scalar in the middle: masked_fill, where(mask, value, x).
            let v = y[0]
            for j in j0..<j1 { o[j] = f(x[j], v, z[j]) }
        } else if so == 1 && sa == 1 && sb == 1 && sc == 0 {
            let v = z[0]
            for j in j0..<j1 { o[j] = f(x[j], y[j], v) }
        } else {
            for j in j0..<j1 { o[j * so] = f(x[j * sa], y[j * sb], z[j * sc]) }
        }
    }
}

extension Tensor {
    /// A fresh f32 tensor of `shape` with out[i] = f(a[i], b[i], c[i]) (backward helper).
    static func map3<F: Elementwise3>(_ shape: [Int], _ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: F) -> Tensor
    where F.A == Float, F.B == Float, F.C == Float, F.R == Float {
        let out = Tensor(uninitialized: shape, dtype: .f32)
        ternaryKernel(a, b, c, into: out, f)
        return out
    }

    /// A fresh f32 tensor of `shape` with out[i] = f(a[i], b[i]) (backward helper).
    static func map2<F: Elementwise2>(_ shape: [Int], _ a: Tensor, _ b: Tensor, _ f: F) -> Tensor
    where F.A == Float, F.B == Float, F.R == Float {
        let out = Tensor(uninitialized: shape, dtype: .f32)
        binaryKernel(a, b, into: out, f)
        return out
    }

    /// This operand ready for an elementwise kernel over `shape`: a full-size operand whose last
    /// dim is strided (a transpose) is first made contiguous by the tiled copy, because the
    /// kernels' inner loop runs along the last dim and would read a new cache line per element.
    func elementwiseOperand(for shape: [Int]) -> Tensor {
        guard self.shape == shape, let last = strides.last, last != 1, numel > 1, !isContiguous else { return self }
        return contiguousData()
    }

    /// A 0-d tensor for a scalar operand: float32 next to a float tensor or for a fractional
    /// value, else int64 (so `ints + 1` stays int64, `ints * 0.5` becomes float32).
    func scalarOperand(_ s: Double) -> Tensor {
        if dtype == .f32 || s.rounded() != s || Swift.abs(s) > 9e15 { return Tensor.filled([], value: s, dtype: .f32) }
        return Tensor.filled([], value: s, dtype: .i64)
    }
}
