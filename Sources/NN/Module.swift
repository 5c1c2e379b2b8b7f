import Tensors

/// The base of every network building block: named parameters, named buffers (saved state that
/// is not trained), named child modules, a train/eval flag, and a generic `forward`.
///
/// Subclasses register what they own in `init` and implement `forward(_:)`, the generic entry
/// used by containers and the Lua bindings, plus a typed `callAsFunction` for Swift callers.
/// There are no output or gradInput buffers: a forward returns fresh tensors and autograd keeps
/// what backward needs.
///
/// ```swift
/// let net = Sequential([Linear(7, 64), Activation(.silu), Linear(64, 1)])
/// let y = try net(x)                        // [T, 1]
/// for (name, p) in net.namedParameters() { print(name, p.shape) }   // "1.weight" [64, 7], ...
/// ```
open class Module {
    /// Parameters owned directly by this module, in registration order.
    public private(set) var ownParameters: [(name: String, tensor: Tensor)] = []
    /// Buffers (saved, not trained) owned directly by this module.
    public private(set) var ownBuffers: [(name: String, tensor: Tensor)] = []
    /// Direct children, in registration order.
    public private(set) var children: [(name: String, module: Module)] = []
    /// Train mode (dropout active) or eval mode.
    public private(set) var training = true

    public init() {}

    /// The name shown in printed trees and error messages ("Linear").
    open var typeName: String { String(describing: type(of: self)) }

    /// Configuration shown after the type name when printed ("in_features=7, out_features=64").
    open var extraDescription: String { "" }

    /// The arguments `forward` takes: required names, then optional ones (shown in errors).
    open var signature: Signature { Signature(["x"]) }

    /// Modules acting on each row independently (Linear, LayerNorm, ...). A container passes
    /// them only the first argument, so `Sequential(Linear, TransformerLayer)(x, offsets)` works.
    open var isRowWise: Bool { false }

    /// The generic forward: tensors (nil for an omitted optional argument) in, tensors out.
    /// The first output is what containers pass on. `base` is the caller's index convention
    /// (0 from Swift, 1 from Lua) for inputs holding ids or positions (Embedding, the MPM
    /// backbone's particle types); containers pass it on to their children unchanged.
    ///
    /// ```swift
    /// let rows = try embedding.forward([luaIds], base: .one)[0]   // ids counted from 1
    /// ```
    open func forward(_ inputs: [Tensor?], base: IndexBase) throws -> [Tensor] {
        throw TensorError("\(typeName): forward is not implemented")
    }

