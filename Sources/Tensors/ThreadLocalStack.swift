import Foundation

/// A stack of values per thread: the scopes of a per-thread mode (GradMode, Precision) nest on
/// it, and one thread's scope never changes another's (several Lua states may run on different
/// threads; the kernels' workers take their caller's modes from `parallelRegion`).
///
/// ```swift
/// static let scopes = ThreadLocalStack<Bool>()
/// scopes.push(false); defer { scopes.pop() }
/// let enabled = scopes.top ?? true
/// ```
final class ThreadLocalStack<Value>: @unchecked Sendable {
    private final class Box { var values: [Value] = [] }

    private let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<AnyObject>.fromOpaque(pointer).release() }
        }
        return key
    }()

    private var box: Box {
        if let pointer = pthread_getspecific(key) { return Unmanaged<Box>.fromOpaque(pointer).takeUnretainedValue() }
        let box = Box()
        pthread_setspecific(key, Unmanaged.passRetained(box).toOpaque())
        return box
    }

    /// The innermost value on this thread, nil outside every scope.
    var top: Value? { box.values.last }

    /// Enters a scope.
    func push(_ value: Value) { box.values.append(value) }

    /// Leaves the innermost scope; unbalanced pops are ignored.
    func pop() { _ = box.values.popLast() }

    /// How many scopes are open on this thread.
    var depth: Int { box.values.count }
}
