import Foundation

/// Define-by-run autograd: every differentiable op on a tensor that requires grad records a
/// `Node` (its input edges and a backward closure). `backward()` walks the recorded graph in
/// reverse topological order without recursion, so graphs 100k nodes deep are fine.

/// Gradient-recording mode, as a stack so scopes nest (`no_grad` inside `enable_grad`).
/// One stack per thread: several Lua states (tests, embedders) may run on different threads,
/// and one's `no_grad` scope must not switch recording off for another.
///
/// ```swift
/// GradMode.push(enabled: false); defer { GradMode.pop() }
/// ```
public enum GradMode {
    private static let scopes = ThreadLocalStack<Bool>()

    /// Whether ops are currently recorded on this thread.
    public static var isEnabled: Bool { scopes.top ?? true }

    /// Enters a scope with recording on or off (the bindings' `mpm.no_grad()` pushes false).
    public static func push(enabled: Bool) { scopes.push(enabled) }

    /// Leaves the innermost scope; unbalanced pops are ignored.
    public static func pop() { scopes.pop() }

    /// How many scopes are open on this thread (the Lua side saves a coroutine's own scopes
    /// above the depth it was resumed at, docs/reliability.md "Coroutines").
    public static var depth: Int { scopes.depth }
}

/// Runs `body` with gradient recording off.
/// ```swift
/// let y = try withNoGrad { try w.mul(2) }   // y.requiresGrad == false
/// ```
@discardableResult
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    GradMode.push(enabled: false)
    defer { GradMode.pop() }
    return try body()
}

/// Where a gradient flows from a node: into another node, into a leaf's `.grad`, or nowhere.
enum Edge {
    case none
    case node(Node)
    case leaf(Tensor)
}

/// One recorded op: its input edges and the closure mapping the output gradient to one
/// gradient per input (nil where an input needs none).
public final class Node {
    /// The op that recorded this node (shown as `grad_fn=<name>`).
    public let name: String
    var inputs: [Edge]
    var backwardFn: ((Tensor) throws -> [Tensor?])?

    // Multi-output nodes (only `Tensor.custom`, Tensor+CustomFunction.swift, makes them).
    // A node with `outputCount > 1` is no tensor's `gradFn`: each output tensor gets its own
    // selector node (`selectsOutput = k`, identity backward, one edge to the shared node), and
    // `runBackward` files what a selector passes on into slot k of the shared node's gradient
    // list instead of summing it with the others. Once every reachable selector has run, the
    // shared node's `multiBackwardFn` gets one optional gradient per output (nil where none
    // arrived). Ordinary nodes keep `outputCount == 1` and `selectsOutput == nil`.
    let outputCount: Int
    var multiBackwardFn: (([Tensor?]) throws -> [Tensor?])?
    let selectsOutput: Int?

    init(name: String, inputs: [Edge], backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backwardFn = backward
        self.outputCount = 1
        self.multiBackwardFn = nil
        self.selectsOutput = nil
    }

    /// A shared node for `outputCount` (>= 2) outputs.
    init(name: String, inputs: [Edge], outputCount: Int, backward: @escaping ([Tensor?]) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backwardFn = nil
        self.outputCount = outputCount
        self.multiBackwardFn = backward
        self.selectsOutput = nil
    }

    /// The selector node standing for output `index` of the shared node `node`.
    init(name: String, selecting index: Int, of node: Node) {
        self.name = name
        self.inputs = [.node(node)]
        self.backwardFn = { g in [g] }
        self.outputCount = 1
        self.multiBackwardFn = nil
        self.selectsOutput = index
    }

    /// Tears the graph down iteratively: releasing the last tensor of a 200k-long chain must
    /// not recurse 200k deinits deep.
    deinit {
        var stack: [Node] = []
        for e in inputs { if case .node(let n) = e { stack.append(n) } }
        inputs = []
        while var n = stack.popLast() {
            if isKnownUniquelyReferenced(&n) {
                for e in n.inputs { if case .node(let m) = e { stack.append(m) } }
                n.inputs = []
            }
        }
    }
}

/// A tensor saved for backward: a detached alias plus its storage version at save time.
struct Saved {
    let tensor: Tensor
    let version: Int
    let op: String

    init(_ t: Tensor, op: String) {
        tensor = t.detach()
        version = t.storage.version
        self.op = op
    }

