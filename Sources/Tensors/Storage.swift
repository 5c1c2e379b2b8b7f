/// A reference-counted buffer shared by a tensor and all its views. `version` is bumped by every
/// in-place write, so autograd can detect that a tensor saved for backward was modified.
///
/// ```swift
/// let t = Tensor.zeros([4]); try t.add_(1); t.storage.version   // 1
/// ```
public final class Storage {
    /// Start of the buffer (64-byte aligned).
    public let data: UnsafeMutableRawPointer
    /// Usable bytes (the allocator's bucket size, at least the requested size).
    public let byteCount: Int
    /// Bumped by every in-place op on any view of this storage.
    public internal(set) var version: Int = 0
    /// The bf16 copy bf16 products last rounded from this buffer (`BF16Copy.of`), checked against
    /// `version` before use.
    package var bf16: BF16Copy?

    /// Allocates an uninitialised buffer of at least `byteCount` bytes.
    public init(byteCount: Int) {
        (data, self.byteCount) = Allocator.allocate(byteCount)
    }

    deinit { Allocator.deallocate(data, size: byteCount) }

    func bumpVersion() { version &+= 1 }
}
