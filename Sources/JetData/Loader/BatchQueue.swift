import Foundation

/// A bounded first-in first-out queue between the producer thread and the consumer. The
/// producer blocks while it is full; the consumer blocks while it is empty and not finished.
/// Cancelling wakes both sides.
final class BatchQueue {
    private let condition = NSCondition()
    private var items: [Result<SetBatch, Error>] = []
    private var finished = false
    private(set) var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds an item, waiting for room; returns false when the consumer has gone away.
    func put(_ item: Result<SetBatch, Error>) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Marks the end of the stream (no more items will come).
    func finish() {
        condition.lock(); defer { condition.unlock() }
        finished = true
        condition.broadcast()
    }

    /// The next item, waiting for one; nil at the end of the stream.
    func take() -> Result<SetBatch, Error>? {
        condition.lock(); defer { condition.unlock() }
        while items.isEmpty && !finished && !cancelled { condition.wait() }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// Stops the producer at its next put and drops queued items.
    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        items.removeAll()
        condition.broadcast()
    }

    var isCancelled: Bool {
        condition.lock(); defer { condition.unlock() }
        return cancelled
    }
}