    /// The saved tensor, or an error when it was modified in place since it was saved.
    func get() throws -> Tensor {
        if tensor.storage.version != version {
            throw TensorError("backward: a tensor needed for backward (saved by \(op)) was modified in place (version \(version) -> \(tensor.storage.version))")
        }
        return tensor
    }
}

/// The version of a tensor whose values a backward keeps in another form (a bf16 linear layer
/// keeps its input's bf16 copy): the same check as `Saved`, without keeping the tensor's memory
/// alive. Once nothing else holds the storage, nothing can modify it.
struct SavedVersion {
    weak var storage: Storage?
    let version: Int
    let op: String

    init(_ t: Tensor, op: String) {
        storage = t.storage
        version = t.storage.version
        self.op = op
    }

    /// An error when the tensor was modified in place since it was saved.
    func check() throws {
        if let storage, storage.version != version {
            throw TensorError("backward: a tensor needed for backward (saved by \(op)) was modified in place (version \(version) -> \(storage.version))")
        }
    }
}

extension Tensor {
    /// Records `output` as produced by `name` from `inputs` when grad mode is on and any input
    /// requires grad. The closure must capture only `Saved` values and plain data, never the
    /// input tensors themselves, so that graphs hold no cycles.
    @discardableResult
    static func record(_ name: String, _ output: Tensor, _ inputs: [Tensor],
                       _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return output }
        output.requiresGrad = true
        output.gradFn = Node(name: name, inputs: edges(inputs), backward: backward)
        return output
    }

    /// Records several outputs of one op on one shared node (a selector node per float output,
    /// see `Node.selectsOutput`): `backward` gets one optional gradient per output, nil where
    /// none arrived, and runs once. Same contract as `record` otherwise.
    @discardableResult
    static func recordOutputs(_ name: String, _ outputs: [Tensor], _ inputs: [Tensor],
                              _ backward: @escaping ([Tensor?]) throws -> [Tensor?]) -> [Tensor] {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return outputs }
        let shared = Node(name: name, inputs: edges(inputs), outputCount: outputs.count, backward: backward)
        for (k, r) in outputs.enumerated() where r.dtype == .f32 {
            r.requiresGrad = true
            r.gradFn = Node(name: name, selecting: k, of: shared)
        }
        return outputs
    }

    /// Where the gradient of each input goes: its node, its `.grad` (a leaf), or nowhere.
    static func edges(_ inputs: [Tensor]) -> [Edge] {
        inputs.map { t in
            guard t.requiresGrad else { return .none }
            if let n = t.gradFn { return .node(n) }
            return .leaf(t)
        }
    }

    /// A tensor sharing this one's storage, cut from the graph.
    /// ```swift
    /// let target = y.detach()
    /// ```
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// Sets whether this leaf records operations; only f32 tensors can require grad.
    /// ```swift
    /// let w = try Tensor.randn([3, 3]).requiresGrad_()
    /// ```
    @discardableResult
    public func requiresGrad_(_ flag: Bool = true) throws -> Tensor {
        if flag && dtype != .f32 {
            throw TensorError("requires_grad: only float32 tensors can require gradients (tensor is \(dtype.name))")
        }
        if !flag && gradFn != nil {
            throw TensorError("requires_grad: cannot turn off requires_grad on a non-leaf tensor (use detach())")
        }
        requiresGrad = flag
        return self
    }

    /// Throws when an in-place op would corrupt autograd: modifying a leaf that requires grad
    /// while recording.
    func checkInPlace(_ op: String) throws {
        if GradMode.isEnabled && requiresGrad && gradFn == nil {
            throw TensorError("\(op): a leaf tensor that requires grad cannot be modified in place (wrap the update in withNoGrad / mpm.no_grad, or detach() it)")
        }
    }

    /// Applies an in-place op. When recording, the op is computed out of place on a
    /// differentiable clone, written back, and this tensor's history is rebased on the result;
    /// otherwise `fast` writes straight into this tensor's memory.
    @discardableResult
    func inPlace(_ op: String, others: [Tensor] = [], compute: (Tensor) throws -> Tensor,
                 fast: () throws -> Void) throws -> Tensor {
        try checkInPlace(op)
        if GradMode.isEnabled && (requiresGrad || others.contains(where: { $0.requiresGrad })) {
            let r = try compute(try clone())
            guard r.shape == shape else {
                throw TensorError("\(op): result shape \(formatShape(r.shape)) does not match the in-place target \(formatShape(shape))")
            }
            let data = r.dtype == dtype ? r : r.to(dtype, copyAlways: false)
            data.copyElements(into: self, shape: shape, srcStrides: data.strides)
            storage.bumpVersion()
            requiresGrad = r.requiresGrad
            gradFn = r.gradFn
            return self
        }
        try fast()
        storage.bumpVersion()
        return self
    }

    /// Sums a broadcast gradient back to `target` shape (the inverse of broadcasting).
    func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = dim - target.count
        var dims = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[i + lead] != 1 { dims.append(i + lead) }
        let s = dims.isEmpty ? self : try sum(dims: dims, keepDim: true)
        return try s.reshape(target)
    }

    /// Accumulates gradients from this tensor into the `.grad` of the leaves it depends on.
    /// `gradient` is required unless the tensor holds one element. Without `retainGraph` the
    /// saved tensors are released and a second call throws.
    /// ```swift
    /// try loss.backward()
    /// ```
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        guard requiresGrad else {
            throw TensorError("backward: tensor does not require grad (no input of the computation had requires_grad set, or it was computed under no_grad)")
        }
        let seed = try Tensor.seedGradient(for: self, gradient, op: "backward")
        if let n = gradFn {
            _ = try Tensor.runBackward(roots: [(n, seed)], retainGraph: retainGraph, capture: [:])
        } else {
            try Tensor.accumulate(leaf: self, seed)
        }
    }

    static func seedGradient(for t: Tensor, _ gradient: Tensor?, op: String) throws -> Tensor {
        if let g = gradient {
            guard g.shape == t.shape else {
                throw TensorError("\(op): gradient has shape \(formatShape(g.shape)) but the output has shape \(formatShape(t.shape))")
            }
            return g.dtype == .f32 ? g : g.to(.f32, copyAlways: false)
        }
        guard t.numel == 1 else {
            throw TensorError("\(op): output has shape \(formatShape(t.shape)); backward without a gradient needs a scalar (one element), so pass a gradient of the output's shape")
        }
        return Tensor.filled(t.shape, value: 1, dtype: .f32)
    }

    static func accumulate(leaf: Tensor, _ g: Tensor) throws {
        guard g.shape == leaf.shape else {
            throw TensorError("backward: internal gradient shape \(formatShape(g.shape)) does not match leaf \(formatShape(leaf.shape))")
        }
        try withNoGrad {
            if let existing = leaf.grad {
                try existing.add_(g)
            } else {
                leaf.grad = g.contiguousData()
            }
        }
    }

    /// Runs the backward pass from several roots. `capture` maps an input's identity (a leaf
    /// tensor or a non-leaf's node) to its slot in the result; when it is non-empty, leaves'
    /// `.grad` are left untouched (functional mode).
    static func runBackward(roots: [(Node, Tensor)], retainGraph: Bool,
                            capture: [ObjectIdentifier: Int]) throws -> [Tensor?] {
        var captured = [Tensor?](repeating: nil, count: capture.count)
        let functional = !capture.isEmpty
        // Pass 1: count, for every reachable node, the edges that lead into it.
        var deps: [ObjectIdentifier: Int] = [:]
        var visited = Set<ObjectIdentifier>()
        var stack = roots.map { $0.0 }
        for r in stack { visited.insert(ObjectIdentifier(r)) }
        while let n = stack.popLast() {
            for e in n.inputs {
                guard case .node(let m) = e else { continue }
                let id = ObjectIdentifier(m)
                deps[id, default: 0] += 1
                if visited.insert(id).inserted { stack.append(m) }
            }
        }
        // Pass 2: Kahn's algorithm; a node runs once all gradients flowing into it are summed.
        var grads: [ObjectIdentifier: Tensor] = [:]
        // Per-output gradients of multi-output nodes (see `Node.selectsOutput`).
        var slotGrads: [ObjectIdentifier: [Tensor?]] = [:]
        for (n, g) in roots {
            let id = ObjectIdentifier(n)
            grads[id] = try grads[id].map { try $0.add(g) } ?? g
        }
        var seen = Set<ObjectIdentifier>()
        var ready = roots.map { $0.0 }.filter {
            (deps[ObjectIdentifier($0)] ?? 0) == 0 && seen.insert(ObjectIdentifier($0)).inserted
        }
        GradMode.push(enabled: false)
        defer { GradMode.pop() }
        while let n = ready.popLast() {
            let id = ObjectIdentifier(n)
            // A node no gradient reached still releases its inputs' dependency counts.
            var inGrads = [Tensor?](repeating: nil, count: n.inputs.count)
            if n.outputCount > 1 {
                if let gs = slotGrads.removeValue(forKey: id) {
                    guard let fn = n.multiBackwardFn else {
                        throw TensorError("backward: graph already freed (its saved tensors were released by an earlier backward through \(n.name)); use retain_graph (retainGraph: true) on the first backward")
                    }
                    inGrads = try fn(gs)
                }
            } else if let g = grads.removeValue(forKey: id) {
                if let slot = capture[id] { captured[slot] = g }
                guard let fn = n.backwardFn else {
                    throw TensorError("backward: graph already freed (its saved tensors were released by an earlier backward through \(n.name)); use retain_graph (retainGraph: true) on the first backward")
                }
                inGrads = try fn(g)
            }
            if !retainGraph { n.backwardFn = nil; n.multiBackwardFn = nil }
            for (e, ig) in zip(n.inputs, inGrads) {
                switch e {
                case .none: continue
                case .leaf(let t):
                    guard let ig else { continue }
                    if functional {
                        if let slot = capture[ObjectIdentifier(t)] {
                            captured[slot] = try captured[slot].map { try $0.add(ig) } ?? ig
                        }
                    } else {
                        try accumulate(leaf: t, ig)
                    }
                case .node(let m):
                    let mid = ObjectIdentifier(m)
                    if let ig {
                        if let k = n.selectsOutput {
                            var slots = slotGrads[mid] ?? [Tensor?](repeating: nil, count: m.outputCount)
                            slots[k] = try slots[k].map { try $0.add(ig) } ?? ig
                            slotGrads[mid] = slots
                        } else {
                            grads[mid] = try grads[mid].map { try $0.add(ig) } ?? ig
                        }
                    }
                    deps[mid]! -= 1
                    if deps[mid]! == 0 { ready.append(m) }
                }
            }
        }
        return captured
    }

    /// Gradients of `outputs` with respect to `inputs`, without touching any `.grad`
    /// (the functional form behind `mpm.autograd.grad`). Inputs the outputs do not depend on get nil.
    /// ```swift
    /// let g = try Tensor.autogradGrad(outputs: [loss], inputs: [w])[0]
    /// ```
    public static func autogradGrad(outputs: [Tensor], inputs: [Tensor], gradOutputs: [Tensor?]? = nil,
                                    retainGraph: Bool = false) throws -> [Tensor?] {
        if let go = gradOutputs, go.count != outputs.count {
            throw TensorError("autograd.grad: \(outputs.count) outputs but \(go.count) output gradients")
        }
        var capture: [ObjectIdentifier: Int] = [:]
        for (i, t) in inputs.enumerated() {
            guard t.requiresGrad else {
                throw TensorError("autograd.grad: input \(index: i) does not require grad")
            }
            capture[t.gradFn.map { ObjectIdentifier($0) } ?? ObjectIdentifier(t)] = i
        }
        var roots: [(Node, Tensor)] = []
        var direct = [Tensor?](repeating: nil, count: inputs.count)
        for (i, o) in outputs.enumerated() {
            guard o.requiresGrad else {
                throw TensorError("autograd.grad: output \(index: i) does not require grad")
            }
            let seed = try seedGradient(for: o, gradOutputs?[i], op: "autograd.grad")
            if let n = o.gradFn { roots.append((n, seed)) } else if let slot = capture[ObjectIdentifier(o)] {
                direct[slot] = seed
            }
        }
        // A sentinel key keeps functional mode on even when every requested input is a root.
        var result = try runBackward(roots: roots, retainGraph: retainGraph,
                                     capture: capture.isEmpty ? [ObjectIdentifier(Tensor.self): 0] : capture)
        if capture.isEmpty { result = [] }
        for i in 0..<inputs.count where direct[i] != nil {
            result[i] = try result[i].map { try $0.add(direct[i]!) } ?? direct[i]
        }
        return result
    }
}