    /// The generic forward with Swift's 0-based convention: `forward(inputs, base: .zero)`.
    public final func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        try forward(inputs, base: .zero)
    }

    // MARK: Registration

    /// Registers `tensor` as a parameter named `name` (it is made to require grad) and returns it.
    @discardableResult
    public func registerParameter(_ name: String, _ tensor: Tensor) -> Tensor {
        // Parameters are freshly made float32 leaves, for which this cannot fail.
        _ = try? tensor.requiresGrad_(true)
        ownParameters.append((name, tensor))
        return tensor
    }

    /// Registers a buffer: saved in the state dict, never trained.
    @discardableResult
    public func registerBuffer(_ name: String, _ tensor: Tensor) -> Tensor {
        ownBuffers.append((name, tensor))
        return tensor
    }

    /// Registers a child module and returns it.
    @discardableResult
    public func registerChild<M: Module>(_ name: String, _ module: M) -> M {
        children.append((name, module))
        return module
    }

    /// Appends a child (containers); its name is its 1-based position. Containers' initialisers
    /// use it directly: a module made just now is in no tree yet, so no child can contain it.
    func appendChild(_ module: Module) {
        children.append((String(children.count + 1), module))
    }

    /// Appends a child to an existing container, refusing one whose tree holds this module.
    /// `operation` names the caller in the error ("Sequential:append").
    func appendChildRefusingCycles(_ module: Module, operation: String) throws {
        guard !module.contains(self) else {
            throw TensorError("\(operation): adding this module would make a cycle (a module cannot contain itself)")
        }
        appendChild(module)
    }

    /// Whether `other` is this module or one of its descendants (containers check this before
    /// adding a child, so a module tree never contains itself).
    public func contains(_ other: Module) -> Bool {
        var found = false
        visit(prefix: "") { _, m in if m === other { found = true } }
        return found
    }

    // MARK: Traversal (Swift side; the Lua protocol walks Lua modules too)

    /// All parameters of this module and its descendants with dotted names ("layers.1.weight"),
    /// each tensor once even when shared.
    public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var out: [(String, Tensor)] = []
        visit(prefix: prefix) { path, m in
            for (n, t) in m.ownParameters where seen.insert(ObjectIdentifier(t)).inserted {
                out.append((path + n, t))
            }
        }
        return out
    }

    /// All parameters, each once.
    public func parameters() -> [Tensor] { namedParameters().map { $0.tensor } }

    /// Every parameter and buffer by dotted name (the state dict). Tensors share storage with
    /// the module: copy them to keep a snapshot.
    public func stateDict(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = []
        visit(prefix: prefix) { path, m in
            for (n, t) in m.ownParameters { out.append((path + n, t.detach())) }
            for (n, t) in m.ownBuffers { out.append((path + n, t.detach())) }
        }
        return out
    }

    /// Copies tensors from `state` into this module's parameters and buffers. With `strict`,
    /// any missing, unexpected or mis-shaped key is an error listing all of them, and nothing is
    /// copied; otherwise matching keys are loaded and the lists returned (shape mismatches are
    /// always errors).
    @discardableResult
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws -> (missing: [String], unexpected: [String]) {
        try Module.loadState(into: stateDict(), from: state, strict: strict, owner: typeName)
    }

    /// Why `source` cannot be copied into `target` ("expected float32 [2,3], got float32 [2,4]"),
    /// or nil when it can.
    public static func misfit(_ target: Tensor, _ source: Tensor) -> String? {
        guard source.shape != target.shape || source.dtype != target.dtype else { return nil }
        return "expected \(target.dtype.name) \(formatShape(target.shape)), got \(source.dtype.name) \(formatShape(source.shape))"
    }

    /// The one state-dict check and copy, for Swift modules and (through the bindings) for the
    /// Lua module protocol, which finds the named targets by walking Lua fields. `invalid` names
    /// entries of `state` that are not tensors, with what they are. Lists come back sorted.
    /// ```swift
    /// let report = try Module.loadState(into: net.stateDict(), from: saved, strict: false, owner: "Net")
    /// ```
    @discardableResult
    public static func loadState(into targets: [(name: String, tensor: Tensor)], from state: [String: Tensor],
                                 invalid: [String: String] = [:], strict: Bool = true,
                                 owner: String) throws -> (missing: [String], unexpected: [String]) {
        let names = Set(targets.map { $0.name })
        let missing = targets.map { $0.name }.filter { state[$0] == nil && invalid[$0] == nil }.sorted()
        let unexpected = (Array(state.keys) + Array(invalid.keys)).filter { !names.contains($0) }.sorted()
        var misShaped: [String] = []
        for (n, t) in targets {
            if let s = state[n], let why = misfit(t, s) { misShaped.append("\(n) (\(why))") }
            if let what = invalid[n] { misShaped.append("\(n) (expected a tensor, got \(what))") }
        }
        misShaped.sort()
        if !misShaped.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
            if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
            if !misShaped.isEmpty { parts.append("mis-shaped keys: " + misShaped.joined(separator: ", ")) }
            throw TensorError("load_state_dict: the state dict does not fit \(owner) (" + parts.joined(separator: "; ") + ")")
        }
        try withNoGrad {
            for (n, t) in targets { if let s = state[n] { try t.copy_(s) } }
        }
        return (missing, unexpected)
    }

    /// Sets train (true) or eval (false) mode on this module only.
    open func setTraining(_ mode: Bool) { training = mode }

    /// Sets train or eval mode on this module and all descendants.
    public func train(_ mode: Bool = true) { visit(prefix: "") { _, m in m.setTraining(mode) } }

    /// Eval mode everywhere (dropout off).
    public func eval() { train(false) }

    /// Forgets all parameter gradients.
    public func zeroGrad() { for p in parameters() { p.grad = nil } }

    /// Number of parameter elements, each shared tensor counted once.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.numel } }

    /// Calls `body(path, module)` for this module and every descendant, depth first, each once.
    public func visit(prefix: String, _ body: (String, Module) -> Void) {
        var seen = Set<ObjectIdentifier>()
        var stack: [(String, Module)] = [(prefix, self)]
        while let (path, m) = stack.popLast() {
            guard seen.insert(ObjectIdentifier(m)).inserted else { continue }
            body(path, m)
            for (n, c) in m.children.reversed() { stack.append((path + n + ".", c)) }
        }
    }

    /// The one-line description: `Linear(in_features=7, out_features=64, bias=true)`.
    public var summary: String { "\(typeName)(\(extraDescription))" }

    /// A printed tree with parameter counts, one line per module.
    public var treeDescription: String {
        var lines: [String] = []
        func walk(_ m: Module, _ name: String?, _ depth: Int) {
            let indent = String(repeating: "  ", count: depth)
            let label = name.map { "(\($0)): " } ?? ""
            lines.append("\(indent)\(label)\(m.summary)  [\(formatCount(m.parameterCount)) params]")
            // A module already on the path is printed once more but not expanded (containers
            // refuse cycles; a subclass registering an ancestor must still not recurse forever).
            guard onPath.insert(ObjectIdentifier(m)).inserted else { return }
            defer { onPath.remove(ObjectIdentifier(m)) }
            for (n, c) in m.children { walk(c, n, depth + 1) }
        }
        var onPath = Set<ObjectIdentifier>()
        walk(self, nil, 0)
        return lines.joined(separator: "\n")
    }

    // MARK: Argument checking

    /// Checks the generic inputs against `signature`, padding omitted optionals with nil.
    /// ```swift
    /// let a = try arguments(inputs)   // a[0]! is x, a[1] is the optional offsets
    /// ```
    public func arguments(_ inputs: [Tensor?]) throws -> [Tensor?] {
        let sig = signature
        let total = sig.required.count + sig.optional.count
        guard inputs.count >= sig.required.count, inputs.count <= total else {
            throw TensorError("\(typeName): expected arguments \(sig) but got \(inputs.count)")
        }
        for (i, name) in sig.required.enumerated() where inputs[i] == nil {
            throw TensorError("\(typeName): argument \(i + 1) (\(name)) is required, got nil")
        }
        return inputs + [Tensor?](repeating: nil, count: total - inputs.count)
    }
}

/// The argument names of a module's forward, for messages: `(x, offsets [, context])`.
public struct Signature: CustomStringConvertible {
    public var required: [String]
    public var optional: [String]
    public init(_ required: [String], optional: [String] = []) {
        self.required = required
        self.optional = optional
    }
    public var description: String {
        var s = "(" + required.joined(separator: ", ")
        for o in optional { s += " [, \(o)]" }
        return s + ")"
    }
}
