import CCPU
import Foundation

/// The precision of matrix products, chosen for a scope of code on one thread, as `no_grad`
/// chooses recording (DESIGN.md, "Tensors": mixed precision changes only the products). Inside
/// `Precision.with(.bf16)`, the products of linear layers, `matmul` and attention may round
/// their inputs to bfloat16 (round to nearest even) and accumulate in fp32 with an fp32 result;
/// everything else (weights, optimiser state, reductions, softmax, norms, losses) is fp32 as
/// always. The product layer (Products.swift) uses bf16 only where it measured faster
/// (docs/architecture.md, "Matrix products"), so a small product may still run in fp32.
///
/// Each differentiable product records the precision of its forward and its backward runs in
/// the same, whatever scope `backward()` is called in. The kernels' workers take their caller's
/// precision (`parallelRegion`). On a CPU without bf16 instructions (`Precision.bf16.isAvailable`
/// false: no AVX512_BF16, or oneDNN did not pick a bf16 kernel set) bf16 scopes run their
/// products in fp32; `Precision.bf16.fallbackNote` says so in one line.
///
/// ```swift
/// let loss = try Precision.with(.bf16) { try model.forward(x).mse(target) }
/// try loss.backward()          // the products of the backward run in bf16 too
/// print(Precision.bf16.fallbackNote ?? "bf16 products on this CPU")
/// ```
public enum Precision: String, Sendable, CaseIterable {
    /// fp32 inputs, fp32 accumulation (the default outside every scope).
    case fp32
    /// bfloat16 inputs (8-bit mantissa), fp32 accumulation and output.
    case bf16

    private static let scopes = ThreadLocalStack<Precision>()

    /// The precision this thread's products are asked for: the innermost scope's, fp32 outside.
    public static var current: Precision { scopes.top ?? .fp32 }

    /// Runs `body` with this thread's products in `precision`, restoring the outer precision
    /// even when `body` throws.
    /// ```swift
    /// let y = try Precision.with(.bf16) { try Functional.linear(x, weight: w, bias: b) }
    /// ```
    @discardableResult
    public static func with<R>(_ precision: Precision, _ body: () throws -> R) rethrows -> R {
        scopes.push(precision)
        defer { scopes.pop() }
        return try body()
    }

    /// Enters a scope (the bindings' `mpm.autocast` and `parallelRegion`'s workers).
    public static func push(_ precision: Precision) { scopes.push(precision) }

    /// Leaves the innermost scope; unbalanced pops are ignored.
    public static func pop() { scopes.pop() }

    /// How many precision scopes are open on this thread.
    public static var depth: Int { scopes.depth }

    /// Whether products asked for this precision run in it on this machine: always for fp32; for
    /// bf16 when the CPU has AVX512_BF16 and oneDNN loaded with a bf16 kernel set.
    public var isAvailable: Bool {
        switch self {
        case .fp32: return true
        case .bf16: return Precision.bf16Hardware
        }
    }

    /// The precision products asked for this one actually run in here (fp32 where bf16 is not
    /// available).
    public var effective: Precision { isAvailable ? self : .fp32 }

    /// One line saying that and why this precision falls back to fp32 here, nil when it does not.
    public var fallbackNote: String? {
        guard !isAvailable else { return nil }
        let flags = CPUFlags.current()
        let reason = flags.avx512bf16 ? "oneDNN did not pick a bf16 kernel set (\(OneDNN.isaName))"
            : "this CPU has no AVX512_BF16 instructions"
        return "precision \(rawValue): \(reason); matrix products run in fp32"
    }

    private static let bf16Hardware: Bool = CPUFlags.current().avx512bf16 && OneDNN.hasBF16Kernels
}
